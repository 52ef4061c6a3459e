package main_test

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/testdb"
)

// TestWorkerServesItsMetrics: `wdai worker` alone (a split deployment)
// serves /metrics on METRICS_ADDR, with its providers' circuit breakers.
func TestWorkerServesItsMetrics(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	worker := start(t, map[string]string{"DATABASE_URL": testdb.NewURL(t), "METRICS_ADDR": metricsAddr,
		"CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far, "CRON_MAILCHIMP_RESYNC": far, "CRON_STRIPE_RECONCILE": far}, "worker")
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(body, "wdai_provider_circuit_state") {
		time.Sleep(200 * time.Millisecond)
		resp, err := httpGet(t, "http://"+metricsAddr+"/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			body = string(b)
		}
	}
	for _, want := range []string{`wdai_provider_circuit_state{provider="mailchimp"} 0`, "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Fatalf("worker /metrics on METRICS_ADDR lacks %q:\n%.2000s\n--- output:\n%s", want, body, worker.output())
		}
	}
	worker.stop(t, syscall.SIGTERM)
}

// TestWorkerRefusesASmallPoolBeforeSayingItRuns: a WORKER_DB_MAX_CONNS below
// the need stops the worker with the number needed, and it never logs that
// it runs.
func TestWorkerRefusesASmallPoolBeforeSayingItRuns(t *testing.T) {
	t.Parallel()
	worker := start(t, map[string]string{"DATABASE_URL": testdb.NewURL(t), "WORKER_DB_MAX_CONNS": "5"}, "worker")
	select {
	case err := <-worker.done:
		worker.done <- err
		if err == nil {
			t.Fatalf("the worker exited cleanly with too small a pool:\n%s", worker.output())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker did not refuse WORKER_DB_MAX_CONNS=5:\n%s", worker.output())
	}
	out := worker.output()
	if !strings.Contains(out, "WORKER_DB_MAX_CONNS=5 is too small") {
		t.Fatalf("no reason given:\n%s", out)
	}
	if strings.Contains(out, "wdai worker running") {
		t.Fatalf("the worker said it runs before refusing:\n%s", out)
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

const ingestClients = 16

// BenchmarkWebhookIngest measures durable webhook ingest under concurrent
// load: signed POSTs over loopback to the real handler (verify, store in the
// inbox, queue stripe.event, in one transaction), from 16 clients. It
// reports requests/s with p50 and p99, and, from the same run on the same
// server, pgbench running the same transaction with 16 clients, and the
// ratio of the two.
func BenchmarkWebhookIngest(b *testing.B) {
	dbURL := testdb.NewURL(b)
	cfg, err := config.LoadFrom(map[string]string{"DATABASE_URL": dbURL, "STRIPE_WEBHOOK_SECRET": testWebhookSecret, "STRIPE_SECRET_KEY": "sk_test_bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := postgres.Open(ctx, dbURL, postgres.PoolConfig{MaxConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	sys, err := buildSystemWith(cfg, pool, slog.New(slog.DiscardHandler), ports.SystemClock{})
	if err != nil {
		b.Fatal(err)
	}
	migrator, err := postgres.NewMigrator(pool)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = migrator.Close() }()
	handler, err := buildHTTP(sys, migrator)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(b.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	url := "http://" + ln.Addr().String() + "/webhooks/stripe"

	template, err := os.ReadFile(filepath.Join("..", "..", "adapters", "stripe", "testdata", "customer.subscription.updated.json"))
	if err != nil {
		b.Fatal(err)
	}
	idRE := regexp.MustCompile(`"id":\s*"evt_[^"]*"`)
	bodies := make([][]byte, b.N)
	headers := make([]string, b.N)
	for i := range b.N {
		event := idRE.ReplaceAll(template, fmt.Appendf(nil, `"id": "evt_bench_%d_%d"`, time.Now().UnixNano(), i))
		bodies[i], headers[i] = stripefake.SignedWebhookAt(testWebhookSecret, event, time.Now())
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: ingestClients, MaxConnsPerHost: ingestClients}}

	latencies := make([]time.Duration, b.N)
	var next sync.Mutex
	i := 0
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range ingestClients {
		wg.Go(func() {
			for {
				next.Lock()
				n := i
				i++
				next.Unlock()
				if n >= b.N {
					return
				}
				req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, url, bytes.NewReader(bodies[n]))
				req.Header.Set("Stripe-Signature", headers[n])
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				latencies[n] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latencies)
	rps := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
	if b.N < 2000 {
		return // the calibration rounds: no baseline needed
	}
	tps := pgbenchSameTransaction(b, dbURL, template)
	b.ReportMetric(tps, "pgbench-tx/s")
	b.ReportMetric(rps/tps, "ratio")
}

// pgbenchSameTransaction runs the ingest transaction (inbox insert, kind
// included, and outbox insert, in one transaction) with pgbench, 16 clients,
// 5 seconds.
func pgbenchSameTransaction(b *testing.B, dbURL string, payload []byte) float64 {
	b.Helper()
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(matches) == 0 {
			b.Fatal("pgbench not found: install the Debian package postgresql")
		}
		bin = matches[len(matches)-1]
	}
	literal := strings.ReplaceAll(string(bytes.TrimSpace(payload)), "'", "''")
	literal = strings.ReplaceAll(literal, "\n", " ")
	script := fmt.Sprintf(`\set id random(1, 4000000000000000000)
BEGIN;
INSERT INTO billing_inbox (event_id, kind, type, created, payload, source, subscription_id, customer_id)
  VALUES ('evt_pgb_' || :id, 'subscription_changed', 'customer.subscription.updated', now(), '%s'::jsonb, 'webhook', 'sub_1', 'cus_1') ON CONFLICT (event_id) DO NOTHING;
INSERT INTO "watermill_billing.event" (uuid, payload, metadata)
  VALUES (gen_random_uuid()::text, convert_to('{"event_id":"evt_pgb_' || :id || '"}', 'UTF8'), '{"correlation_id":"x"}');
COMMIT;
`, literal)
	file := filepath.Join(b.TempDir(), "ingest.sql")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.CommandContext(b.Context(), bin, "-n", "-c", strconv.Itoa(ingestClients), "-j", "2", "-T", "5", "-f", file, dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	return tps
}

package postgres_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

const benchClients = 16

// BenchmarkIngestTransaction runs the billing ingest transaction (inbox
// insert, then the outbox insert when new) through Scope[BillingInboxTx]
// from 16 goroutines on an 8-connection pool, and, when b.N is large enough,
// pgbench running the same statements with 16 clients on the same server,
// reporting the ratio. The publisher is the in-test one, writing the same
// INSERT as the messaging adapter's; the HTTP benchmark (verify, store,
// queue) is BenchmarkWebhookIngest in cmd/wdai.
func BenchmarkIngestTransaction(b *testing.B) {
	dbURL := testdb.NewURL(b)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	uow, err := postgres.Scope[ports.BillingInboxTx](testUoW(b, pool, "watermill_billing.event", nil))
	if err != nil {
		b.Fatal(err)
	}
	payload, err := os.ReadFile(filepath.Join("..", "stripe", "testdata", "customer.subscription.updated.json"))
	if err != nil {
		b.Fatal(err)
	}
	prefix := fmt.Sprintf("evt_bench_%d_", time.Now().UnixNano())
	ctx := context.Background()

	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				id := prefix + strconv.FormatInt(n, 10)
				ev := ports.BillingEvent{ID: id, Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated",
					Created: time.Now(), Payload: payload, SubscriptionID: "sub_1", CustomerID: "cus_1"}
				msg := ports.Message{Topic: ports.TopicBillingEvent, Payload: []byte(`{"event_id":"` + id + `"}`)}
				if err := ingest(ctx, uow, ev, msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	tps := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(tps, "tx/s")
	if b.N < 5000 {
		return // calibration rounds: no baseline
	}
	base, ok := pgbenchIngest(b, dbURL, payload)
	if !ok {
		return
	}
	b.ReportMetric(base, "pgbench-tx/s")
	b.ReportMetric(tps/base, "ratio")
}

// pgbenchIngest runs the same transaction with pgbench (16 clients, 5 s),
// or reports false when pgbench is not installed.
func pgbenchIngest(b *testing.B, dbURL string, payload []byte) (float64, bool) {
	b.Helper()
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(matches) == 0 {
			b.Log("pgbench not found: no baseline")
			return 0, false
		}
		bin = matches[len(matches)-1]
	}
	literal := regexp.MustCompile(`\s*\n\s*`).ReplaceAllString(string(payload), " ")
	literal = regexp.MustCompile(`'`).ReplaceAllString(literal, "''")
	script := fmt.Sprintf(`\set id random(1, 4000000000000000000)
BEGIN;
INSERT INTO billing_inbox (event_id, kind, type, created, payload, source, subscription_id, customer_id)
  VALUES ('evt_pgb_' || :id, 'subscription_changed', 'customer.subscription.updated', now(), '%s'::jsonb, 'webhook', 'sub_1', 'cus_1') ON CONFLICT (event_id) DO NOTHING;
INSERT INTO "watermill_billing.event" (uuid, payload, metadata)
  VALUES (gen_random_uuid()::text, convert_to('{"event_id":"evt_pgb_' || :id || '"}', 'UTF8'), '{}');
COMMIT;
`, literal)
	file := filepath.Join(b.TempDir(), "ingest.sql")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		b.Fatal(err)
	}
	out, err := exec.CommandContext(b.Context(), bin, "-n", "-c", strconv.Itoa(benchClients), "-j", "2", "-T", "5", "-f", file, dbURL).CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	return tps, true
}

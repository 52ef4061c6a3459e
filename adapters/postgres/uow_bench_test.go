package postgres_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
				if _, err := ingest(ctx, uow, ev, msg); err != nil {
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
	base, ok := testdb.PGBenchIngest(b, dbURL, payload, benchClients, 0)
	if !ok {
		return
	}
	b.ReportMetric(base, "pgbench-tx/s")
	b.ReportMetric(tps/base, "ratio")
}

package postgres_test

import (
	"context"
	"fmt"
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

// BenchmarkRateLimitTake measures what the per-caller limit adds to a
// request, by 16 goroutines on an 8-connection pool:
//   - baseline: a primary-key read of one of 64 people (the statement a
//     signed-in read already makes to authenticate), in the same run;
//   - direct: a Take over 1,024 callers that is one statement (the GCRA
//     upsert on the unlogged table), as for a small allowance;
//   - leased: a Take of an allowance of 2,000, which spends 20 units per
//     statement and hands them out from memory.
//
// None of the rates here ever refuses, so every Take is a grant. It reports
// the three rates and the ratios to the baseline.
func BenchmarkRateLimitTake(b *testing.B) {
	cfg, err := pgxpool.ParseConfig(testdb.NewURL(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	var ids []string
	people := postgres.NewPeopleStore(pool)
	for i := range 64 {
		p, err := people.Create(ctx, fmt.Sprintf("bench%d@example.test", i), "Bench", fmt.Sprint(i))
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	limiter := postgres.NewRateLimiter(pool)
	// Spread over 1,024 callers, a run stays inside both bursts, so every
	// Take is a grant (a refusal fails the benchmark).
	direct := ports.Rate{Limit: 199, Period: time.Second}  // below 200 units: no lease
	leased := ports.Rate{Limit: 2000, Period: time.Second} // leases of 20

	run := func(op func(i int64) error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		begin := time.Now()
		for range benchClients {
			wg.Go(func() {
				for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
					if err := op(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return float64(b.N) / time.Since(begin).Seconds()
	}
	b.ResetTimer()
	baseline := run(func(i int64) error {
		var id string
		return pool.QueryRow(ctx, `SELECT id::text FROM people WHERE id = $1`, ids[i%64]).Scan(&id)
	})
	takeWith := func(rate ports.Rate, prefix string) func(int64) error {
		return func(i int64) error {
			d, err := limiter.Take(ctx, prefix+strconv.FormatInt(i%1024, 10), 1, rate)
			if err == nil && !d.Allowed {
				err = fmt.Errorf("refused %s", prefix)
			}
			return err
		}
	}
	directRate := run(takeWith(direct, "direct:"))
	leasedRate := run(takeWith(leased, "leased:"))
	b.StopTimer()
	b.ReportMetric(baseline, "pk_reads/s")
	b.ReportMetric(directRate, "direct_takes/s")
	b.ReportMetric(leasedRate, "leased_takes/s")
	b.ReportMetric(directRate/baseline, "direct/read")
	b.ReportMetric(leasedRate/baseline, "leased/read")
	b.ReportMetric(0, "ns/op")
}

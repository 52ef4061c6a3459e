package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func TestRateLimiterGrantsTheBurstThenRefusesWithAWait(t *testing.T) {
	t.Parallel()
	l := postgres.NewRateLimiter(testdb.New(t))
	ctx := context.Background()
	hourly := ports.Rate{Limit: 10, Period: time.Hour} // one unit per 6 minutes

	for i := range 10 {
		d, err := l.Take(ctx, "user:ada", 1, hourly)
		if err != nil || !d.Allowed {
			t.Fatalf("take %d = %+v, %v; want allowed (burst of 10)", i+1, d, err)
		}
	}
	d, err := l.Take(ctx, "user:ada", 1, hourly)
	if err != nil || d.Allowed {
		t.Fatalf("11th take = %+v, %v; want refused", d, err)
	}
	if d.RetryAfter < 5*time.Minute || d.RetryAfter > 6*time.Minute {
		t.Fatalf("retry after %s, want about 6m (one unit's refill)", d.RetryAfter)
	}
	// Another key has its own allowance.
	if d, err := l.Take(ctx, "ip:192.0.2.1", 1, hourly); err != nil || !d.Allowed {
		t.Fatalf("other key = %+v, %v; want allowed", d, err)
	}
}

func TestRateLimiterRefusesMoreThanTheAllowanceWithoutSpending(t *testing.T) {
	t.Parallel()
	l := postgres.NewRateLimiter(testdb.New(t))
	ctx := context.Background()
	rate := ports.Rate{Limit: 5, Period: time.Hour}
	for _, n := range []int{6, 6} { // new row, then existing row
		if d, err := l.Take(ctx, "k", n, rate); err != nil || d.Allowed {
			t.Fatalf("take %d of 5 = %+v, %v; want refused", n, d, err)
		}
	}
	if d, err := l.Take(ctx, "k", 5, rate); err != nil || !d.Allowed {
		t.Fatalf("take 5 after refusals = %+v, %v; want allowed (refusals spend nothing)", d, err)
	}
	if d, err := l.Take(ctx, "k", 1, rate); err != nil || d.Allowed {
		t.Fatalf("take past the allowance = %+v, %v; want refused", d, err)
	}
	if _, err := l.Take(ctx, "k", 0, rate); err == nil {
		t.Fatal("take of 0 units accepted")
	}
}

func TestRateLimiterRefillsEvenly(t *testing.T) {
	t.Parallel()
	l := postgres.NewRateLimiter(testdb.New(t))
	ctx := context.Background()
	rate := ports.Rate{Limit: 2, Period: 400 * time.Millisecond} // one unit per 200ms
	for range 2 {
		if d, err := l.Take(ctx, "k", 1, rate); err != nil || !d.Allowed {
			t.Fatalf("burst = %+v, %v", d, err)
		}
	}
	d, err := l.Take(ctx, "k", 1, rate)
	if err != nil || d.Allowed {
		t.Fatalf("past the burst = %+v, %v; want refused", d, err)
	}
	time.Sleep(d.RetryAfter + 20*time.Millisecond) // the wait it named is enough
	if d, err := l.Take(ctx, "k", 1, rate); err != nil || !d.Allowed {
		t.Fatalf("after the named wait = %+v, %v; want allowed", d, err)
	}
}

// Two pools stand for two replicas: together they grant exactly the limit.
func TestRateLimiterIsOneLimitAcrossPools(t *testing.T) {
	t.Parallel()
	url := testdb.NewURL(t)
	var limiters []*postgres.RateLimiter
	for range 2 {
		pool, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		limiters = append(limiters, postgres.NewRateLimiter(pool))
	}
	if got := raceTakes(t, limiters, 16, 20, "user:shared", ports.Rate{Limit: 100, Period: time.Hour}); got != 100 {
		t.Fatalf("granted %d of 320 racing takes, want exactly 100", got)
	}
}

// raceTakes has goroutines take one unit each times, alternating between
// the limiters (replicas), and returns how many were granted.
func raceTakes(t *testing.T, limiters []*postgres.RateLimiter, goroutines, each int, key string, rate ports.Rate) int32 {
	t.Helper()
	var granted atomic.Int32
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				d, err := limiters[g%len(limiters)].Take(context.Background(), key, 1, rate)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return granted.Load()
}

func TestRateLimiterSweepForgetsOnlyFullAllowances(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	l := postgres.NewRateLimiter(pool)
	ctx := context.Background()
	if _, err := l.Take(ctx, "spent", 1, ports.Rate{Limit: 1, Period: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Take(ctx, "refilled", 1, ports.Rate{Limit: 1000, Period: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	n, err := l.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want 1 row (the refilled one)", n, err)
	}
	if d, err := l.Take(ctx, "spent", 1, ports.Rate{Limit: 1, Period: time.Hour}); err != nil || d.Allowed {
		t.Fatalf("spent allowance after sweep = %+v, %v; want still refused", d, err)
	}
}

// statementCount counts the statements a pool sends.
type statementCount struct{ n atomic.Int64 }

func (c *statementCount) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCount) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func countedPool(t *testing.T, url string) (*pgxpool.Pool, *statementCount) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	c := &statementCount{}
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, c
}

// A large allowance is leased 1% at a time: two replicas racing admit at
// most the allowance and lose at most one lease each, with about one
// statement per lease.
func TestRateLimiterLeasesNeverAdmitMoreThanTheAllowance(t *testing.T) {
	t.Parallel()
	url := testdb.NewURL(t)
	rate := ports.Rate{Limit: 1000, Period: time.Hour} // leases of 10
	var limiters []*postgres.RateLimiter
	var counters []*statementCount
	for range 2 {
		pool, c := countedPool(t, url)
		limiters, counters = append(limiters, postgres.NewRateLimiter(pool)), append(counters, c)
	}
	got := raceTakes(t, limiters, 8, 250, "user:busy", rate)
	statements := counters[0].n.Load() + counters[1].n.Load()
	t.Logf("granted %d of 2000 takes against an allowance of 1000 with %d statements", got, statements)
	if got > 1000 || got < 1000-2*9 {
		t.Fatalf("granted %d, want between 982 and 1000 (never more than the allowance)", got)
	}
	// 100 leases, then refusals: each replica asks once more for a lease
	// and once for a unit before it remembers the refusal.
	if statements > 130 {
		t.Fatalf("%d statements for 2000 takes, want about 100 (one per lease)", statements)
	}
}

// After a refusal the process refuses locally until the wait the database
// named, counting it down, without another statement.
func TestRateLimiterRemembersARefusal(t *testing.T) {
	t.Parallel()
	pool, count := countedPool(t, testdb.NewURL(t))
	l := postgres.NewRateLimiter(pool)
	ctx := context.Background()
	rate := ports.Rate{Limit: 200, Period: time.Hour} // leases of 2, one unit per 18s
	granted := 0
	var first ports.RateDecision
	for range 201 {
		d, err := l.Take(ctx, "ip:192.0.2.9", 1, rate)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			granted++
		} else if first.RetryAfter == 0 {
			first = d
		}
	}
	if granted != 200 || first.RetryAfter <= 0 || first.RetryAfter > 18*time.Second {
		t.Fatalf("granted %d, first refusal waits %s; want 200 and at most 18s", granted, first.RetryAfter)
	}
	before := count.n.Load()
	time.Sleep(10 * time.Millisecond)
	d, err := l.Take(ctx, "ip:192.0.2.9", 1, rate)
	if err != nil || d.Allowed || d.RetryAfter >= first.RetryAfter {
		t.Fatalf("refused again = %+v, %v; want refused with a shorter wait than %s", d, err, first.RetryAfter)
	}
	if after := count.n.Load(); after != before {
		t.Fatalf("a remembered refusal sent %d statements, want 0", after-before)
	}
}

// Only a caller who keeps this process busy is leased units: one who sends
// a request now and then spends one unit per request, so leases never eat
// into a slow caller's allowance.
func TestRateLimiterLeasesOnlyForAFastCaller(t *testing.T) {
	t.Parallel()
	pool, count := countedPool(t, testdb.NewURL(t))
	l := postgres.NewRateLimiter(pool)
	ctx := context.Background()
	rate := ports.Rate{Limit: 1000, Period: time.Hour} // leases of up to 10, one unit per 3.6s

	for i := range 3 {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		if d, err := l.Take(ctx, "user:slow", 1, rate); err != nil || !d.Allowed {
			t.Fatalf("slow take %d = %+v, %v", i, d, err)
		}
	}
	var aheadSeconds float64
	if err := pool.QueryRow(ctx, `SELECT extract(epoch FROM tat - now()) FROM rate_limits WHERE key = 'user:slow'`).Scan(&aheadSeconds); err != nil {
		t.Fatal(err)
	}
	if aheadSeconds > 3*3.6 {
		t.Fatalf("the slow caller spent %.1fs of allowance, want at most 3 units (10.8s)", aheadSeconds)
	}

	before := count.n.Load()
	for i := range 100 {
		if d, err := l.Take(ctx, "user:fast", 1, rate); err != nil || !d.Allowed {
			t.Fatalf("fast take %d = %+v, %v", i, d, err)
		}
	}
	if n := count.n.Load() - before; n > 15 {
		t.Fatalf("100 quick takes sent %d statements, want about 10 (leases of 10)", n)
	}
}

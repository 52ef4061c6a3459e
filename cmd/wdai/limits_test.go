package main

// Provider limits held across replicas: two systems on one database, each
// with its own pool, clients and in-process semaphore (as two processes
// have), drive the Mailchimp stand-in together.

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// mailchimpReplicas returns two systems on one new database, both
// configured for fake, with MAILCHIMP_MAX_CONNECTIONS=limit.
func mailchimpReplicas(t *testing.T, fake *mailchimpfake.Server, limit int) [2]*system {
	t.Helper()
	dbURL := testdb.NewURL(t)
	cfg, err := config.LoadFrom(map[string]string{"DATABASE_URL": dbURL, "MAILCHIMP_API_KEY": healthTestKey, "MAILCHIMP_LIST_ID": "L1",
		"MAILCHIMP_API_URL": fake.URL(), "MAILCHIMP_MAX_CONNECTIONS": fmt.Sprint(limit), "PROVIDER_BREAKER_FAILURES": "1000"})
	if err != nil {
		t.Fatal(err)
	}
	var out [2]*system
	for i := range out {
		pool, err := pgxpool.New(t.Context(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if out[i], err = buildSystem(cfg, pool, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// drive sends n upserts from each replica at once and returns the errors.
func drive(t *testing.T, replicas [2]*system, n int) []error {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for r, sys := range replicas {
		for i := range n {
			wg.Go(func() {
				_, err := sys.providers.list.Upsert(t.Context(), ports.Subscriber{Email: fmt.Sprintf("r%d-%d@example.test", r, i), FirstName: "M"}, "")
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errs
}

func TestTwoReplicasHoldMailchimpToTenConnections(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, healthTestKey, "L1")
	fake.SetDelay(100 * time.Millisecond)
	replicas := mailchimpReplicas(t, fake, 10)
	start := time.Now()
	if errs := drive(t, replicas, 20); len(errs) > 0 {
		t.Fatalf("%d of 40 upserts failed (work over the limit must wait, not fail): %v", len(errs), errs[0])
	}
	if got := len(fake.Members()); got != 40 {
		t.Fatalf("the stand-in holds %d members, want all 40", got)
	}
	fake.AssertNoViolations(t)
	most := fake.MaxInFlight()
	t.Logf("two replicas, 40 upserts of 100 ms: at most %d connections at the stand-in, %s in all", most, time.Since(start).Round(time.Millisecond))
	if most > 10 {
		t.Fatalf("the stand-in saw %d connections at once; Mailchimp allows 10", most)
	}
	var hits int64
	for _, sys := range replicas {
		for _, c := range sys.calls.Pending() {
			hits += c.RateLimited
		}
	}
	if hits == 0 {
		t.Fatal("no upsert waited for a slot; the test did not load the limit")
	}
}

// The same load with a limit of 20 shows what the shared limit prevents:
// each process's own semaphore of 10 lets the two together exceed 10.
func TestWithoutTheSharedLimitTwoReplicasExceedTen(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, healthTestKey, "L1")
	fake.SetDelay(100 * time.Millisecond)
	if errs := drive(t, mailchimpReplicas(t, fake, 20), 20); len(errs) > 0 {
		t.Logf("%d upserts failed", len(errs))
	}
	if most := fake.MaxInFlight(); most <= 10 {
		t.Fatalf("with the shared limit at 20 the stand-in saw at most %d connections; the control should exceed 10", most)
	}
}

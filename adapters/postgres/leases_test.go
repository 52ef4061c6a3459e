package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
)

func TestProviderLeasesNeverHandOutMoreThanTheSize(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	// Two semaphores on one database stand for two replicas.
	a, err := postgres.NewProviderLeases(pool, "p", 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := postgres.NewProviderLeases(pool, "p", 3, time.Minute)
	var waits, inFlight, most atomic.Int64
	a.Waited = func() { waits.Add(1) }
	b.Waited = a.Waited
	var wg sync.WaitGroup
	for i := range 12 {
		sem := a
		if i%2 == 1 {
			sem = b
		}
		wg.Go(func() {
			release, err := sem.Acquire(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			release()
		})
	}
	wg.Wait()
	if most.Load() != 3 || waits.Load() == 0 {
		t.Fatalf("at most %d held at once (want 3, the size), %d waits (want some)", most.Load(), waits.Load())
	}
}

func TestProviderLeasesFreeAnExpiredSlotAndStopWithTheContext(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	l, err := postgres.NewProviderLeases(pool, "p", 1, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(t.Context()); err != nil { // never released: its holder "died"
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(short); err == nil {
		t.Fatal("a second slot was handed out while the only one was leased")
	}
	start := time.Now()
	release, err := l.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	release()
	t.Logf("the dead holder's slot came back after %s (lease 300ms)", time.Since(start).Round(time.Millisecond))
	if _, err := postgres.NewProviderLeases(pool, "p", 0, time.Second); err == nil {
		t.Fatal("a size of 0 was accepted")
	}
}

// TestProviderLeasesSeedAgainAfterAFailedFirstCall: the first call of the
// process seeds the slots; when its context has already ended (a provider
// timeout of a few hundred milliseconds met a slow database), the next
// call seeds them, instead of every later call failing with the first
// one's error.
func TestProviderLeasesSeedAgainAfterAFailedFirstCall(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	l, err := postgres.NewProviderLeases(pool, "p", 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Acquire(ended); err == nil {
		t.Fatal("Acquire with an ended context succeeded")
	}
	release, err := l.Acquire(t.Context())
	if err != nil {
		t.Fatalf("Acquire after a failed first call: %v", err)
	}
	release()
}

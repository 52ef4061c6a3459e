package messaging

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/womendefiningai/platform/ports"
)

var errProviderDown = errors.New("provider answered 503")

// TestTransientErrorIsDeliveredAgainLater: a handler failing transiently
// for longer than the quick retries and the handler timeout could cover is
// not dead-lettered. Between attempts the message waits in the scheduled
// table, not in a claim: its topic's table is empty and no transaction
// holds it. Once the provider is back it is handled, once.
func TestTransientErrorIsDeliveredAgainLater(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 10)
	cfg := fastConfig
	cfg.HandlerTimeout, cfg.AckDeadline = time.Second, 6*time.Second
	cfg.TransientRetryInitial, cfg.TransientRetryMax = 50*time.Millisecond, 400*time.Millisecond
	cfg.TransientRetryBudget = time.Minute
	var downUntil = time.Now().Add(3 * time.Second) // 3 handler timeouts
	var attempts, successes atomic.Int64
	al := &alerts{}
	var mu sync.Mutex
	var seen []map[string]string
	newRouter(t, pool, cfg, al, func(r *Router) {
		mustAdd(t, r, "flaky", ports.TopicJobRun, func(_ context.Context, m ports.Message) error {
			attempts.Add(1)
			mu.Lock()
			seen = append(seen, m.Metadata)
			mu.Unlock()
			if time.Now().Before(downUntil) {
				return ports.Transient("stripe", errProviderDown, 0)
			}
			successes.Add(1)
			return nil
		})
	})
	publish(t, pool, ports.TopicJobRun, "x")
	eventually(t, 3*time.Second, "the message waits in the scheduled table", func() bool {
		return attempts.Load() >= 2 && rows(t, pool, `"watermill_delayed"`) == 1 && rows(t, pool, `"watermill_job.run"`) == 0
	})
	eventually(t, 10*time.Second, "handled once the provider is back", func() bool { return successes.Load() == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := successes.Load(); n != 1 {
		t.Fatalf("handled %d times", n)
	}
	if dls := openDeadLetters(t, pool); len(dls) != 0 {
		t.Fatalf("%d dead letters; a transient outage must not dead-letter", len(dls))
	}
	if n := len(al.all()); n != 0 {
		t.Fatalf("%d alerts", n)
	}
	if a := attempts.Load(); a < 4 || a > 30 {
		t.Fatalf("%d attempts in 3s with waits 50ms..400ms; want a few, backing off", a)
	}
	mu.Lock()
	last := seen[len(seen)-1]
	mu.Unlock()
	if last["retry_deferrals"] == "" || last["retry_first_fail"] == "" {
		t.Fatalf("redelivered metadata %v lacks the retry state", last)
	}
	if rows(t, pool, `"watermill_delayed"`) != 0 || rows(t, pool, `"watermill_job.run"`) != 0 {
		t.Fatal("rows left behind")
	}
}

// TestTransientBudgetEndsInDeadLetter: past TransientRetryBudget, a
// transient failure is dead-lettered once, with every attempt counted and
// the first failure of the first delivery.
func TestTransientBudgetEndsInDeadLetter(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 10)
	cfg := fastConfig
	cfg.TransientRetryInitial, cfg.TransientRetryMax = 50*time.Millisecond, 200*time.Millisecond
	cfg.TransientRetryBudget = time.Second
	var attempts atomic.Int64
	al := &alerts{}
	start := time.Now()
	newRouter(t, pool, cfg, al, func(r *Router) {
		mustAdd(t, r, "down", ports.TopicJobRun, func(context.Context, ports.Message) error {
			attempts.Add(1)
			return ports.Transient("stripe", errProviderDown, 0)
		})
	})
	publish(t, pool, ports.TopicJobRun, "x")
	eventually(t, 10*time.Second, "dead-lettered after the budget", func() bool { return len(openDeadLetters(t, pool)) == 1 })
	dl := openDeadLetters(t, pool)[0]
	if took := time.Since(start); took < time.Second {
		t.Fatalf("dead-lettered after %v, before the 1s budget", took)
	}
	if dl.Attempts < 3 || int64(dl.Attempts) != attempts.Load() {
		t.Fatalf("dead letter counts %d attempts, handler saw %d", dl.Attempts, attempts.Load())
	}
	if _, ok := dl.Metadata["retry_deferrals"]; ok {
		t.Fatalf("dead letter metadata keeps the retry state: %v", dl.Metadata)
	}
	if dl.LastFailedAt.Sub(dl.FirstFailedAt) < time.Second {
		t.Fatalf("first %v, last %v failure: want at least the budget apart", dl.FirstFailedAt, dl.LastFailedAt)
	}
	if n := len(al.all()); n != 1 {
		t.Fatalf("%d alerts, want 1", n)
	}
}

// TestOpenCircuitIsNeverDeadLettered: while the provider's breaker is open
// the message is delayed however long it takes, even past the budget, and
// handled when the breaker lets calls through again.
func TestOpenCircuitIsNeverDeadLettered(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 10)
	cfg := fastConfig
	cfg.TransientRetryInitial, cfg.TransientRetryMax = 20*time.Millisecond, 100*time.Millisecond
	cfg.TransientRetryBudget = 100 * time.Millisecond
	openUntil := time.Now().Add(1500 * time.Millisecond)
	var done atomic.Int64
	newRouter(t, pool, cfg, &alerts{}, func(r *Router) {
		mustAdd(t, r, "guarded", ports.TopicJobRun, func(context.Context, ports.Message) error {
			if time.Now().Before(openUntil) {
				return &ports.TransientError{Provider: "stripe", CircuitOpen: true, RetryAfter: 200 * time.Millisecond, Err: errProviderDown}
			}
			done.Add(1)
			return nil
		})
	})
	publish(t, pool, ports.TopicJobRun, "x")
	eventually(t, 10*time.Second, "handled after the breaker closes", func() bool { return done.Load() == 1 })
	if dls := openDeadLetters(t, pool); len(dls) != 0 {
		t.Fatalf("%d dead letters while the circuit was open", len(dls))
	}
}

// TestRetryAfterIsHonoured: the provider's Retry-After outweighs a shorter
// back-off.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 10)
	cfg := fastConfig
	cfg.TransientRetryInitial, cfg.TransientRetryMax = 10*time.Millisecond, 20*time.Millisecond
	var mu sync.Mutex
	var at []time.Time
	newRouter(t, pool, cfg, &alerts{}, func(r *Router) {
		mustAdd(t, r, "limited", ports.TopicJobRun, func(context.Context, ports.Message) error {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Now())
			if len(at) == 1 {
				return ports.Transient("mailchimp", errors.New("429"), 1200*time.Millisecond)
			}
			return nil
		})
	})
	publish(t, pool, ports.TopicJobRun, "x")
	eventually(t, 10*time.Second, "delivered twice", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(at) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if gap := at[1].Sub(at[0]); gap < 1200*time.Millisecond {
		t.Fatalf("delivered again after %v; Retry-After asked for 1.2s", gap)
	}
}

// TestOtherErrorsKeepThreeQuickRetries: an error of no known class is tried
// 4 times in all, in one delivery, then dead-lettered (the seed's policy).
func TestOtherErrorsKeepThreeQuickRetries(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 10)
	var attempts atomic.Int64
	newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
		mustAdd(t, r, "broken", ports.TopicJobRun, func(context.Context, ports.Message) error {
			attempts.Add(1)
			return errors.New("a bug")
		})
	})
	publish(t, pool, ports.TopicJobRun, "x")
	eventually(t, 10*time.Second, "dead-lettered", func() bool { return len(openDeadLetters(t, pool)) == 1 })
	if a, dl := attempts.Load(), openDeadLetters(t, pool)[0]; a != 4 || dl.Attempts != 4 {
		t.Fatalf("%d attempts, dead letter says %d; want 4", a, dl.Attempts)
	}
	if rows(t, pool, `"watermill_delayed"`) != 0 {
		t.Fatal("an unclassified error went to the scheduled table")
	}
}

// TestHungCallHoldsUpOnlyItsMessage: 50 messages on 4 consumers, one of
// them blocked on a call that never returns (until the test ends). The
// other 49 finish in their normal time: with 50 queued, claims are one row,
// so nothing queues behind the hung message. (With the previous claims of
// 100 rows, the first consumer took all 50 and the 49 waited for the hung
// call.)
func TestHungCallHoldsUpOnlyItsMessage(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 12)
	cfg := fastConfig
	cfg.HandlerTimeout, cfg.AckDeadline = 30*time.Second, 40*time.Second
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var done atomic.Int64
	var mu sync.Mutex
	var took []time.Duration
	start := time.Now()
	newRouter(t, pool, cfg, &alerts{}, func(r *Router) {
		mustAdd(t, r, "calls", ports.TopicJobRun, func(ctx context.Context, m ports.Message) error {
			if string(m.Payload) == "hung" {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil
			}
			time.Sleep(20 * time.Millisecond) // a normal provider call
			mu.Lock()
			took = append(took, time.Since(start))
			mu.Unlock()
			done.Add(1)
			return nil
		}, WithConsumers(4))
	})
	payloads := make([]string, 50)
	for i := range payloads {
		payloads[i] = "ok"
	}
	payloads[0] = "hung" // first in line
	publish(t, pool, ports.TopicJobRun, payloads...)
	// Normal time: 49 calls of 20ms on the 3 free consumers is about 330ms,
	// plus polls; allow 5s on a loaded machine, far below the hung call.
	eventually(t, 5*time.Second, "the other 49 finish", func() bool { return done.Load() == 49 })
	mu.Lock()
	defer mu.Unlock()
	t.Logf("49 messages done in %v next to a hung one", took[len(took)-1])
}

package messaging

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// TestSignalWakesEveryWaiterOfItsTopicOnly: a signal ends the waits on its
// topic at once, all of them, and no other topic's; a wait without a
// signal lasts its interval, one after a signal it has not seen returns at
// once, and a closed stop channel ends it.
func TestSignalWakesEveryWaiterOfItsTopicOnly(t *testing.T) {
	t.Parallel()
	w := newTopicWakeups()
	woken := make(chan bool, 3)
	for _, topic := range []string{"a", "a", "b"} {
		go func() { woken <- w.wait(topic, 0, 5*time.Second, nil) }()
	}
	// The three waits are registered once both topics have a channel.
	eventually(t, 2*time.Second, "the waiters to wait", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.topics["a"] != nil && w.topics["a"].waiting != nil && w.topics["b"] != nil && w.topics["b"].waiting != nil
	})
	time.Sleep(20 * time.Millisecond) // the second waiter of "a" reaches its select
	start := time.Now()
	w.signal("a")
	for range 2 {
		if !<-woken {
			t.Fatal("a waiter of the signalled topic was not woken by the signal")
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the signal took %v to wake its waiters", took)
	}
	select {
	case <-woken:
		t.Fatal("the waiter of another topic was woken")
	case <-time.After(100 * time.Millisecond):
	}
	w.signal("b")
	<-woken

	start = time.Now()
	if w.wait("c", 0, 50*time.Millisecond, nil) || time.Since(start) < 50*time.Millisecond {
		t.Fatal("a wait without a signal did not last its interval")
	}
	// A signal between a consumer's last look (its poll's start) and its
	// wait is not lost: the wait returns at once.
	since := w.seq("d")
	w.signal("d")
	start = time.Now()
	if !w.wait("d", since, 5*time.Second, nil) || time.Since(start) > time.Second {
		t.Fatal("a signal that came during the poll did not end the wait at once")
	}
	stop := make(chan struct{})
	close(stop)
	start = time.Now()
	if w.wait("c", 0, 5*time.Second, stop) || time.Since(start) > time.Second {
		t.Fatal("a closed stop channel did not end the wait")
	}
}

// waitingOn reports whether a consumer in this process waits for a wakeup
// of topic.
func waitingOn(topic string) bool {
	wakeups.mu.Lock()
	defer wakeups.mu.Unlock()
	ts, ok := wakeups.topics[topic]
	return ok && ts.waiting != nil
}

// afterCommitTx is a caller's transaction that can run functions after it
// commits, as a unit of work's transaction does.
type afterCommitTx struct {
	pgx.Tx
	hooks []func()
}

func (t *afterCommitTx) AfterCommit(fn func()) { t.hooks = append(t.hooks, fn) }

func (t *afterCommitTx) commit(ctx context.Context) error {
	if err := t.Commit(ctx); err != nil {
		return err
	}
	for _, h := range t.hooks {
		h()
	}
	return nil
}

// The wakeups are the process's, and other tests signal these topics
// (TestEveryTopicHasATable publishes to every one). The two tests below
// are therefore not parallel: Go starts the parallel tests only once every
// sequential one has finished, so none runs beside them.

// TestACommittedMessageIsHandledWithoutWaitingForThePoll: with a poll
// interval of 4 s, a message published in a transaction that says when it
// commits, by a pool publisher, scheduled for now, or replayed from its
// dead letter, is handled well within a second of the commit; one
// published in a transaction that cannot say (a bare pgx.Tx) waits for the
// next poll.
func TestACommittedMessageIsHandledWithoutWaitingForThePoll(t *testing.T) {
	pool := newPool(t, 10)
	cfg := fastConfig
	cfg.PollInterval = 4 * time.Second
	handled := make(chan string, 10)
	newRouter(t, pool, cfg, &alerts{}, func(r *Router) {
		failed := false
		mustAdd(t, r, "wake", ports.TopicAccessCheck, func(_ context.Context, m ports.Message) error {
			if string(m.Payload) == "replayed" && !failed {
				failed = true
				return ports.Permanent(errors.New("dead-letter it once"))
			}
			handled <- string(m.Payload)
			return nil
		})
	})
	ctx := context.Background()
	eventually(t, 5*time.Second, "the consumer's first, empty poll", func() bool { return waitingOn(ports.TopicAccessCheck) })
	within := func(what string, d time.Duration) {
		t.Helper()
		select {
		case got := <-handled:
			if got != what {
				t.Fatalf("handled %q, want %q", got, what)
			}
		case <-time.After(d):
			t.Fatalf("%s: not handled within %v of its commit", what, d)
		}
	}
	msg := func(payload string) ports.Message {
		return ports.Message{ID: watermill.NewUUID(), Topic: ports.TopicAccessCheck, Payload: []byte(payload)}
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ac := &afterCommitTx{Tx: tx}
	if err := NewTxPublisher(ac).Publish(ctx, msg("in a unit of work")); err != nil {
		t.Fatal(err)
	}
	if err := ac.commit(ctx); err != nil {
		t.Fatal(err)
	}
	within("in a unit of work", time.Second)

	if err := NewPublisher(pool).Publish(ctx, msg("on the pool")); err != nil {
		t.Fatal(err)
	}
	within("on the pool", time.Second)

	if err := NewScheduler(pool).ScheduleAt(ctx, ports.TopicAccessCheck, []byte("scheduled for now"), time.Now()); err != nil {
		t.Fatal(err)
	}
	within("scheduled for now", 2*time.Second) // two hops: the scheduled table, then the topic

	if err := NewPublisher(pool).Publish(ctx, msg("replayed")); err != nil {
		t.Fatal(err)
	}
	var dls []ports.DeadLetter
	eventually(t, 5*time.Second, "the dead letter", func() bool { dls = openDeadLetters(t, pool); return len(dls) == 1 })
	eventually(t, 5*time.Second, "the consumer to wait again", func() bool { return waitingOn(ports.TopicAccessCheck) })
	if err := NewDeadLetterStore(pool).Replay(ctx, dls[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	within("replayed", time.Second)

	// After a message the consumer polls again at once; publish once that
	// poll has found nothing and the consumer waits.
	eventually(t, 5*time.Second, "the consumer to wait again", func() bool { return waitingOn(ports.TopicAccessCheck) })
	bare, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewTxPublisher(bare).Publish(ctx, msg("in a bare transaction")); err != nil {
		t.Fatal(err)
	}
	if err := bare.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-handled:
		t.Fatalf("%q was handled before the next poll: nothing woke its consumer", got)
	case <-time.After(time.Second):
	}
	within("in a bare transaction", 5*time.Second)
}

// TestInATransactionOnlyItsCommitWakes: a publish and a dead letter's
// replay in a caller's transaction signal nothing themselves: each leaves
// a hook for the transaction to run once committed (a unit of work runs
// them only then: TestUnitOfWorkRunsAfterCommitHooksOnlyOnceCommitted), so
// a transaction that rolls back wakes nobody.
func TestInATransactionOnlyItsCommitWakes(t *testing.T) {
	pool := newPool(t, 4)
	ctx := context.Background()
	const topic = ports.TopicAccessReminder
	if _, err := pool.Exec(ctx, `INSERT INTO dead_letters (message_id, topic, handler, reason, payload, metadata, first_failed_at, last_failed_at, attempts)
		VALUES ('m1', $1, 'h', 'r', '\x00', '{}', now(), now(), 1)`, topic); err != nil {
		t.Fatal(err)
	}
	dls := openDeadLetters(t, pool)
	if len(dls) != 1 {
		t.Fatalf("%d open dead letters, want 1", len(dls))
	}
	since := wakeups.seq(topic)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ac := &afterCommitTx{Tx: tx}
	if err := NewTxPublisher(ac).Publish(ctx, ports.Message{Topic: topic, Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := NewDeadLetterStore(ac).Replay(ctx, dls[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ac.hooks) != 2 {
		t.Fatalf("the publish and the replay left %d after-commit hooks, want 2", len(ac.hooks))
	}
	if got := wakeups.seq(topic); got != since {
		t.Fatalf("the topic was signalled %d times before any commit, want 0", got-since)
	}
	for _, h := range ac.hooks {
		h()
	}
	if got := wakeups.seq(topic); got != since+2 {
		t.Fatalf("the hooks signalled %d times, want 2", got-since)
	}
}

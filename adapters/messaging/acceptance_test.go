package messaging

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// 10,000 messages from 4 producers, consumed by 2 routers on separate pools
// (as two processes would): each is applied exactly once, none is lost, and
// the queue is empty afterwards (acked rows are deleted: Defect 7,
// docs/messaging.md).
func TestExactlyOnceAcrossRoutersWithSeparatePools(t *testing.T) {
	t.Parallel()
	const producers, perProducer, batch = 4, 2500, 50
	const total = producers * perProducer
	topic := ports.TopicMemberChanged

	admin := newPool(t, 4)
	url := admin.Config().ConnString()
	if _, err := admin.Exec(context.Background(), `CREATE TABLE applied (key text PRIMARY KEY, router text NOT NULL)`); err != nil {
		t.Fatal(err)
	}

	var calls, duplicates atomic.Int64
	handlerOn := func(pool *pgxpool.Pool, router string) HandlerFunc {
		return func(ctx context.Context, msg ports.Message) error {
			calls.Add(1)
			tag, err := pool.Exec(ctx, `INSERT INTO applied (key, router) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
				string(msg.Payload), router)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				duplicates.Add(1)
			}
			return nil
		}
	}
	for _, name := range []string{"a", "b"} {
		pool := poolOn(t, url, 6)
		newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
			mustAdd(t, r, "apply", topic, handlerOn(pool, name), WithConsumers(2))
		})
	}

	pubPool := poolOn(t, url, producers)
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := range producers {
		wg.Go(func() {
			pub := NewPublisher(pubPool)
			for start := 0; start < perProducer; start += batch {
				msgs := make([]ports.Message, 0, batch)
				for i := start; i < start+batch; i++ {
					msgs = append(msgs, ports.Message{Topic: topic, Payload: []byte(fmt.Sprintf("p%d-%d", p, i))})
				}
				if err := pub.Publish(context.Background(), msgs...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	eventually(t, 60*time.Second, "all messages applied", func() bool { return rows(t, admin, "applied") == total })
	eventually(t, 10*time.Second, "queue drained", func() bool { return rows(t, admin, tableName(topic)) == 0 })
	if d := duplicates.Load(); d != 0 {
		t.Errorf("%d duplicate deliveries detected", d)
	}
	if c := calls.Load(); c != total {
		t.Errorf("handler called %d times for %d messages", c, total)
	}
	for _, router := range []string{"a", "b"} {
		var n int
		if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM applied WHERE router = $1`, router).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("router %s applied no message: the consumers did not share the work", router)
		}
		t.Logf("router %s applied %d messages", router, n)
	}
}

// A handler that fails twice and then succeeds is processed on the third
// attempt; each attempt is recorded, and nothing is dead-lettered.
func TestFailsTwiceThenSucceeds(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE attempts (message_id text, n int, ok bool, PRIMARY KEY (message_id, n))`); err != nil {
		t.Fatal(err)
	}
	al := &alerts{}
	var n atomic.Int32
	newRouter(t, pool, fastConfig, al, func(r *Router) {
		mustAdd(t, r, "flaky", ports.TopicPersonDeleted, func(ctx context.Context, msg ports.Message) error {
			attempt := n.Add(1)
			ok := attempt == 3
			if _, err := pool.Exec(ctx, `INSERT INTO attempts VALUES ($1, $2, $3)`, msg.ID, attempt, ok); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("attempt %d: provider unavailable", attempt)
			}
			return nil
		})
	})
	ids := publish(t, pool, ports.TopicPersonDeleted, "person-1")

	eventually(t, 10*time.Second, "processed", func() bool {
		var ok bool
		_ = pool.QueryRow(ctx, `SELECT bool_or(ok) FROM attempts WHERE message_id = $1`, ids[0]).Scan(&ok)
		return ok
	})
	time.Sleep(200 * time.Millisecond) // room for a wrong extra attempt
	var recorded int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE message_id = $1`, ids[0]).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != 3 {
		t.Errorf("%d attempts recorded, want 3", recorded)
	}
	if dls := openDeadLetters(t, pool); len(dls) != 0 {
		t.Errorf("dead letters: %+v", dls)
	}
	if got := al.all(); len(got) != 0 {
		t.Errorf("alerts raised: %+v", got)
	}
	eventually(t, 5*time.Second, "message acked", func() bool { return rows(t, pool, tableName(ports.TopicPersonDeleted)) == 0 })
}

// A handler that always fails is dead-lettered after 1 + 3 attempts, raises
// one alert (without the payload), and once fixed, a replay processes it.
func TestAlwaysFailingIsDeadLetteredThenReplayed(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx := context.Background()
	al := &alerts{}
	var fixed atomic.Bool
	var calls atomic.Int32
	processed := make(chan ports.Message, 1)
	newRouter(t, pool, fastConfig, al, func(r *Router) {
		mustAdd(t, r, "mailchimp-sync", ports.TopicMemberChanged, func(ctx context.Context, msg ports.Message) error {
			calls.Add(1)
			if !fixed.Load() {
				return errors.New("mailchimp: upsert member: 500")
			}
			processed <- msg
			return nil
		})
	})
	const payload = `{"person_id":"p-1","email":"jane@example.org"}`
	if err := NewPublisher(pool).Publish(ctx, ports.Message{
		ID: "11111111-2222-4333-8444-555555555555", Topic: ports.TopicMemberChanged,
		Payload: []byte(payload), Metadata: map[string]string{"source": "test"},
	}); err != nil {
		t.Fatal(err)
	}

	var dl ports.DeadLetter
	eventually(t, 10*time.Second, "dead letter recorded", func() bool {
		dls := openDeadLetters(t, pool)
		if len(dls) == 1 {
			dl = dls[0]
		}
		return len(dls) == 1
	})
	if dl.Attempts != 4 || calls.Load() != 4 {
		t.Errorf("attempts recorded %d, handler called %d; want 4 and 4 (1 + 3 retries)", dl.Attempts, calls.Load())
	}
	if dl.MessageID != "11111111-2222-4333-8444-555555555555" || dl.Topic != ports.TopicMemberChanged ||
		dl.Handler != "mailchimp-sync" || string(dl.Payload) != payload || dl.Metadata["source"] != "test" ||
		!strings.Contains(dl.Reason, "mailchimp: upsert member: 500") || dl.Status != ports.DeadLetterOpen {
		t.Errorf("dead letter = %+v", dl)
	}
	if dl.FirstFailedAt.IsZero() || dl.LastFailedAt.Before(dl.FirstFailedAt) {
		t.Errorf("failure times: first %v, last %v", dl.FirstFailedAt, dl.LastFailedAt)
	}
	eventually(t, 5*time.Second, "message acked", func() bool { return rows(t, pool, tableName(ports.TopicMemberChanged)) == 0 })

	eventually(t, 5*time.Second, "alert raised", func() bool { return len(al.all()) > 0 })
	got := al.all()
	if len(got) != 1 {
		t.Fatalf("%d alerts, want 1: %+v", len(got), got)
	}
	a := got[0]
	if a.Severity != ports.SeverityCritical || a.Fields["dead_letter_id"] != dl.ID || a.Fields["handler"] != "mailchimp-sync" {
		t.Errorf("alert = %+v", a)
	}
	if s := fmt.Sprint(a); strings.Contains(s, "jane@example.org") || strings.Contains(s, "person_id") {
		t.Errorf("alert carries the payload: %s", s)
	}

	fixed.Store(true)
	store := NewDeadLetterStore(pool)
	if err := store.Replay(ctx, dl.ID, "operator-7"); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-processed:
		if msg.ID != dl.MessageID || string(msg.Payload) != payload || msg.Metadata["source"] != "test" ||
			msg.Metadata["replayed_dead_letter"] != dl.ID {
			t.Errorf("replayed message = %+v", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("replayed message not processed")
	}
	after, err := store.Get(ctx, dl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != ports.DeadLetterReplayed || after.ResolvedBy != "operator-7" || after.ResolvedAt.IsZero() {
		t.Errorf("after replay: %+v", after)
	}
	if err := store.Replay(ctx, dl.ID, "operator-7"); !errors.Is(err, ports.ErrDeadLetterResolved) {
		t.Errorf("second replay: %v, want ErrDeadLetterResolved", err)
	}
	if len(al.all()) != 1 {
		t.Errorf("replay raised another alert")
	}
}

// A permanent error skips the retries: one attempt, then the dead letter.
func TestPermanentErrorSkipsRetries(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	al := &alerts{}
	var calls atomic.Int32
	newRouter(t, pool, fastConfig, al, func(r *Router) {
		mustAdd(t, r, "parse", ports.TopicBillingEvent, func(ctx context.Context, msg ports.Message) error {
			calls.Add(1)
			return ports.Permanent(errors.New("stripe event: unexpected type"))
		})
	})
	publish(t, pool, ports.TopicBillingEvent, `{}`)
	eventually(t, 10*time.Second, "dead letter recorded", func() bool { return len(openDeadLetters(t, pool)) == 1 })
	time.Sleep(300 * time.Millisecond) // room for a wrong retry
	dl := openDeadLetters(t, pool)[0]
	if calls.Load() != 1 || dl.Attempts != 1 {
		t.Errorf("handler called %d times, %d attempts recorded; want 1 and 1", calls.Load(), dl.Attempts)
	}
	if !strings.Contains(dl.Reason, "unexpected type") {
		t.Errorf("reason = %q", dl.Reason)
	}
	eventually(t, 5*time.Second, "alert raised", func() bool { return len(al.all()) > 0 })
	if len(al.all()) != 1 {
		t.Errorf("%d alerts, want 1", len(al.all()))
	}
}

// A panicking handler is recovered and retried like a failing one.
func TestPanicIsRecoveredAndRetried(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	var calls atomic.Int32
	done := make(chan struct{})
	newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
		mustAdd(t, r, "panicky", ports.TopicJobRun, func(ctx context.Context, msg ports.Message) error {
			if calls.Add(1) == 1 {
				panic("nil map")
			}
			close(done)
			return nil
		})
	})
	publish(t, pool, ports.TopicJobRun, `{}`)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not processed after the panic")
	}
	if dls := openDeadLetters(t, pool); len(dls) != 0 {
		t.Errorf("dead letters: %+v", dls)
	}
}

// A scheduled message is not delivered before its time, and is delivered
// within 2s after it, with the default poll interval.
func TestScheduledMessageArrivesOnTime(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	type arrival struct {
		at  time.Time
		msg ports.Message
	}
	got := make(chan arrival, 2)
	newRouter(t, pool, RouterConfig{}, &alerts{}, func(r *Router) {
		mustAdd(t, r, "period-end", ports.TopicMembershipPeriodEnd, func(ctx context.Context, msg ports.Message) error {
			got <- arrival{time.Now(), msg}
			return nil
		})
	})
	ctx := ports.WithCorrelationID(context.Background(), "corr-sched")
	at := time.Now().Add(1500 * time.Millisecond)
	if err := NewScheduler(pool).ScheduleAt(ctx, ports.TopicMembershipPeriodEnd, []byte(`{"membership":"m-1"}`), at); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.at.Before(at) {
			t.Errorf("delivered %v before its time", at.Sub(a.at))
		}
		if late := a.at.Sub(at); late > 2*time.Second {
			t.Errorf("delivered %v after its time, want within 2s", late)
		} else {
			t.Logf("delivered %v after its time", late)
		}
		if string(a.msg.Payload) != `{"membership":"m-1"}` || a.msg.Metadata["correlation_id"] != "corr-sched" {
			t.Errorf("message = %+v", a.msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scheduled message not delivered")
	}
	select {
	case a := <-got:
		t.Errorf("delivered twice: %+v", a)
	case <-time.After(600 * time.Millisecond):
	}
	if n := rows(t, pool, tableName(TopicDelayed)); n != 0 {
		t.Errorf("%d scheduled rows left", n)
	}
}

// A transaction that publishes (and schedules) and then rolls back leaves no
// message; the same transaction committed delivers both.
func TestTransactionalPublishCommitsOrRollsBackWithTheTransaction(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE outbox_test_writes (id text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	delivered := make(chan string, 10)
	newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
		mustAdd(t, r, "on-email-changed", ports.TopicPersonEmailChanged, func(ctx context.Context, msg ports.Message) error {
			delivered <- string(msg.Payload)
			return nil
		})
	})
	write := func(id string, commit bool) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, `INSERT INTO outbox_test_writes VALUES ($1)`, id); err != nil {
			t.Fatal(err)
		}
		if err := NewTxPublisher(tx).Publish(ctx, ports.Message{Topic: ports.TopicPersonEmailChanged, Payload: []byte(id + "-now")}); err != nil {
			t.Fatal(err)
		}
		if err := NewTxScheduler(tx).ScheduleAt(ctx, ports.TopicPersonEmailChanged, []byte(id+"-later"), time.Now()); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	write("rolled-back", false)
	if n := rows(t, pool, tableName(ports.TopicPersonEmailChanged)) + rows(t, pool, tableName(TopicDelayed)); n != 0 {
		t.Fatalf("%d messages left by a rolled-back transaction", n)
	}
	write("committed", true)
	want := map[string]bool{"committed-now": true, "committed-later": true}
	timeout := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case p := <-delivered:
			if !want[p] {
				t.Fatalf("unexpected delivery %q", p)
			}
			delete(want, p)
		case <-timeout:
			t.Fatalf("not delivered: %v", want)
		}
	}
	select {
	case p := <-delivered:
		t.Errorf("unexpected delivery %q", p)
	case <-time.After(300 * time.Millisecond):
	}
}

// The correlation id travels from the publisher's context to the handler's,
// and on to the messages the handler publishes.
func TestCorrelationIDTravels(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 6)
	seen := make(chan string, 2)
	newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
		mustAdd(t, r, "first", ports.TopicBillingEvent, func(ctx context.Context, msg ports.Message) error {
			seen <- ports.CorrelationID(ctx)
			return NewPublisher(pool).Publish(ctx, ports.Message{Topic: ports.TopicMemberChanged, Payload: []byte(`{}`)})
		})
		mustAdd(t, r, "second", ports.TopicMemberChanged, func(ctx context.Context, msg ports.Message) error {
			seen <- msg.Metadata["correlation_id"]
			return nil
		})
	})
	ctx := ports.WithCorrelationID(context.Background(), "req-42")
	if err := NewPublisher(pool).Publish(ctx, ports.Message{Topic: ports.TopicBillingEvent, Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		select {
		case id := <-seen:
			if id != "req-42" {
				t.Errorf("handler %d saw correlation id %q, want req-42", i+1, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not delivered")
		}
	}
}

// Shutting a router down while a handler runs does not dead-letter the
// message: it stays queued and another router processes it.
func TestShutdownRequeuesInFlightMessage(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 6)
	started := make(chan struct{}, 1)
	r1, err := NewRouter(pool, testLogger(t), &alerts{}, fastConfig)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, r1, "slow", ports.TopicJobRun, func(ctx context.Context, msg ports.Message) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	startRouter(t, r1)
	publish(t, pool, ports.TopicJobRun, "job-1")
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("not delivered")
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	if dls := openDeadLetters(t, pool); len(dls) != 0 {
		t.Fatalf("shutdown dead-lettered the message: %+v", dls)
	}
	if n := rows(t, pool, tableName(ports.TopicJobRun)); n != 1 {
		t.Fatalf("%d rows queued after shutdown, want 1", n)
	}
	done := make(chan string, 1)
	newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
		mustAdd(t, r, "slow", ports.TopicJobRun, func(ctx context.Context, msg ports.Message) error {
			done <- string(msg.Payload)
			return nil
		})
	})
	select {
	case p := <-done:
		if p != "job-1" {
			t.Errorf("payload %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("message not delivered again after shutdown")
	}
}

// Dead-letter operations inside a caller's transaction commit or roll back
// with it, so the caller can audit them atomically.
func TestDeadLetterStoreInCallerTransaction(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx := context.Background()
	al := &alerts{}
	newRouter(t, pool, fastConfig, al, func(r *Router) {
		mustAdd(t, r, "reject", ports.TopicPersonDeleted, func(ctx context.Context, msg ports.Message) error {
			return ports.Permanent(errors.New("no such person"))
		})
	})
	publish(t, pool, ports.TopicPersonDeleted, "a", "b")
	eventually(t, 10*time.Second, "two dead letters", func() bool { return len(openDeadLetters(t, pool)) == 2 })
	dls := openDeadLetters(t, pool)
	store := NewDeadLetterStore(pool)

	inTx := func(commit bool, fn func(s *DeadLetterStore) error) {
		t.Helper()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS audit (what text)`); err != nil {
				return err
			}
			if err := fn(NewDeadLetterStore(tx)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO audit VALUES ('resolved')`); err != nil {
				return err
			}
			if !commit {
				return errRollback
			}
			return nil
		})
		if err != nil && !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
	}

	// Abandon and Replay rolled back: nothing changes, nothing is published.
	inTx(false, func(s *DeadLetterStore) error { return s.Abandon(ctx, dls[0].ID, "op", "duplicate") })
	inTx(false, func(s *DeadLetterStore) error { return s.Replay(ctx, dls[1].ID, "op") })
	if n := len(openDeadLetters(t, pool)); n != 2 {
		t.Fatalf("%d open after rollback, want 2", n)
	}
	if n := rows(t, pool, tableName(ports.TopicPersonDeleted)); n != 0 {
		t.Fatalf("rolled-back replay left %d messages", n)
	}

	// Committed: abandoned with its reason; replayed and delivered again (and
	// dead-lettered again by the same handler, as a new open dead letter).
	inTx(true, func(s *DeadLetterStore) error { return s.Abandon(ctx, dls[0].ID, "op", "duplicate") })
	inTx(true, func(s *DeadLetterStore) error { return s.Replay(ctx, dls[1].ID, "op") })
	abandoned, err := store.Get(ctx, dls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if abandoned.Status != ports.DeadLetterAbandoned || abandoned.ResolutionNote != "duplicate" || abandoned.ResolvedBy != "op" {
		t.Errorf("abandoned = %+v", abandoned)
	}
	eventually(t, 10*time.Second, "replayed message failed again", func() bool {
		open := openDeadLetters(t, pool)
		return len(open) == 1 && open[0].MessageID == dls[1].MessageID && open[0].ID != dls[1].ID
	})
	if n := rows(t, pool, "audit"); n != 2 {
		t.Errorf("%d audit rows, want 2", n)
	}

	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"abandon twice", store.Abandon(ctx, dls[0].ID, "op", "again"), ports.ErrDeadLetterResolved},
		{"replay abandoned", store.Replay(ctx, dls[0].ID, "op"), ports.ErrDeadLetterResolved},
		{"abandon without reason", store.Abandon(ctx, dls[1].ID, "op", ""), nil},
		{"unknown id", store.Replay(ctx, "5d0f6a3e-5a2b-4c1d-9e8f-000000000000", "op"), ports.ErrNotFound},
		{"malformed id", func() error { _, err := store.Get(ctx, "not-a-uuid"); return err }(), ports.ErrNotFound},
	} {
		if tc.err == nil || (tc.want != nil && !errors.Is(tc.err, tc.want)) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}

	all, err := store.List(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[ports.DeadLetterStatus]int{}
	for _, d := range all {
		byStatus[d.Status]++
	}
	if byStatus[ports.DeadLetterOpen] != 1 || byStatus[ports.DeadLetterReplayed] != 1 || byStatus[ports.DeadLetterAbandoned] != 1 {
		t.Errorf("List all: %v", byStatus)
	}
	if _, err := store.List(ctx, "bogus", 10); err == nil {
		t.Error("List with an unknown status succeeded")
	}
	eventually(t, 5*time.Second, "three alerts", func() bool { return len(al.all()) >= 3 })
	if n := len(al.all()); n != 3 {
		t.Errorf("%d alerts, want 3 (one per dead letter)", n)
	}
}

var errRollback = errors.New("roll back")

// The router refuses configurations that break its guarantees.
func TestRouterRefusesUnsafeSetups(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	for name, cfg := range map[string]RouterConfig{
		"ack deadline within the handler timeout": {HandlerTimeout: 30 * time.Second, AckDeadline: 30 * time.Second},
		"retries longer than the handler timeout": {RetryInitialInterval: 2 * time.Second, HandlerTimeout: 3 * time.Second},
		"jitter of 100%": {RetryJitter: 1},
	} {
		if _, err := NewRouter(pool, testLogger(t), &alerts{}, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	r, err := NewRouter(pool, testLogger(t), &alerts{}, fastConfig)
	if err != nil {
		t.Fatal(err)
	}
	noop := func(context.Context, ports.Message) error { return nil }
	mustAdd(t, r, "one", ports.TopicJobRun, noop)
	for name, err := range map[string]error{
		"second handler on a topic": r.AddHandler("two", ports.TopicJobRun, noop),
		"same name twice":           r.AddHandler("one", ports.TopicPersonDeleted, noop),
		"unknown topic":             r.AddHandler("three", "no.such.topic", noop),
		"internal topic":            r.AddHandler("four", TopicDelayed, noop),
		"bad name":                  r.AddHandler("five#2", ports.TopicBillingEvent, noop),
		"nil handler":               r.AddHandler("six", ports.TopicBillingEvent, nil),
	} {
		if err == nil {
			t.Errorf("AddHandler with %s: accepted", name)
		}
	}
	// 1 + 2 consumers + the scheduler + 2 spare connections exceed 4.
	mustAdd(t, r, "seven", ports.TopicBillingEvent, noop, WithConsumers(2))
	if err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "pool") {
		t.Errorf("Run with too small a pool: %v", err)
	}
}

func TestUnknownTopicsAreRejected(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx := context.Background()
	if err := NewPublisher(pool).Publish(ctx, ports.Message{Topic: "no.such.topic"}); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("Publish: %v", err)
	}
	if err := NewScheduler(pool).ScheduleAt(ctx, "no.such.topic", nil, time.Now()); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("ScheduleAt: %v", err)
	}
	if err := NewPublisher(pool).Publish(ctx, ports.Message{Topic: TopicDelayed}); err == nil {
		t.Error("Publish straight to the scheduled table accepted")
	}
	// One call with an invalid message stores none of its messages.
	err := NewPublisher(pool).Publish(ctx,
		ports.Message{Topic: ports.TopicJobRun, Payload: []byte("ok")},
		ports.Message{Topic: "no.such.topic"})
	if err == nil || rows(t, pool, tableName(ports.TopicJobRun)) != 0 {
		t.Errorf("partial publish: err %v, %d rows", err, rows(t, pool, tableName(ports.TopicJobRun)))
	}
}

// Publishing more rows than one INSERT takes, on several topics, is one
// transaction that keeps order within a topic.
func TestLargePublishIsAtomicAndOrdered(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx := context.Background()
	var msgs []ports.Message
	for i := range 2*maxRowsPerInsert + 10 {
		msgs = append(msgs, ports.Message{Topic: ports.TopicJobRun, Payload: []byte(strconv.Itoa(i))})
	}
	msgs = append(msgs, ports.Message{Topic: ports.TopicBillingEvent, Payload: []byte("x")})
	if err := NewPublisher(pool).Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	r, err := pool.Query(ctx, `SELECT convert_from(payload, 'UTF8') FROM `+tableName(ports.TopicJobRun)+` ORDER BY "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*maxRowsPerInsert+10 {
		t.Fatalf("%d rows", len(got))
	}
	for i, p := range got {
		if p != strconv.Itoa(i) {
			t.Fatalf("row %d holds %q: order lost", i, p)
		}
	}
	if rows(t, pool, tableName(ports.TopicBillingEvent)) != 1 {
		t.Error("second topic not published")
	}
}

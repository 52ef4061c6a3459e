package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// roundTrips counts what a pgx connection sends: each query, and each batch
// (one round trip, however many statements it holds).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// testPool is a pool on a fresh database, traced, with at most maxConns
// connections.
func testPool(t testing.TB, maxConns int32) (*pgxpool.Pool, *roundTrips) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, trips
}

// outboxPublisher is a minimal ports.Publisher for these tests, writing as
// the messaging adapter does: an INSERT into the topic's table through the
// querier it is given (which defers it), never reading the result.
type outboxPublisher struct {
	q     postgres.Querier
	table string
}

func (p outboxPublisher) Publish(ctx context.Context, msgs ...ports.Message) error {
	for _, m := range msgs {
		if _, err := p.q.Exec(ctx, `INSERT INTO "`+p.table+`" (uuid, payload, metadata) VALUES (gen_random_uuid()::text, $1, '{}')`, m.Payload); err != nil {
			return err
		}
	}
	return nil
}

type noScheduler struct{}

func (noScheduler) ScheduleAt(context.Context, string, []byte, time.Time) error {
	return errors.New("not in these tests")
}

// testUoW builds a unit of work whose publisher writes to table. querier,
// when not nil, receives the transaction's (non-deferred) querier each time
// DeadLetters is called, so that tests can run raw statements in it.
func testUoW(t testing.TB, pool *pgxpool.Pool, table string, querier *postgres.Querier) *postgres.UnitOfWork {
	t.Helper()
	uow, err := postgres.NewUnitOfWork(pool, postgres.TxFactories{
		Publisher: func(q postgres.Querier) ports.Publisher { return outboxPublisher{q: q, table: table} },
		Scheduler: func(postgres.Querier) ports.Scheduler { return noScheduler{} },
		DeadLetters: func(q postgres.Querier) ports.DeadLetters {
			if querier != nil {
				*querier = q
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return uow
}

// ingest is the ingest use case's transaction, exactly
// (application.IngestBillingEvent): false for a duplicate.
func ingest(ctx context.Context, uow ports.UnitOfWork[ports.BillingInboxTx], ev ports.BillingEvent, msg ports.Message) (bool, error) {
	err := uow.Do(ctx, func(ctx context.Context, s ports.BillingInboxTx) error {
		if err := s.BillingInbox().Add(ctx, ev, "webhook"); err != nil {
			return err
		}
		return s.Publisher().Publish(ctx, msg)
	})
	if errors.Is(err, ports.ErrAlreadyStored) {
		return false, nil
	}
	return err == nil, err
}

func billingEvent(id string) (ports.BillingEvent, ports.Message) {
	return ports.BillingEvent{ID: id, Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated",
			Created: time.Now(), Payload: []byte(`{"id":"` + id + `"}`), SubscriptionID: "sub_1"},
		ports.Message{Topic: ports.TopicBillingEvent, Payload: []byte(`{"event_id":"` + id + `"}`)}
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertIdle fails when a pooled connection is left inside a transaction.
func assertIdle(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if n := count(t, pool, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`); n != 0 {
		t.Fatalf("%d connections are still in a transaction", n)
	}
}

// TestIngestTransactionTakesOneRoundTrip: a new event is stored and its
// message published in one batch, [BEGIN, INSERT inbox, INSERT outbox,
// COMMIT]. A duplicate costs the refused batch and a ROLLBACK, publishes
// nothing and leaves the stored event as it was.
func TestIngestTransactionTakesOneRoundTrip(t *testing.T) {
	t.Parallel()
	pool, trips := testPool(t, 1) // one connection: its statement cache is warm after the first ingest
	ctx := context.Background()
	uow, err := postgres.Scope[ports.BillingInboxTx](testUoW(t, pool, "watermill_billing.event", nil))
	if err != nil {
		t.Fatal(err)
	}
	warm, warmMsg := billingEvent("evt_warm")
	if _, err := ingest(ctx, uow, warm, warmMsg); err != nil {
		t.Fatal(err)
	}

	ev, msg := billingEvent("evt_1")
	before := trips.n.Load()
	if isNew, err := ingest(ctx, uow, ev, msg); err != nil || !isNew {
		t.Fatalf("new event: new %v, %v", isNew, err)
	}
	if n := trips.n.Load() - before; n != 1 {
		t.Fatalf("a new event took %d round trips, want 1 ([BEGIN, INSERT inbox, INSERT outbox, COMMIT])", n)
	}

	before = trips.n.Load()
	dup := ev
	dup.Type, dup.Payload = "customer.subscription.deleted", []byte(`{"changed":true}`)
	if isNew, err := ingest(ctx, uow, dup, msg); err != nil || isNew {
		t.Fatalf("duplicate: new %v, %v; want false and no error", isNew, err)
	}
	if n := trips.n.Load() - before; n != 2 {
		t.Fatalf("a duplicate took %d round trips, want 2 (the refused batch, ROLLBACK)", n)
	}
	assertIdle(t, pool)
	if inbox, outbox := count(t, pool, `SELECT count(*) FROM billing_inbox WHERE event_id = 'evt_1'`),
		count(t, pool, `SELECT count(*) FROM "watermill_billing.event" WHERE payload = convert_to('{"event_id":"evt_1"}', 'UTF8')`); inbox != 1 || outbox != 1 {
		t.Fatalf("after a duplicate: inbox %d, outbox %d; want 1 and 1", inbox, outbox)
	}
	got, err := postgres.NewBillingInbox(pool).Get(ctx, "evt_1")
	if err != nil || got.Kind != ports.BillingSubscriptionChanged || got.Type != ev.Type || got.Source != "webhook" {
		t.Fatalf("stored event = %+v, %v", got, err)
	}
}

func TestUnitOfWorkRollsBackWhenFnFails(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 2)
	ctx := context.Background()
	uow, err := postgres.Scope[ports.BillingInboxTx](testUoW(t, pool, "watermill_billing.event", nil))
	if err != nil {
		t.Fatal(err)
	}
	ev, msg := billingEvent("evt_fn_fails")
	boom := errors.New("boom")
	err = uow.Do(ctx, func(ctx context.Context, s ports.BillingInboxTx) error {
		if _, err := s.BillingInbox().Insert(ctx, ev, "webhook"); err != nil {
			return err
		}
		if err := s.Publisher().Publish(ctx, msg); err != nil { // queued, never sent
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Do = %v, want fn's error as is", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM billing_inbox`) + count(t, pool, `SELECT count(*) FROM "watermill_billing.event"`); n != 0 {
		t.Fatalf("%d rows survived the rollback", n)
	}
	assertIdle(t, pool)
}

func TestUnitOfWorkFailingQueuedWriteFailsTheCommit(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 2)
	ctx := context.Background()
	uow, err := postgres.Scope[ports.BillingInboxTx](testUoW(t, pool, "no_such_table", nil))
	if err != nil {
		t.Fatal(err)
	}
	ev, msg := billingEvent("evt_outbox_fails")
	_, err = ingest(ctx, uow, ev, msg)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Fatalf("Do = %v, want the queued INSERT's undefined_table error", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM billing_inbox`); n != 0 {
		t.Fatal("the event was stored without its message")
	}
	assertIdle(t, pool)

	// A queued write's error also surfaces at the next statement, and the
	// transaction stays failed even if fn carries on.
	err = uow.Do(ctx, func(ctx context.Context, s ports.BillingInboxTx) error {
		if err := s.Publisher().Publish(ctx, msg); err != nil {
			return err
		}
		if _, err := s.BillingInbox().Insert(ctx, ev, "webhook"); !errors.As(err, &pgErr) {
			t.Errorf("the statement after a failing queued write = %v", err)
		}
		_, err := s.BillingInbox().Has(ctx, []string{ev.ID})
		if err == nil {
			t.Error("a failed transaction ran another statement")
		}
		return nil // ignore it: the commit must still fail
	})
	if err == nil {
		t.Fatal("a transaction whose queued write failed committed")
	}
	if n := count(t, pool, `SELECT count(*) FROM billing_inbox`); n != 0 {
		t.Fatal("the event was stored without its message")
	}
	assertIdle(t, pool)
}

func TestUnitOfWorkCommitAnsweredWithRollbackIsAnError(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 2)
	ctx := context.Background()
	var q postgres.Querier
	uow := testUoW(t, pool, "watermill_billing.event", &q)
	err := uow.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error {
		_ = tx.DeadLetters()
		if _, err := tx.BillingInbox().Insert(ctx, ports.BillingEvent{ID: "evt_x", Kind: ports.BillingEventOther, Type: "x", Created: time.Now(), Payload: []byte(`{}`)}, "webhook"); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `SELECT 1/0`); err == nil {
			t.Error("division by zero succeeded")
		}
		return nil // the error is ignored: PostgreSQL aborted the transaction
	})
	if err == nil || !strings.Contains(err.Error(), `commit answered "ROLLBACK"`) {
		t.Fatalf("Do = %v, want the commit answered with ROLLBACK", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM billing_inbox`); n != 0 {
		t.Fatal("a row of the aborted transaction was stored")
	}
	assertIdle(t, pool)
}

func TestUnitOfWorkThatIssuesNothingSendsNothing(t *testing.T) {
	t.Parallel()
	pool, trips := testPool(t, 1)
	ctx := context.Background()
	uow := testUoW(t, pool, "watermill_billing.event", nil)
	before := trips.n.Load()
	if err := uow.Do(ctx, func(context.Context, *postgres.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := uow.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error {
		_, _ = tx.Publisher(), tx.BillingInbox() // handing out stores sends nothing
		return errors.New("rolled back before anything was sent")
	}); err == nil {
		t.Fatal("fn's error was lost")
	}
	if n := trips.n.Load() - before; n != 0 {
		t.Fatalf("transactions that issued nothing took %d round trips", n)
	}
	if st := pool.Stat(); st.AcquireCount() != 0 {
		t.Fatalf("they acquired %d connections", st.AcquireCount())
	}

	// Queued writes alone: BEGIN, the writes and COMMIT in one round trip.
	_, msg := billingEvent("evt_publish_only")
	if err := uow.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error { return tx.Publisher().Publish(ctx, msg, msg) }); err != nil {
		t.Fatal(err)
	}
	before = trips.n.Load()
	if err := uow.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error { return tx.Publisher().Publish(ctx, msg, msg) }); err != nil {
		t.Fatal(err)
	}
	if n := trips.n.Load() - before; n != 1 {
		t.Fatalf("a publish-only transaction took %d round trips, want 1", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM "watermill_billing.event"`); n != 4 {
		t.Fatalf("outbox holds %d messages, want 4", n)
	}
}

func TestUnitOfWorkSavepointsNest(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 2)
	ctx := context.Background()
	var q postgres.Querier
	uow := testUoW(t, pool, "watermill_billing.event", &q)
	insert := func(ctx context.Context, db postgres.Querier, id string) error {
		_, err := db.Exec(ctx, `INSERT INTO webhook_inbox (source, delivery_id) VALUES ('test', $1)`, id)
		return err
	}
	var personID string
	err := uow.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error {
		_ = tx.DeadLetters()
		if err := insert(ctx, q, "outer"); err != nil {
			return err
		}
		// A savepoint rolled back undoes its writes, queued ones included,
		// and leaves the transaction usable.
		err := pgx.BeginFunc(ctx, q, func(sp pgx.Tx) error {
			if err := insert(ctx, sp, "rolled-back"); err != nil {
				return err
			}
			if err := tx.Publisher().Publish(ctx, ports.Message{Topic: ports.TopicBillingEvent, Payload: []byte(`rolled-back`)}); err != nil {
				return err
			}
			return insert(ctx, sp, "outer") // duplicate key
		})
		if err == nil {
			t.Error("the duplicate insert succeeded")
		}
		// Nested savepoints, released.
		err = pgx.BeginFunc(ctx, q, func(sp pgx.Tx) error {
			if err := insert(ctx, sp, "level-1"); err != nil {
				return err
			}
			return pgx.BeginFunc(ctx, sp, func(sp2 pgx.Tx) error { return insert(ctx, sp2, "level-2") })
		})
		if err != nil {
			return err
		}
		// The stores' own savepoints: an update for an unknown person fails
		// inside one, and the transaction carries on.
		if err := tx.Memberships().Update(ctx, "00000000-0000-0000-0000-000000000000", func(*membership.Membership) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("update of an unknown person = %v, want ErrNotFound", err)
		}
		p, err := tx.People().Create(ctx, "ada@example.test", "Ada", "Lovelace")
		if err != nil {
			return err
		}
		personID = p.ID
		return tx.Memberships().Update(ctx, p.ID, func(*membership.Membership) error { return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	rows, _ := pool.Query(ctx, `SELECT delivery_id FROM webhook_inbox WHERE source = 'test' ORDER BY delivery_id`)
	ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"level-1", "level-2", "outer"}; len(ids) != 3 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
		t.Fatalf("committed %v, want %v", ids, want)
	}
	if n := count(t, pool, `SELECT count(*) FROM "watermill_billing.event"`); n != 0 {
		t.Fatal("a message published in a rolled-back savepoint was stored")
	}
	if n := count(t, pool, `SELECT count(*) FROM memberships WHERE person_id = $1`, personID); n != 1 {
		t.Fatal("the membership was not stored")
	}
}

func TestUnitOfWorkNeverReturnsAConnectionInsideATransaction(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 1) // a connection left in a transaction would be the next one handed out
	uow, err := postgres.Scope[ports.BillingInboxTx](testUoW(t, pool, "watermill_billing.event", nil))
	if err != nil {
		t.Fatal(err)
	}
	ev, msg := billingEvent("evt_cancelled")

	// The context ends between statements: the commit is refused, and the
	// ROLLBACK still runs.
	ctx, cancel := context.WithCancel(context.Background())
	err = uow.Do(ctx, func(ctx context.Context, s ports.BillingInboxTx) error {
		if _, err := s.BillingInbox().Insert(ctx, ev, "webhook"); err != nil {
			return err
		}
		cancel()
		return s.Publisher().Publish(ctx, msg)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
	assertUnused(t, pool)

	// Mid-statement, for real: a slow statement outlives the context.
	var q postgres.Querier
	raw := testUoW(t, pool, "watermill_billing.event", &q)
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = raw.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error {
		_ = tx.DeadLetters()
		if _, err := tx.BillingInbox().Insert(ctx, ev, "webhook"); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `SELECT pg_sleep(2)`)
		return err
	})
	if err == nil {
		t.Fatal("a statement outlived its context")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Do returned %s after its context ended", d)
	}
	assertUnused(t, pool)
}

// assertUnused checks that the pool's connection is outside any
// transaction and that nothing was committed.
func assertUnused(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if st := conn.Conn().PgConn().TxStatus(); st != 'I' {
		t.Fatalf("the pool handed out a connection in transaction status %q", st)
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM billing_inbox`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("billing_inbox holds %d rows (%v), want 0", n, err)
	}
}

func TestScopeChecksThatTxProvidesTheScope(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 1)
	uow := testUoW(t, pool, "watermill_billing.event", nil)
	if _, err := postgres.Scope[ports.MembershipTx](uow); err != nil {
		t.Errorf("MembershipTx: %v", err)
	}
	if _, err := postgres.Scope[ports.PeopleTx](uow); err != nil {
		t.Errorf("PeopleTx: %v", err)
	}
	if _, err := postgres.Scope[ports.JobTx](uow); err != nil {
		t.Errorf("JobTx: %v", err)
	}
	if _, err := postgres.Scope[ports.DeadLetterTx](uow); err != nil {
		t.Errorf("DeadLetterTx: %v", err)
	}
	if _, err := postgres.Scope[*postgres.Tx](uow); err != nil {
		t.Errorf("*Tx: %v", err)
	}
	if _, err := postgres.Scope[interface{ Mailer() ports.Publisher }](uow); err == nil {
		t.Error("a scope *Tx does not provide was accepted")
	}
	if _, err := postgres.Scope[string](uow); err == nil {
		t.Error("a non-interface scope was accepted")
	}
}

func TestNewUnitOfWorkRefusesMissingFactories(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 1)
	if _, err := postgres.NewUnitOfWork(pool, postgres.TxFactories{}); err == nil {
		t.Fatal("a unit of work without factories was built")
	}
}

// hookedPublisher writes as outboxPublisher does and, like the messaging
// adapter, asks its transaction to call committed once it has committed.
type hookedPublisher struct {
	outboxPublisher
	committed func()
}

func (p hookedPublisher) Publish(ctx context.Context, msgs ...ports.Message) error {
	if err := p.outboxPublisher.Publish(ctx, msgs...); err != nil {
		return err
	}
	ac, ok := p.q.(interface{ AfterCommit(func()) })
	if !ok {
		return errors.New("the publisher's querier cannot run functions after commit")
	}
	ac.AfterCommit(p.committed)
	return nil
}

// TestUnitOfWorkRunsAfterCommitHooksOnlyOnceCommitted: a publisher's
// after-commit hook runs when the transaction has committed (its rows are
// visible to other connections by then), and never when fn fails or the
// commit does.
func TestUnitOfWorkRunsAfterCommitHooksOnlyOnceCommitted(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 3)
	ctx := context.Background()
	for _, tc := range []struct {
		name, table string
		fnErr       error
		wantRuns    int
	}{
		{"committed", "watermill_billing.event", nil, 1},
		{"fn failed", "watermill_billing.event", errors.New("boom"), 0},
		{"the commit failed", "no_such_table", nil, 0},
	} {
		runs, seen := 0, -1
		uow, err := postgres.NewUnitOfWork(pool, postgres.TxFactories{
			Publisher: func(q postgres.Querier) ports.Publisher {
				return hookedPublisher{outboxPublisher{q: q, table: tc.table}, func() {
					runs++
					seen = count(t, pool, `SELECT count(*) FROM "watermill_billing.event"`)
				}}
			},
			Scheduler:   func(postgres.Querier) ports.Scheduler { return noScheduler{} },
			DeadLetters: func(postgres.Querier) ports.DeadLetters { return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		before := count(t, pool, `SELECT count(*) FROM "watermill_billing.event"`)
		err = uow.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error {
			if err := tx.Publisher().Publish(ctx, ports.Message{Payload: []byte("x")}); err != nil {
				return err
			}
			return tc.fnErr
		})
		if (err == nil) != (tc.wantRuns == 1) || runs != tc.wantRuns {
			t.Fatalf("%s: Do = %v, the hook ran %d times; want %d", tc.name, err, runs, tc.wantRuns)
		}
		if runs == 1 && seen != before+1 {
			t.Fatalf("%s: the hook saw %d rows, want the committed one (%d)", tc.name, seen, before+1)
		}
	}
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// Tx is one transaction of a UnitOfWork, and every transaction scope of
// ports (MembershipTx, PeopleTx, ...): its accessors hand out stores bound to
// it. It pipelines its statements so that a transaction costs as few round
// trips as the work allows:
//
//   - BEGIN is not sent on its own: it goes with the first statement. A
//     transaction that issues nothing sends nothing, not even BEGIN.
//   - Writes whose result nobody reads (the outbox and scheduler INSERTs,
//     audit entries, savepoint bookkeeping) are queued and sent with the
//     next statement that needs a result, or with COMMIT.
//   - A write whose failure is an answer (BillingInbox.Add: the id is
//     already stored) is queued like them, and the transaction fails with
//     the answer it maps the error to (enqueueMapped).
//   - A statement that needs a result (Exec for its command tag, Query,
//     QueryRow) is sent in one batch with everything queued before it.
//
// A queued statement's error surfaces at the next round trip or at commit,
// and then the transaction fails as a whole: every later call returns that
// error and Do rolls back. An error of a statement that needs a result is
// returned to its caller, as pgx.Tx would; a savepoint (Querier.Begin)
// lets the caller carry on after it.
//
// A Tx is not safe for concurrent use, and is valid only inside Do.
type Tx struct {
	pool  *pgxpool.Pool
	f     *TxFactories
	conn  *pgxpool.Conn // acquired with the first round trip
	begun bool          // BEGIN has been sent
	queue []queued      // sent with the next round trip
	err   error         // set when the transaction has failed as a whole

	savepoints  int
	afterCommit []func() // run once the transaction has committed
	publisher   ports.Publisher
	scheduler   ports.Scheduler
	deadLetters ports.DeadLetters
}

type queued struct {
	sql    string
	args   []any
	mapErr func(error) error // when set, the statement's error as the transaction fails with it
}

// Compile-time checks: a Tx serves every transaction scope of ports.
var (
	_ ports.Outbox         = (*Tx)(nil)
	_ ports.Audited        = (*Tx)(nil)
	_ ports.MembershipTx   = (*Tx)(nil)
	_ ports.PeopleTx       = (*Tx)(nil)
	_ ports.CustomerLinkTx = (*Tx)(nil)
	_ ports.EmailSyncTx    = (*Tx)(nil)
	_ ports.BillingInboxTx = (*Tx)(nil)
	_ ports.JobTx          = (*Tx)(nil)
	_ ports.DeadLetterTx   = (*Tx)(nil)
)

// errTxDone is returned by a Tx used after its Do returned.
var errTxDone = errors.New("postgres: the transaction has ended")

// rollbackTimeout bounds the ROLLBACK sent when a transaction fails, which
// runs even when the caller's context is done.
const rollbackTimeout = 5 * time.Second

// Publisher publishes in the transaction: its INSERTs are queued.
func (t *Tx) Publisher() ports.Publisher {
	if t.publisher == nil {
		t.publisher = t.f.Publisher(deferredQuerier{t})
	}
	return t.publisher
}

// Scheduler schedules in the transaction: its INSERTs are queued.
func (t *Tx) Scheduler() ports.Scheduler {
	if t.scheduler == nil {
		t.scheduler = t.f.Scheduler(deferredQuerier{t})
	}
	return t.scheduler
}

// DeadLetters resolves dead letters in the transaction.
func (t *Tx) DeadLetters() ports.DeadLetters {
	if t.deadLetters == nil {
		t.deadLetters = t.f.DeadLetters(txQuerier{t})
	}
	return t.deadLetters
}

// Audit records entries in the transaction: its INSERTs are queued.
func (t *Tx) Audit() ports.AuditLog { return NewAuditLog(deferredQuerier{t}) }

// JobRuns returns the job runs in the transaction.
func (t *Tx) JobRuns() ports.JobRuns { return NewJobRuns(txQuerier{t}) }

// People returns the people in the transaction.
func (t *Tx) People() ports.People { return NewPeopleStore(txQuerier{t}) }

// Memberships returns the memberships in the transaction.
func (t *Tx) Memberships() ports.Memberships { return NewMembershipStore(txQuerier{t}) }

// Duplicates returns the duplicate subscription sets in the transaction.
func (t *Tx) Duplicates() ports.DuplicateSubscriptions {
	return NewDuplicateSubscriptions(txQuerier{t})
}

// WebhookInbox returns the webhook inbox in the transaction.
func (t *Tx) WebhookInbox() ports.WebhookInbox { return NewWebhookInbox(txQuerier{t}) }

// Integrations returns the integration states in the transaction.
func (t *Tx) Integrations() ports.Integrations { return NewIntegrationStore(txQuerier{t}) }

// SideEffects returns the side-effect intents in the transaction.
func (t *Tx) SideEffects() ports.SideEffects { return NewSideEffects(txQuerier{t}) }

// BillingInbox returns the billing inbox in the transaction.
func (t *Tx) BillingInbox() ports.BillingInbox { return &BillingInbox{q: txQuerier{t}, tx: t} }

// enqueue queues a statement whose result nobody reads.
func (t *Tx) enqueue(sql string, args []any) error {
	if t.err != nil {
		return t.err
	}
	t.queue = append(t.queue, queued{sql: sql, args: args})
	return nil
}

// enqueueMapped queues a write whose failure is an answer, not only a
// fault (a duplicate key, say): the transaction fails with mapErr(err)
// instead of the plain error, and Do returns that.
func (t *Tx) enqueueMapped(sql string, args []any, mapErr func(error) error) error {
	if t.err != nil {
		return t.err
	}
	t.queue = append(t.queue, queued{sql: sql, args: args, mapErr: mapErr})
	return nil
}

// send sends, in one batch, BEGIN (the first time), the queued statements
// and then sql (unless it is empty), and reads the results of all but sql's:
// the caller reads that one and closes the batch. Any failure here fails the
// transaction as a whole, since queued work would otherwise be lost.
func (t *Tx) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	if t.err != nil {
		return nil, t.err
	}
	if t.conn == nil {
		conn, err := t.pool.Acquire(ctx)
		if err != nil {
			t.err = fmt.Errorf("postgres: begin: %w", err)
			return nil, t.err
		}
		t.conn = conn
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(t.queue)+2)}
	begin := !t.begun
	if begin {
		b.Queue("BEGIN")
	}
	queue := t.queue
	for _, q := range queue {
		b.Queue(q.sql, q.args...)
	}
	t.queue = nil
	if sql != "" {
		b.Queue(sql, args...)
	}
	br := t.conn.SendBatch(ctx, b)
	t.begun = true
	fail := func(err error) (pgx.BatchResults, error) {
		_ = br.Close()
		t.err = err
		return nil, err
	}
	if begin {
		if _, err := br.Exec(); err != nil {
			return fail(fmt.Errorf("postgres: begin: %w", err))
		}
	}
	for _, q := range queue {
		if _, err := br.Exec(); err != nil {
			if q.mapErr != nil {
				return fail(q.mapErr(err))
			}
			return fail(fmt.Errorf("postgres: queued statement: %w", err))
		}
	}
	return br, nil
}

// check fails the transaction when the connection was lost (pgx closes it
// on errors it cannot resynchronise after, and when a context is done
// mid-statement). Errors PostgreSQL answered leave it usable.
func (t *Tx) check(err error) {
	if err != nil && t.err == nil && t.conn != nil && t.conn.Conn().IsClosed() {
		t.err = fmt.Errorf("postgres: connection lost: %w", err)
	}
}

// flush sends BEGIN and the queued statements, if any are waiting.
func (t *Tx) flush(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	if t.begun && len(t.queue) == 0 {
		return nil
	}
	br, err := t.send(ctx, "", nil)
	if err != nil {
		return err
	}
	err = br.Close()
	t.check(err)
	return err
}

func (t *Tx) exec(ctx context.Context, sql string, args []any) (pgconn.CommandTag, error) {
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	t.check(err)
	return tag, err
}

func (t *Tx) query(ctx context.Context, sql string, args []any) (pgx.Rows, error) {
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return errRows{err}, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		t.check(err)
		return errRows{err}, err
	}
	return &batchRows{Rows: rows, br: br, t: t}, nil
}

// commit sends the queue with COMMIT and checks the answer: an aborted
// transaction answers COMMIT with ROLLBACK.
func (t *Tx) commit(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	if !t.begun && len(t.queue) == 0 {
		return nil // nothing issued: nothing to send
	}
	br, err := t.send(ctx, "COMMIT", nil)
	if err != nil {
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("postgres: commit answered %q: the transaction was rolled back", tag.String())
	}
	return nil
}

// end rolls back whatever is still open and returns the connection to the
// pool, never inside a transaction: when even ROLLBACK fails, the
// connection is closed and the pool replaces it.
func (t *Tx) end(ctx context.Context) {
	t.err, t.queue = errTxDone, nil
	conn := t.conn
	if conn == nil {
		return
	}
	t.conn = nil
	defer conn.Release()
	pg := conn.Conn().PgConn()
	if pg.IsClosed() || (!pg.IsBusy() && pg.TxStatus() == 'I') {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, err := conn.Exec(rctx, "ROLLBACK"); err != nil {
		_ = conn.Conn().Close(rctx)
	}
}

// txQuerier runs statements in the transaction, each with the queue.
type txQuerier struct{ t *Tx }

// The messaging adapter finds the after-commit hook by this method alone
// (a publish's or a replay's wakeup): keep it on both queriers.
var (
	_ interface{ AfterCommit(func()) } = txQuerier{}
	_ interface{ AfterCommit(func()) } = deferredQuerier{}
)

// AfterCommit runs fn once the transaction has committed, never if it does
// not (a dead letter replayed in it wakes its topic's consumers with it).
func (q txQuerier) AfterCommit(fn func()) { q.t.afterCommit = append(q.t.afterCommit, fn) }

func (q txQuerier) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return q.t.exec(ctx, sql, args)
}

func (q txQuerier) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return q.t.query(ctx, sql, args)
}

func (q txQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, _ := q.t.query(ctx, sql, args)
	return row{rows}
}

// Begin opens a savepoint.
func (q txQuerier) Begin(context.Context) (pgx.Tx, error) { return q.t.savepoint(q) }

// deferredQuerier queues its Exec statements: they are sent with the next
// round trip, their command tag is empty and their error surfaces later,
// failing the transaction. For writers that read no result (the outbox).
type deferredQuerier struct{ t *Tx }

// AfterCommit runs fn once the transaction has committed, never if it does
// not (the messaging publisher wakes the topic's consumers with it).
func (q deferredQuerier) AfterCommit(fn func()) { txQuerier(q).AfterCommit(fn) }

func (q deferredQuerier) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, q.t.enqueue(sql, args)
}

func (q deferredQuerier) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return q.t.query(ctx, sql, args)
}

func (q deferredQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, _ := q.t.query(ctx, sql, args)
	return row{rows}
}

// Begin opens a savepoint.
func (q deferredQuerier) Begin(context.Context) (pgx.Tx, error) { return q.t.savepoint(q) }

// savepoint is a nested transaction (pgx.BeginFunc on a store's Querier
// inside a unit of work). SAVEPOINT, RELEASE and ROLLBACK TO are queued like
// any write whose result nobody reads.
type savepoint struct {
	t    *Tx
	q    Querier // the querier it was opened on
	name string
	done bool
}

var _ pgx.Tx = (*savepoint)(nil)

func (t *Tx) savepoint(q Querier) (pgx.Tx, error) {
	t.savepoints++
	name := "sp_" + strconv.Itoa(t.savepoints)
	if err := t.enqueue("SAVEPOINT "+name, nil); err != nil {
		return nil, err
	}
	return &savepoint{t: t, q: q, name: name}, nil
}

func (s *savepoint) Begin(context.Context) (pgx.Tx, error) {
	if s.done {
		return nil, pgx.ErrTxClosed
	}
	return s.t.savepoint(s.q)
}

func (s *savepoint) Commit(context.Context) error {
	if s.done {
		return pgx.ErrTxClosed
	}
	s.done = true
	return s.t.enqueue("RELEASE SAVEPOINT "+s.name, nil)
}

// Rollback queues ROLLBACK TO SAVEPOINT, unless a statement failed in the
// savepoint: the transaction is then aborted, PostgreSQL refuses to prepare
// anything before the rollback, and so it is sent at once, in the simple
// protocol. What was queued since the failure would have been refused too;
// it is dropped, as the rollback undoes it.
func (s *savepoint) Rollback(ctx context.Context) error {
	if s.done {
		return pgx.ErrTxClosed
	}
	s.done = true
	t := s.t
	if t.err != nil {
		return t.err
	}
	rollback := "ROLLBACK TO SAVEPOINT " + s.name
	if t.conn == nil || t.conn.Conn().PgConn().TxStatus() != 'E' {
		return t.enqueue(rollback, nil)
	}
	for _, q := range t.queue {
		if q.sql == "SAVEPOINT "+s.name { // opened after the failure: PostgreSQL ignored it
			t.err = fmt.Errorf("postgres: savepoint %s was opened in an aborted transaction", s.name)
			return t.err
		}
	}
	t.queue = nil
	_, err := t.conn.Exec(ctx, rollback, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.err = fmt.Errorf("postgres: rollback to savepoint: %w", err)
	}
	return t.err
}

func (s *savepoint) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if s.done {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	return s.q.Exec(ctx, sql, args...)
}

func (s *savepoint) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if s.done {
		return errRows{pgx.ErrTxClosed}, pgx.ErrTxClosed
	}
	return s.q.Query(ctx, sql, args...)
}

func (s *savepoint) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if s.done {
		return row{errRows{pgx.ErrTxClosed}}
	}
	return s.q.QueryRow(ctx, sql, args...)
}

// CopyFrom flushes the queue, then copies on the connection.
func (s *savepoint) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	n, err := s.t.conn.Conn().CopyFrom(ctx, table, columns, src)
	s.t.check(err)
	return n, err
}

// SendBatch flushes the queue, then sends b on the connection.
func (s *savepoint) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := s.usable(ctx); err != nil {
		return errBatch{err}
	}
	return checkedBatch{BatchResults: s.t.conn.SendBatch(ctx, b), t: s.t}
}

// checkedBatch fails the transaction when closing the batch finds the
// connection lost.
type checkedBatch struct {
	pgx.BatchResults
	t *Tx
}

func (b checkedBatch) Close() error {
	err := b.BatchResults.Close()
	b.t.check(err)
	return err
}

// LargeObjects is not supported in a unit of work: the zero value it
// returns fails on use.
func (s *savepoint) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Prepare flushes the queue, then prepares on the connection.
func (s *savepoint) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	return s.t.conn.Conn().Prepare(ctx, name, sql)
}

// Conn returns the connection, nil before the first round trip.
func (s *savepoint) Conn() *pgx.Conn {
	if s.t.conn == nil {
		return nil
	}
	return s.t.conn.Conn()
}

func (s *savepoint) usable(ctx context.Context) error {
	if s.done {
		return pgx.ErrTxClosed
	}
	return s.t.flush(ctx)
}

// batchRows are a query's rows read from a batch: the batch is closed (and
// the connection free again) once they are read or closed.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	t      *Tx
	err    error
	closed bool
}

func (r *batchRows) Next() bool {
	if r.closed {
		return false
	}
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	if err := r.br.Close(); err != nil && r.Rows.Err() == nil {
		r.err = err
	}
	r.t.check(r.Err())
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// row is QueryRow's result, as pgx's: ErrNoRows when there is none.
type row struct{ rows pgx.Rows }

func (r row) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// errRows are the rows of a query that was not run.
type errRows struct{ err error }

func (r errRows) Close()                                       {}
func (r errRows) Err() error                                   { return r.err }
func (r errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (r errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (r errRows) Next() bool                                   { return false }
func (r errRows) Scan(...any) error                            { return r.err }
func (r errRows) Values() ([]any, error)                       { return nil, r.err }
func (r errRows) RawValues() [][]byte                          { return nil }
func (r errRows) Conn() *pgx.Conn                              { return nil }
func (r errRows) TypeMap() *pgtype.Map                         { return nil }

// errBatch is the result of a batch that was not sent.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return errRows(b), b.err }
func (b errBatch) QueryRow() pgx.Row                { return row{errRows(b)} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }

// Package messaging implements the messaging ports (ports.Publisher,
// ports.Scheduler, ports.DeadLetters) and delivers messages to handlers, with
// Watermill and watermill-sql v4 on the application's PostgreSQL pool.
//
// # Pieces
//
//   - Publisher: NewTxPublisher(tx) writes messages in the caller's pgx.Tx
//     (the transactional outbox: they exist if and only if tx commits);
//     NewPublisher(pool) writes outside a transaction.
//   - Scheduler: NewTxScheduler(tx) / NewScheduler(pool). A scheduled message
//     waits in the "delayed" table (with a deliver_at column, microsecond
//     precision, rounded up) until its time; a router then moves it to its
//     topic in the transaction that acks it.
//   - Router: NewRouter(pool, logger, alerter, cfg), AddHandler(name, topic,
//     func(ctx, ports.Message) error, WithConsumers(n)), Run, Close.
//     Application code never sees a Watermill type.
//   - DeadLetterStore: List, Get, Replay, Abandon on the dead_letters table,
//     on the pool or inside a caller's transaction (NewDeadLetterStore(tx)),
//     so that the caller's audit record commits with the change.
//
// Tables come from migrations (00002_messaging.sql), one per topic in Topics,
// never from AutoInitializeSchema. To add a topic: a constant in ports, a line
// in Topics, and a migration with SELECT messaging_create_topic('the.topic').
//
// # Handler contract
//
// Each message is delivered at least once; in normal operation exactly once
// (TestExactlyOnceAcrossRoutersWithSeparatePools), again after a crash, a
// shutdown mid-message or a missed ack deadline. Handlers must therefore be
// idempotent (a unique key in PostgreSQL, or a state computed from the source
// of truth), and do their writes in their own transaction: the subscriber's
// transaction is hidden from them (see defect 2 below, and docs/messaging.md).
// A handler that publishes follow-up messages does so with NewTxPublisher on
// its own transaction. Return ports.Permanent(err) for a failure that retrying
// cannot fix.
//
// # Middleware chain (outermost first)
//
//	correlation id → timeout → dead letter (poison) → retry → recoverer → handler
//
// The timeout (HandlerTimeout, 20s) bounds all attempts of a message together;
// retry makes up to 3 more attempts with exponential backoff (200ms, ×2, max
// 5s, ±50% jitter) unless the error is permanent; the dead-letter step sees
// the message only when the retries are spent, writes it to dead_letters in
// the subscriber's transaction (committed with the ack, so nothing is lost
// between them) and, after the commit, raises one alert. The AckDeadline
// (30s) must exceed HandlerTimeout by 5s: NewRouter checks it, and that the
// retries fit in HandlerTimeout.
//
// # Guards against the defects of watermill-sql v4.1.2
//
// (numbered as in docs/messaging.md, which explains each one; each guard
// has a test that runs the same scenario against the library's own adapter
// and shows the defect there)
//
//  1. A queue batch is acked as a whole. ackedRowsOnly, our offsets adapter,
//     acks only the rows up to the last delivered-and-acked one; the rest stay
//     queued. TestDefect1UnackedRowsOfABatchAreDeliveredAgain (a missed ack
//     deadline, and a subscriber closed mid-batch).
//  2. A nack does not roll back the subscriber's transaction. Handlers do
//     their writes in their own transaction, idempotently: their context
//     (handlerContext) does not carry the subscriber's transaction, so a
//     failed attempt cannot leave writes in it. Our own writes in it (dead
//     letters, moving scheduled messages) each run in a savepoint
//     (subscriberTx.within). TestDefect2FailedAttemptsLeaveNoWrites,
//     TestFailsTwiceThenSucceeds.
//  3. The delayed subscriber with AllowNoDelay and without DeleteOnAck
//     redelivers for ever. Scheduled rows are deleted on ack, and selected by
//     deliver_at <= now() (no OR clause). TestDefect3ScheduledMessagesArriveOnce,
//     TestScheduledMessageArrivesOnTime.
//  4. Middleware order can cause endless silent redelivery. Timeout sits
//     outside the dead-letter step, which sits outside retry, and the dead
//     letter is written with a context detached from cancellation.
//     TestDefect4TimedOutMessageIsDeadLetteredNotLooped.
//  5. More subscribers do not add throughput. queueSchema claims rows with
//     FOR UPDATE SKIP LOCKED at READ COMMITTED.
//     TestDefect5SubscribersDoNotBlockEachOther; BenchmarkConsume compares
//     4 consumers with the library's schema.
//  7. Without DeleteOnAck every poll scans the history. Acked rows are
//     deleted, so the tables hold only the backlog.
//     TestExactlyOnceAcrossRoutersWithSeparatePools checks the queue is empty.
//
// Besides: the subscriber's transaction serialises our writes with its ack
// and commit (a pgx connection is not safe for concurrent use), and its ack
// and commit complete during a shutdown, so handled messages are not
// delivered again; a shutdown never dead-letters the messages in flight
// (TestShutdownRequeuesInFlightMessage).
//
// # Sizing
//
// Each consumer holds a connection while it works through a batch; Run
// refuses a pool smaller than the consumers plus 2. The scheduler's mover is
// one consumer per router.
package messaging

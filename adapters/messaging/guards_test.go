package messaging

// Each watermill-sql v4.1.2 defect (numbered in docs/messaging.md) has a test
// here that runs the same scenario with the guard and without it (the
// library's own adapter), showing the guard makes the difference.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// libraryQueueSchema is the library's queue schema on our tables.
var libraryQueueSchema = wsql.PostgreSQLQueueSchema{
	GeneratePayloadType: func(string) string { return "BYTEA" },
	SubscribeBatchSize:  10,
}

func rawSubscriber(t *testing.T, pool *pgxpool.Pool, schema wsql.SchemaAdapter, offsets wsql.OffsetsAdapter, ackDeadline time.Duration) *wsql.Subscriber {
	t.Helper()
	sub, err := wsql.NewSubscriber(subscriberDB{pool: pool}, wsql.SubscriberConfig{
		AckDeadline:    &ackDeadline,
		PollInterval:   50 * time.Millisecond,
		ResendInterval: 50 * time.Millisecond,
		SchemaAdapter:  schema,
		OffsetsAdapter: offsets,
	}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

func receive(t *testing.T, ch <-chan *message.Message, within time.Duration) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return m
	case <-time.After(within):
		return nil
	}
}

// Defect 1 (docs/messaging.md): a batch is acked as a whole. A subscriber acks
// 2 messages of a batch of 10, then the 3rd misses its ack deadline, or the
// subscriber is closed while the 3rd is being handled. With the guard the 8
// unacked messages are delivered again; with the library's offsets adapter
// they are deleted unseen.
func TestDefect1UnackedRowsOfABatchAreDeliveredAgain(t *testing.T) {
	t.Parallel()
	library := wsql.PostgreSQLQueueOffsetsAdapter{DeleteOnAck: true}
	for _, tc := range []struct {
		name    string
		offsets wsql.OffsetsAdapter
		closeIt bool // close the subscriber mid-batch instead of missing the deadline
		guarded bool
	}{
		{"ack deadline/guarded", ackedRowsOnly{}, false, true},
		{"ack deadline/library", library, false, false},
		{"closed mid-batch/guarded", ackedRowsOnly{}, true, true},
		{"closed mid-batch/library", library, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t, 4)
			topic := ports.TopicMemberChanged
			ids := publish(t, pool, topic, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
			schema := queueSchema{batchSize: 10}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			first := rawSubscriber(t, pool, schema, tc.offsets, 500*time.Millisecond)
			ch, err := first.Subscribe(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			acked := map[string]bool{}
			for range 2 {
				m := receive(t, ch, 5*time.Second)
				if m == nil {
					t.Fatal("no message")
				}
				m.Ack()
				acked[m.UUID] = true
			}
			third := receive(t, ch, 5*time.Second)
			if third == nil {
				t.Fatal("no third message")
			}
			if tc.closeIt {
				if err := first.Close(); err != nil { // a graceful shutdown mid-batch
					t.Fatal(err)
				}
			} else {
				<-third.Context().Done() // its ack deadline passed unacked
			}

			// Whatever is left is delivered to a subscriber that acks everything.
			rest := ch
			if tc.closeIt {
				second := rawSubscriber(t, pool, schema, tc.offsets, 5*time.Second)
				if rest, err = second.Subscribe(ctx, topic); err != nil {
					t.Fatal(err)
				}
			}
			for {
				m := receive(t, rest, time.Second)
				if m == nil {
					break
				}
				m.Ack()
				acked[m.UUID] = true
			}
			var lost []string
			for _, id := range ids {
				if !acked[id] {
					lost = append(lost, id)
				}
			}
			left := rows(t, pool, tableName(topic))
			if tc.guarded {
				if len(lost) != 0 || left != 0 {
					t.Errorf("guarded: %d messages never delivered, %d rows left", len(lost), left)
				}
				return
			}
			// The library: messages 3 to 10 were deleted without being delivered.
			if len(lost) != 8 || left != 0 {
				t.Errorf("library: %d lost, %d rows left; the defect did not reproduce (want 8 lost, 0 left)", len(lost), left)
			}
		})
	}
}

// Defect 5 (docs/messaging.md): concurrent subscribers block on each other's
// row locks. While one subscriber holds a batch, a second one must still get
// the other rows. With the library's schema (FOR UPDATE at REPEATABLE READ) it
// waits on the first one's locks instead.
func TestDefect5SubscribersDoNotBlockEachOther(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		schema  wsql.SchemaAdapter
		guarded bool
	}{
		{"guarded", queueSchema{batchSize: 10}, true},
		{"library", libraryQueueSchema, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t, 4)
			topic := ports.TopicBillingEvent
			payloads := make([]string, 20)
			for i := range payloads {
				payloads[i] = "m"
			}
			publish(t, pool, topic, payloads...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			a := rawSubscriber(t, pool, tc.schema, ackedRowsOnly{}, 30*time.Second)
			chA, err := a.Subscribe(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			held := receive(t, chA, 5*time.Second) // A holds its batch: this one is not acked yet
			if held == nil {
				t.Fatal("A got nothing")
			}

			bctx, bcancel := context.WithCancel(ctx)
			defer bcancel()
			b := rawSubscriber(t, pool, tc.schema, ackedRowsOnly{}, 30*time.Second)
			chB, err := b.Subscribe(bctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			wait := 5 * time.Second
			if !tc.guarded {
				wait = 1500 * time.Millisecond
			}
			got := receive(t, chB, wait)
			if tc.guarded && got == nil {
				t.Fatal("B got no message while A held its batch")
			}
			if !tc.guarded && got != nil {
				t.Fatal("library: B got a message while A held its batch; the defect did not reproduce")
			}
			if got != nil {
				got.Ack()
			}
			bcancel() // unblock B's query, if it waits on A's locks
			held.Ack()
		})
	}
}

// Defect 2 (docs/messaging.md): a nack does not roll back the subscriber's
// transaction, so the writes of failed attempts made in it are committed with
// a later ack. The library exposes that transaction to handlers; our handlers
// cannot reach it (their context hides it), and do their writes in their own
// transactions.
func TestDefect2FailedAttemptsLeaveNoWrites(t *testing.T) {
	t.Parallel()
	t.Run("guarded", func(t *testing.T) {
		t.Parallel()
		pool := newPool(t, 4)
		ctx := context.Background()
		if _, err := pool.Exec(ctx, `CREATE TABLE effects (message_id text, attempt int)`); err != nil {
			t.Fatal(err)
		}
		var attempts atomic.Int32
		var sawTx atomic.Bool
		done := make(chan struct{})
		newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
			mustAdd(t, r, "effects", ports.TopicPersonDeleted, func(ctx context.Context, msg ports.Message) error {
				if _, ok := wsql.TxFromContext(ctx); ok {
					sawTx.Store(true)
				}
				n := attempts.Add(1)
				// The handler's own transaction, as handlers must write.
				return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, `INSERT INTO effects VALUES ($1, $2)`, msg.ID, n); err != nil {
						return err
					}
					if n < 3 {
						return errors.New("downstream failed after the write")
					}
					close(done)
					return nil
				})
			})
		})
		publish(t, pool, ports.TopicPersonDeleted, "p")
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("not processed")
		}
		eventually(t, 5*time.Second, "acked", func() bool { return rows(t, pool, tableName(ports.TopicPersonDeleted)) == 0 })
		if sawTx.Load() {
			t.Error("the handler's context exposes the subscriber's transaction")
		}
		if n := rows(t, pool, "effects"); n != 1 {
			t.Errorf("%d effects committed for 3 attempts, want 1", n)
		}
	})
	t.Run("library", func(t *testing.T) {
		t.Parallel()
		pool := newPool(t, 4)
		ctx := context.Background()
		if _, err := pool.Exec(ctx, `CREATE TABLE effects (message_id text, attempt int)`); err != nil {
			t.Fatal(err)
		}
		publish(t, pool, ports.TopicPersonDeleted, "p")
		sub := rawSubscriber(t, pool, queueSchema{}, ackedRowsOnly{}, 30*time.Second)
		ch, err := sub.Subscribe(ctx, ports.TopicPersonDeleted)
		if err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= 3; attempt++ {
			m := receive(t, ch, 5*time.Second)
			if m == nil {
				t.Fatalf("attempt %d not delivered", attempt)
			}
			tx, ok := wsql.TxFromContext(m.Context())
			if !ok {
				t.Fatal("the library gives no transaction")
			}
			if _, err := tx.ExecContext(m.Context(), `INSERT INTO effects VALUES ($1, $2)`, m.UUID, attempt); err != nil {
				t.Fatal(err)
			}
			if attempt < 3 {
				m.Nack()
			} else {
				m.Ack()
			}
		}
		eventually(t, 5*time.Second, "acked", func() bool { return rows(t, pool, tableName(ports.TopicPersonDeleted)) == 0 })
		if n := rows(t, pool, "effects"); n != 3 {
			t.Errorf("library: %d effects committed; the defect did not reproduce (want 3)", n)
		}
	})
}

// Defect 3 (docs/messaging.md): the library's delayed subscriber with
// AllowNoDelay and without DeleteOnAck delivers acked messages again for ever.
// Our scheduled messages are deleted when moved to their topic and arrive
// once.
func TestDefect3ScheduledMessagesArriveOnce(t *testing.T) {
	t.Parallel()
	t.Run("guarded", func(t *testing.T) {
		t.Parallel()
		pool := newPool(t, 4)
		var calls atomic.Int32
		newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
			mustAdd(t, r, "job", ports.TopicJobRun, func(ctx context.Context, msg ports.Message) error {
				calls.Add(1)
				return nil
			})
		})
		if err := NewScheduler(pool).ScheduleAt(context.Background(), ports.TopicJobRun, []byte("{}"), time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "delivered", func() bool { return calls.Load() > 0 })
		time.Sleep(500 * time.Millisecond) // ten poll intervals
		if n := calls.Load(); n != 1 {
			t.Errorf("delivered %d times, want 1", n)
		}
		if n := rows(t, pool, tableName(TopicDelayed)); n != 0 {
			t.Errorf("%d scheduled rows kept", n)
		}
	})
	t.Run("library", func(t *testing.T) {
		t.Parallel()
		pool := newPool(t, 4)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const topic = "library.delayed"
		sub, err := wsql.NewDelayedPostgreSQLSubscriber(wsql.BeginnerFromPgx(pool), wsql.DelayedPostgreSQLSubscriberConfig{
			AllowNoDelay: true,
			DeleteOnAck:  false,
			OverrideSubscriberConfig: func(c *wsql.SubscriberConfig) error {
				c.PollInterval = 50 * time.Millisecond
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = sub.Close() }()
		ch, err := sub.Subscribe(ctx, topic) // creates its own table
		if err != nil {
			t.Fatal(err)
		}
		pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(pool), wsql.PublisherConfig{SchemaAdapter: wsql.PostgreSQLQueueSchema{}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), []byte(`{}`))); err != nil {
			t.Fatal(err)
		}
		deliveries := 0
		for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); {
			if m := receive(t, ch, 200*time.Millisecond); m != nil {
				deliveries++
				m.Ack()
			}
		}
		if deliveries < 2 {
			t.Errorf("library: delivered %d times; the defect did not reproduce (want more than 1)", deliveries)
		}
	})
}

// Defect 4 (docs/messaging.md): with the timeout inside the poison queue, the
// poison publish runs with a cancelled context, fails silently and the message
// loops for ever. In our chain a handler that overruns its timeout is
// dead-lettered, once.
func TestDefect4TimedOutMessageIsDeadLetteredNotLooped(t *testing.T) {
	t.Parallel()
	t.Run("guarded", func(t *testing.T) {
		t.Parallel()
		pool := newPool(t, 4)
		cfg := fastConfig
		cfg.HandlerTimeout = 300 * time.Millisecond
		al := &alerts{}
		var calls atomic.Int32
		newRouter(t, pool, cfg, al, func(r *Router) {
			mustAdd(t, r, "stuck", ports.TopicBillingEvent, func(ctx context.Context, msg ports.Message) error {
				calls.Add(1)
				<-ctx.Done() // a provider call that never answers
				return ctx.Err()
			})
		})
		publish(t, pool, ports.TopicBillingEvent, "{}")
		eventually(t, 10*time.Second, "dead-lettered", func() bool { return len(openDeadLetters(t, pool)) == 1 })
		time.Sleep(time.Second)
		if n := calls.Load(); n != 1 {
			t.Errorf("handler called %d times, want 1: the timeout ends the retries", n)
		}
		dl := openDeadLetters(t, pool)[0]
		if !strings.Contains(dl.Reason, "deadline exceeded") {
			t.Errorf("reason = %q", dl.Reason)
		}
		eventually(t, 5*time.Second, "alert raised", func() bool { return len(al.all()) > 0 })
		if rows(t, pool, tableName(ports.TopicBillingEvent)) != 0 || len(al.all()) != 1 {
			t.Errorf("message not acked, or alerts %d != 1", len(al.all()))
		}
	})
	t.Run("library order", func(t *testing.T) {
		t.Parallel()
		pool := newPool(t, 4)
		ctx := context.Background()
		const poisonTopic = "library.poison"
		if _, err := pool.Exec(ctx, `SELECT messaging_create_topic('`+poisonTopic+`')`); err != nil {
			t.Fatal(err)
		}
		pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(pool), wsql.PublisherConfig{SchemaAdapter: libraryQueueSchema}, nil)
		if err != nil {
			t.Fatal(err)
		}
		poison, err := middleware.PoisonQueue(pub, poisonTopic)
		if err != nil {
			t.Fatal(err)
		}
		wr, err := message.NewRouter(message.RouterConfig{CloseTimeout: 5 * time.Second}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		wr.AddMiddleware(poison, middleware.Timeout(time.Second)) // the poison queue outside the timeout
		var calls atomic.Int32
		wr.AddConsumerHandler("failing", ports.TopicBillingEvent, rawSubscriber(t, pool, queueSchema{}, ackedRowsOnly{}, 30*time.Second),
			func(msg *message.Message) error {
				calls.Add(1)
				return errors.New("always fails")
			})
		var wg sync.WaitGroup
		wg.Go(func() { _ = wr.Run(ctx) })
		defer wg.Wait()
		defer func() { _ = wr.Close() }()
		<-wr.Running()
		publish(t, pool, ports.TopicBillingEvent, "{}")
		time.Sleep(1500 * time.Millisecond)
		if n, poisoned := calls.Load(), rows(t, pool, tableName(poisonTopic)); n < 3 || poisoned != 0 {
			t.Errorf("library: handler called %d times, %d poisoned; the defect did not reproduce (want a loop, none poisoned)", n, poisoned)
		}
	})
}

package messaging

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// Run with: go test -run '^$' -bench . -benchtime 3s ./adapters/messaging/
// Each reports msg/s. Compare the consume figures with the library's in the
// same run (consume/library/...), not with numbers from another machine.

var benchPayload = []byte(`{"membership_id":"7d9f0d3e-0000-4000-8000-000000000001","status":"active"}`)

func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	pool := newPool(b, 4)
	pub := NewPublisher(pool)
	b.Run("one_per_call", func(b *testing.B) {
		for b.Loop() {
			if err := pub.Publish(ctx, ports.Message{Topic: ports.TopicJobRun, Payload: benchPayload}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	})
	b.Run("batch_of_100", func(b *testing.B) {
		msgs := make([]ports.Message, 100)
		for i := range msgs {
			msgs[i] = ports.Message{Topic: ports.TopicJobRun, Payload: benchPayload}
		}
		for b.Loop() {
			if err := pub.Publish(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msg/s")
	})
}

// BenchmarkConsume consumes and acks b.N queued messages with a handler that
// takes 1ms, on 1 and on 4 consumers, through the whole router chain. The
// 4-consumer figure must stay at or above 3,000 msg/s.
func BenchmarkConsume(b *testing.B) {
	// claims=small is the default (one row per 100 queued, 1 to 10 rows);
	// claims=1 is one row always; claims=100 is the previous default, 100
	// rows always: the same-run baseline.
	for _, bc := range []struct {
		consumers int
		name      string
		cfg       RouterConfig
	}{
		{1, "small", RouterConfig{}},
		{4, "small", RouterConfig{}},
		{4, "1", RouterConfig{BatchSize: 1}},
		{4, "100", RouterConfig{BatchSize: 100, ClaimBacklogPerRow: -1}},
	} {
		consumers := bc.consumers
		b.Run(fmt.Sprintf("guarded/consumers=%d/claims=%s", consumers, bc.name), func(b *testing.B) {
			benchConsume(b, consumers, func(pool *pgxpool.Pool, handle func()) (stop func()) {
				r, err := NewRouter(pool, testLogger(b), &alerts{}, bc.cfg)
				if err != nil {
					b.Fatal(err)
				}
				mustAdd(b, r, "bench", ports.TopicJobRun, func(context.Context, ports.Message) error {
					handle()
					return nil
				}, WithConsumers(consumers))
				return runUntilStopped(b, r.Run, r.Close)
			})
		})
	}
	// The bare library for comparison: its queue schema and offsets adapter,
	// the same number of subscriptions, poll interval and handler.
	b.Run("library/consumers=4", func(b *testing.B) {
		benchConsume(b, 4, func(pool *pgxpool.Pool, handle func()) (stop func()) {
			ack := defaultAckDeadline
			sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
				AckDeadline:    &ack,
				PollInterval:   defaultPollInterval,
				SchemaAdapter:  wsql.PostgreSQLQueueSchema{GeneratePayloadType: func(string) string { return "BYTEA" }},
				OffsetsAdapter: wsql.PostgreSQLQueueOffsetsAdapter{DeleteOnAck: true},
			}, watermill.NopLogger{})
			if err != nil {
				b.Fatal(err)
			}
			wr, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
			if err != nil {
				b.Fatal(err)
			}
			for i := range 4 {
				wr.AddConsumerHandler(fmt.Sprintf("bench-%d", i), ports.TopicJobRun, sub, func(*message.Message) error {
					handle()
					return nil
				})
			}
			return runUntilStopped(b, wr.Run, wr.Close)
		})
	})
}

func benchConsume(b *testing.B, consumers int, start func(pool *pgxpool.Pool, handle func()) (stop func())) {
	pool := newPool(b, int32(consumers+4))
	n := b.N
	pub := NewPublisher(pool)
	msgs := make([]ports.Message, 0, 1000)
	for left := n; left > 0; left -= len(msgs) {
		msgs = msgs[:0]
		for range min(left, 1000) {
			msgs = append(msgs, ports.Message{Topic: ports.TopicJobRun, Payload: benchPayload})
		}
		if err := pub.Publish(context.Background(), msgs...); err != nil {
			b.Fatal(err)
		}
	}
	var handled atomic.Int64
	finished := make(chan struct{})
	b.ResetTimer()
	begin := time.Now()
	stop := start(pool, func() {
		time.Sleep(time.Millisecond)
		if handled.Add(1) == int64(n) {
			close(finished)
		}
	})
	select {
	case <-finished:
	case <-time.After(5*time.Minute + time.Duration(n)*10*time.Millisecond):
		b.Fatalf("handled %d of %d", handled.Load(), n)
	}
	elapsed := time.Since(begin)
	b.StopTimer()
	stop()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msg/s")
}

func runUntilStopped(b *testing.B, run func(context.Context) error, closeFn func() error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	return func() {
		_ = closeFn()
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
}

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func TestBillingIngestStoresEventAndMessageTogetherOnce(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	failOutbox := false
	ingest, err := postgres.NewBillingIngest(pool, func(_ context.Context, msgs ...ports.Message) ([]postgres.Statement, error) {
		table := "watermill_stripe.event"
		if failOutbox {
			table = "no_such_table"
		}
		var out []postgres.Statement
		for _, m := range msgs {
			out = append(out, postgres.Statement{SQL: `INSERT INTO "` + table + `" (uuid, payload, metadata) VALUES (gen_random_uuid()::text, $1, '{}')`, Args: []any{m.Payload}})
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(sql string) int {
		var n int
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ev := ports.BillingEvent{ID: "evt_1", Type: "customer.subscription.updated", Created: time.Now(), Payload: []byte(`{"id":"evt_1"}`), SubscriptionID: "sub_1"}
	msg := ports.Message{Topic: ports.TopicStripeEvent, Payload: []byte(`{"event_id":"evt_1"}`)}

	for i, want := range []bool{true, false, false} {
		got, err := ingest.Ingest(ctx, ev, "webhook", msg)
		if err != nil || got != want {
			t.Fatalf("delivery %d: inserted = %v, %v; want %v", i+1, got, err, want)
		}
	}
	if inbox, outbox := count(`SELECT count(*) FROM billing_inbox`), count(`SELECT count(*) FROM "watermill_stripe.event"`); inbox != 1 || outbox != 1 {
		t.Fatalf("inbox %d, outbox %d; want 1 and 1", inbox, outbox)
	}

	// A failing outbox insert rolls the inbox row back: nothing half-stored.
	failOutbox = true
	ev2 := ev
	ev2.ID = "evt_2"
	if _, err := ingest.Ingest(ctx, ev2, "webhook", msg); err == nil {
		t.Fatal("a failed outbox insert reported success")
	}
	if n := count(`SELECT count(*) FROM billing_inbox WHERE event_id = 'evt_2'`); n != 0 {
		t.Fatal("the event was stored without its message")
	}
	// The connection went back to the pool outside any transaction.
	failOutbox = false
	if n := count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`); n != 0 {
		t.Fatalf("%d pooled connections are still in a transaction", n)
	}
	if got, err := ingest.Ingest(ctx, ev2, "webhook", msg); err != nil || !got {
		t.Fatalf("retry after the failure = %v, %v", got, err)
	}
}

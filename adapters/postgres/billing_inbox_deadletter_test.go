package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// TestClaimDueSkipsEventsWhoseMessageIsDeadLettered: a 'received' event
// stuck past StuckAfter is re-queued, unless its processing was
// dead-lettered and the dead letter is open or abandoned (an operator's
// call: replay or leave it). Once replayed, it is an ordinary stuck event
// again. A dead letter of another event, topic or a body that is not JSON
// changes nothing.
func TestClaimDueSkipsEventsWhoseMessageIsDeadLettered(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inbox := postgres.NewBillingInbox(pool)
	for _, id := range []string{"evt_open", "evt_abandoned", "evt_replayed", "evt_plain"} {
		ev := ports.BillingEvent{ID: id, Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated", Created: time.Now(), Payload: []byte(`{}`)}
		if _, err := inbox.Insert(ctx, ev, "webhook"); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE billing_inbox SET received_at = now() - interval '1 hour'`)
	deadLetter := func(topic, status string, payload []byte) {
		t.Helper()
		exec(`INSERT INTO dead_letters (message_id, topic, handler, reason, payload, first_failed_at, last_failed_at, attempts, status, resolved_at, resolution_note)
			VALUES (gen_random_uuid()::text, $1, 'billing.process_event', 'permanent: subscription does not exist', $2, now(), now(), 1, $3,
			        CASE WHEN $3 <> 'open' THEN now() END, CASE WHEN $3 = 'abandoned' THEN 'given up' END)`, topic, payload, status)
	}
	deadLetter(ports.TopicBillingEvent, "open", []byte(`{"event_id":"evt_open"}`))
	deadLetter(ports.TopicBillingEvent, "abandoned", []byte(`{"event_id":"evt_abandoned"}`))
	deadLetter(ports.TopicBillingEvent, "replayed", []byte(`{"event_id":"evt_replayed"}`))
	deadLetter(ports.TopicJobRun, "open", []byte(`{"event_id":"evt_plain"}`)) // another topic
	deadLetter(ports.TopicBillingEvent, "open", []byte{0xff, '{', 0})         // not JSON, not UTF-8

	ids, err := inbox.ClaimDue(ctx, testPolicy)
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"evt_plain", "evt_replayed"}) {
		t.Fatalf("claimed %v (%v); want evt_plain and evt_replayed, not the events with an open or abandoned dead letter", ids, err)
	}
	var attempts int
	if err := pool.QueryRow(ctx, `SELECT sum(attempts) FROM billing_inbox WHERE event_id IN ('evt_open', 'evt_abandoned')`).Scan(&attempts); err != nil || attempts != 0 {
		t.Fatalf("dead-lettered events claimed %d times (%v), want 0", attempts, err)
	}
}

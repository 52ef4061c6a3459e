package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// seedMembers inserts n people with active community memberships straight
// into the tables (fast), and returns their ids in order.
func seedMembers(t *testing.T, l *lifecycle, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := l.pool.Query(ctx, `
		WITH p AS (
			INSERT INTO people (primary_email, emails, first_name, last_name)
			SELECT $1 || g || '@example.test', ARRAY[$1 || g || '@example.test'], 'First' || g, 'Last'
			FROM generate_series(1, $2) g RETURNING id, primary_email
		), m AS (
			INSERT INTO memberships (person_id, status, tier, ever_active, subscription_id, current_period_end)
			SELECT id, 'active', 'community', true, 'sub_' || id, now() + interval '30 days' FROM p RETURNING person_id
		), s AS (
			INSERT INTO membership_subscriptions (subscription_id, person_id, status, tier, current_period_end, snapshot_at)
			SELECT 'sub_' || person_id, person_id, 'active', 'community', now() + interval '30 days', now() FROM m RETURNING person_id
		)
		SELECT person_id::text FROM s ORDER BY person_id`, prefix, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != n {
		t.Fatalf("seeded %d members, want %d", len(ids), n)
	}
	testdb.GrantSeededMembers(t, l.pool)
	return ids
}

func publishActivated(t *testing.T, l *lifecycle, ids []string) {
	t.Helper()
	var msgs []ports.Message
	for _, id := range ids {
		body, _ := json.Marshal(ports.MemberChangedMessage{PersonID: id, Reason: ports.ReasonSubscriptionSync, Events: []string{"activated"}})
		msgs = append(msgs, ports.Message{Topic: ports.TopicMemberChanged, Payload: body})
	}
	if err := messaging.NewPublisher(l.pool).Publish(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// synced reports whether the person's list state is what their membership
// calls for (subscribed, with member/active/community tags).
func synced(t *testing.T, l *lifecycle, id string) bool {
	t.Helper()
	var email string
	if err := l.pool.QueryRow(context.Background(), `SELECT primary_email FROM people WHERE id = $1`, id).Scan(&email); err != nil {
		t.Fatal(err)
	}
	m, ok := l.mc.Member(email)
	if !ok || m.Status != ports.SubscriberSubscribed {
		return false
	}
	tags, _ := l.tags(email)
	return tags["member"] && tags["active"] && tags["community"] && l.triggers("j_welcome", email) == 1
}

func TestEmailSyncUnderFaultsEndsSyncedOrDeadLettered(t *testing.T) {
	t.Parallel()
	var alerts atomic.Int64
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { alerts.Add(1) }))
	t.Cleanup(slack.Close)
	// Faults are transient (429, 5xx, timeouts): re-delivered after short
	// waits here, and the breaker's pause is short.
	l := newLifecycle(t, true, map[string]string{"MAILCHIMP_TIMEOUT": "300ms", "ALERT_SLACK_WEBHOOK_URL": slack.URL, "WORKER_CONSUMERS": "6", "WORKER_RETRY_INITIAL": "20ms",
		"WORKER_TRANSIENT_RETRY_INITIAL": "50ms", "WORKER_TRANSIENT_RETRY_MAX": "500ms", "PROVIDER_BREAKER_OPEN_FOR": "1s"})
	l.idle = 3 * time.Minute // faulted messages wait out their backoff
	l.mc.Seed(7)
	l.mc.SetHang(2 * time.Second)
	l.mc.SetFaultRate(0.3, mailchimpfake.Fault429, mailchimpfake.Fault500, mailchimpfake.FaultTimeout, mailchimpfake.Fault403NoBody)

	ids := seedMembers(t, l, "fault", 200)
	publishActivated(t, l, ids)
	l.waitIdle()

	dead := l.count(`SELECT count(*) FROM dead_letters WHERE topic = 'member.changed' AND status = 'open'`)
	ok := 0
	for _, id := range ids {
		if synced(t, l, id) {
			ok++
		}
	}
	t.Logf("with 30%% faults: %d synced, %d dead-lettered, %d alerts", ok, dead, alerts.Load())
	if ok+dead != len(ids) {
		t.Fatalf("%d synced + %d dead-lettered != %d changes: something was dropped", ok, dead, len(ids))
	}
	if dead > 0 && alerts.Load() < int64(dead) {
		t.Fatalf("%d dead letters but %d alerts", dead, alerts.Load())
	}

	// The fault clears; an operator replays the dead letters.
	l.mc.SetFaultRate(0)
	operator, _ := access.NewSystem("cli:ops")
	ctx := application.WithPrincipal(context.Background(), operator)
	open, err := l.sys.app.Queries.ListDeadLetters.Handle(ctx, application.ListDeadLettersInput{Status: ports.DeadLetterOpen, Limit: application.MaxDeadLetterPage})
	if err != nil {
		t.Fatal(err)
	}
	for _, dl := range open {
		if _, err := l.sys.app.Commands.ReplayDeadLetter.Handle(ctx, dl.ID); err != nil {
			t.Fatal(err)
		}
	}
	l.waitIdle()
	for _, id := range ids {
		if !synced(t, l, id) {
			t.Fatalf("person %s not synced after replay", id)
		}
	}
	if n := l.count(`SELECT count(*) FROM dead_letters WHERE status = 'open'`); n != 0 {
		t.Fatalf("%d dead letters still open", n)
	}
	l.mc.AssertNoViolations(t)
}

func TestUnsubscribedIsNeverResubscribed(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	ids := seedMembers(t, l, "optout", 3)
	l.mc.SetStatus("optout1@example.test", ports.SubscriberUnsubscribed)
	l.mc.SetStatus("optout2@example.test", ports.SubscriberCleaned)
	publishActivated(t, l, ids)
	l.waitIdle()
	operator, _ := access.NewSystem("cli:ops")
	ctx := application.WithPrincipal(context.Background(), operator)
	if _, err := l.sys.app.Commands.ResyncEmailList.Handle(ctx, application.ResyncEmailListInput{}); err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]ports.SubscriberStatus{
		"optout1@example.test": ports.SubscriberUnsubscribed, "optout2@example.test": ports.SubscriberCleaned, "optout3@example.test": ports.SubscriberSubscribed,
	} {
		if m, _ := l.mc.Member(email); m.Status != want {
			t.Errorf("%s is %s after sync and resync, want %s", email, m.Status, want)
		}
	}
	if n := l.triggers("j_welcome", "optout1@example.test"); n != 0 {
		t.Errorf("an unsubscribed address got %d welcome journeys", n)
	}
	l.mc.AssertNoViolations(t)
}

// TestResyncCallsOnlyWhatDiffers: 10,000 people whose list state is already
// recorded as synced cost one batch-subscribe call per 500 and nothing
// else; changing 100 of them adds exactly 100 tag updates.
func TestResyncCallsOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	const n = 10000
	seedMembers(t, l, "bulk", n)
	state := `{"email": "", "first_name": "", "last_name": "Last", "tier": "community",
		"tags": {"member": true, "active": true, "past_due": false, "alumni": false, "community": true}}`
	if _, err := l.pool.Exec(context.Background(), `
		INSERT INTO integrations (person_id, provider, external_id, status, state)
		SELECT id, 'email_list', primary_email, 'subscribed',
		       jsonb_set(jsonb_set($1::jsonb, '{email}', to_jsonb(primary_email)), '{first_name}', to_jsonb(first_name))
		FROM people`, state); err != nil {
		t.Fatal(err)
	}
	operator, _ := access.NewSystem("cli:ops")
	ctx := application.WithPrincipal(context.Background(), operator)

	before := l.mc.CallCount()
	res, err := l.sys.app.Commands.ResyncEmailList.Handle(ctx, application.ResyncEmailListInput{})
	if err != nil {
		t.Fatal(err)
	}
	calls := l.mc.CallCount() - before
	t.Logf("resync of %d unchanged people: %d API calls (%d batch, %d tag)", n, calls, res.BatchCalls, res.TagCalls)
	if calls > 25 || res.TagCalls != 0 || res.People != n {
		t.Fatalf("unchanged resync made %d calls (%+v), want at most 25 and no tag updates", calls, res)
	}

	if _, err := l.pool.Exec(context.Background(), `
		UPDATE membership_subscriptions SET status = 'past_due', payment_attempt = 1
		WHERE person_id IN (SELECT id FROM people ORDER BY id LIMIT 100)`); err != nil {
		t.Fatal(err)
	}
	before = l.mc.CallCount()
	res, err = l.sys.app.Commands.ResyncEmailList.Handle(ctx, application.ResyncEmailListInput{})
	if err != nil {
		t.Fatal(err)
	}
	calls = l.mc.CallCount() - before
	t.Logf("resync with 100 changed tag sets: %d API calls (%d batch, %d tag)", calls, res.BatchCalls, res.TagCalls)
	if res.TagCalls != 100 || calls != res.BatchCalls+100 {
		t.Fatalf("resync with 100 changes made %d calls (%+v), want the batches plus exactly 100 tag updates", calls, res)
	}
	l.mc.AssertNoViolations(t)
}

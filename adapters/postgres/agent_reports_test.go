package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// TestAgentReportsReadWhatTheStarterOperationsShow: counts by status and
// tier, the newest payment failure notices, one person's timeline merging
// their audit entries with their applied RSVP decisions (newest first, and
// nobody else's), and the newest applied decisions with the event's name;
// each stops at its limit.
func TestAgentReportsReadWhatTheStarterOperationsShow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	people, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	tier, _ := membership.NewTier("community")
	var ids []string
	for i, status := range []membership.ProviderStatus{membership.ProviderActive, membership.ProviderActive, membership.ProviderPastDue} {
		p, err := people.Create(ctx, "r"+string(rune('a'+i))+"@example.test", "R", "S")
		if err != nil {
			t.Fatal(err)
		}
		snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_" + p.ID, Status: status, Tier: tier,
			CurrentPeriodEnd: time.Now().Add(time.Hour), TakenAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := ms.Update(ctx, p.ID, func(m *membership.Membership) error { _, err := m.ApplySnapshot(snap); return err }); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	r := postgres.NewAgentReports(pool)
	counts, err := r.MembershipCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range counts {
		got[c.Status+"/"+c.Tier] = c.Count
	}
	if len(got) != 2 || got["active/community"] != 2 || got["past_due/community"] != 1 {
		t.Fatalf("counts %v", counts)
	}

	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	for i := range 3 {
		if _, err := pool.Exec(ctx, `INSERT INTO payment_failure_notices (invoice_id, attempt, person_id, created_at) VALUES ($1, $2, $3, $4)`,
			"in_1", i+1, ids[2], base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	failures, err := r.PaymentFailures(ctx, 2)
	if err != nil || len(failures) != 2 || failures[0].Attempt != 3 || failures[1].Attempt != 2 || failures[0].PersonID != ids[2] {
		t.Fatalf("payment failures %+v, %v", failures, err)
	}

	var eventID string
	if err := pool.QueryRow(ctx, `INSERT INTO events (creator_kind, creator_id, idempotency_key, status, platform_id, name, starts_at, ends_at, timezone, capacity)
		VALUES ('system', 'test', 'k1', 'created', 'evt_1', 'Meetup', now() + interval '1 day', now() + interval '1 day 2 hours', 'UTC', 50) RETURNING id::text`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	for i, d := range []struct {
		guest, person, outcome, state string
	}{{"g1", ids[0], "approve", "applied"}, {"g2", ids[1], "decline", "applied"}, {"g3", ids[0], "approve", "claimed"}} {
		var decided any
		if d.state == "applied" {
			decided = base.Add(time.Duration(10+i) * time.Minute)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO rsvp_decisions (event_id, guest_id, person_id, outcome, reason, state, run_id, decided_at)
			VALUES ($1, $2, $3, $4, 'member', $5, 'run1', $6)`, eventID, d.guest, d.person, d.outcome, d.state, decided); err != nil {
			t.Fatal(err)
		}
	}
	audit := postgres.NewAuditLog(pool)
	for i, action := range []string{"membership.change", "chat_status.change"} {
		if err := audit.Record(ctx, ports.AuditEntry{ActorKind: "system", Action: action, SubjectKind: "person", SubjectID: ids[0],
			Outcome: ports.OutcomeSuccess, At: base.Add(time.Duration(5+10*i) * time.Minute), Details: map[string]any{"to": "active"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.Record(ctx, ports.AuditEntry{ActorKind: "system", Action: "membership.change", SubjectKind: "person", SubjectID: ids[1],
		Outcome: ports.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	timeline, err := r.Timeline(ctx, ids[0], 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range timeline {
		kinds = append(kinds, e.Kind)
	}
	// chat at +15m, the approval at +10m, the membership change at +5m;
	// the claimed decision and the other person's entries are not theirs.
	if len(timeline) != 3 || kinds[0] != "chat_status.change" || kinds[1] != "rsvp.approve" || kinds[2] != "membership.change" ||
		timeline[1].Details["event_name"] != "Meetup" {
		t.Fatalf("timeline %v: %+v", kinds, timeline)
	}
	if short, err := r.Timeline(ctx, ids[0], 1); err != nil || len(short) != 1 {
		t.Fatalf("timeline limit 1: %d, %v", len(short), err)
	}
	if none, err := r.Timeline(ctx, "not-a-uuid", 10); err != nil || len(none) != 0 {
		t.Fatalf("timeline of a bad id: %v, %v", none, err)
	}
	decisions, err := r.RSVPDecisions(ctx, 5)
	if err != nil || len(decisions) != 2 || decisions[0].Outcome != "decline" || decisions[0].EventName != "Meetup" || decisions[1].Outcome != "approve" {
		t.Fatalf("decisions %+v, %v", decisions, err)
	}
}

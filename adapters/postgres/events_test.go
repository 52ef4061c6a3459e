package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// testCreator creates the events of these tests (a principal id).
const testCreator = "leader-1"

func eventDraft(creator, key string, start time.Time) ports.EventDraft {
	return ports.EventDraft{CreatorKind: "user", CreatorID: creator, IdempotencyKey: key, Event: ports.NewPlatformEvent{
		Name: "AI night " + key, StartAt: start, EndAt: start.Add(2 * time.Hour), TimeZone: "Europe/Berlin", Capacity: 30}}
}

// createdEvent reserves and completes an event with platform id pid.
func createdEvent(t *testing.T, s *postgres.EventStore, creator, key, pid string, start time.Time) ports.Event {
	t.Helper()
	ctx := context.Background()
	r, err := s.Reserve(ctx, eventDraft(creator, key, start), time.Minute)
	if err != nil || !r.Held {
		t.Fatalf("reserve %s: %+v, %v", key, r, err)
	}
	if ok, err := s.Complete(ctx, r.Event.ID, ports.PlatformEvent{ID: pid, URL: "https://lu.test/" + pid}); err != nil || !ok {
		t.Fatalf("complete %s: %v %v", key, ok, err)
	}
	e, err := s.Get(ctx, r.Event.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEventReservationHoldsOneCreationPerKey(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	s := postgres.NewEventStore(pool)
	start := time.Date(2027, 1, 10, 18, 0, 0, 0, time.UTC)
	first, err := s.Reserve(ctx, eventDraft(testCreator, "k1", start), time.Minute)
	if err != nil || !first.Held || first.Event.Created {
		t.Fatalf("first reserve: %+v, %v", first, err)
	}
	if _, err := s.Reserve(ctx, eventDraft(testCreator, "k1", start), time.Minute); !errors.Is(err, ports.ErrEventBusy) {
		t.Fatalf("second reserve while held: %v, want ErrEventBusy", err)
	}
	if _, err := s.Get(ctx, first.Event.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("an event being created is not readable: %v", err)
	}
	// Luma answered but the store failed: the id is recorded, and a retry
	// completes the creation instead of holding it again.
	if err := s.RecordPlatformID(ctx, first.Event.ID, "evt-1"); err != nil {
		t.Fatal(err)
	}
	again, err := s.Reserve(ctx, eventDraft(testCreator, "k1", start), time.Minute)
	if err != nil || again.Held || again.Event.PlatformID != "evt-1" || again.Event.ID != first.Event.ID {
		t.Fatalf("retry after a recorded id: %+v, %v", again, err)
	}
	if ok, err := s.Complete(ctx, first.Event.ID, ports.PlatformEvent{ID: "evt-1", URL: "https://lu.test/evt-1"}); err != nil || !ok {
		t.Fatalf("complete: %v %v", ok, err)
	}
	if ok, err := s.Complete(ctx, first.Event.ID, ports.PlatformEvent{ID: "evt-1"}); err != nil || ok {
		t.Fatalf("second complete: %v %v, want false", ok, err)
	}
	done, err := s.Reserve(ctx, eventDraft(testCreator, "k1", start), time.Minute)
	if err != nil || done.Held || !done.Event.Created || done.Event.URL != "https://lu.test/evt-1" || done.Event.CreatorID != testCreator {
		t.Fatalf("reserve of a created event: %+v, %v", done, err)
	}
	// A holder whose lease ran out before the platform answered is taken over.
	stale, err := s.Reserve(ctx, eventDraft(testCreator, "k2", start), time.Microsecond)
	if err != nil || !stale.Held {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	took, err := s.Reserve(ctx, eventDraft(testCreator, "k2", start), time.Minute)
	if err != nil || !took.Held || took.Event.ID != stale.Event.ID {
		t.Fatalf("take over a stale hold: %+v, %v", took, err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("%d event rows, want 2 (one per key)", rows)
	}
}

func TestEventListPagesUpcomingAndPastWithCounts(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	s := postgres.NewEventStore(pool)
	now := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	var upcoming []string
	for i := range 5 {
		e := createdEvent(t, s, testCreator, fmt.Sprintf("u%d", i), fmt.Sprintf("evt-u%d", i), now.Add(time.Duration(5-i)*time.Hour))
		upcoming = append([]string{e.ID}, upcoming...)
	}
	past := createdEvent(t, s, testCreator, "p", "evt-p", now.Add(-48*time.Hour))
	var got []string
	after := ""
	for {
		page, err := s.List(ctx, ports.EventFilter{When: ports.EventsUpcoming, Now: now, After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got = append(got, e.ID)
		}
		if !page.HasMore {
			break
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
	if fmt.Sprint(got) != fmt.Sprint(upcoming) {
		t.Errorf("upcoming %v, want soonest first %v", got, upcoming)
	}
	page, err := s.List(ctx, ports.EventFilter{When: ports.EventsPast, Now: now, Limit: 10})
	if err != nil || len(page.Events) != 1 || page.Events[0].ID != past.ID {
		t.Fatalf("past: %+v, %v", page, err)
	}
	if _, err := s.List(ctx, ports.EventFilter{When: ports.EventsPast, Now: now, After: "nonsense", Limit: 1}); !errors.Is(err, ports.ErrInvalidCursor) {
		t.Errorf("bad cursor: %v", err)
	}

	d := postgres.NewRSVPDecisions(pool)
	decide := func(guest string, o approval.Outcome) {
		t.Helper()
		ok, err := d.Claim(ctx, ports.RSVPDecision{EventID: past.ID, GuestID: guest, Outcome: o, Reason: approval.ReasonActiveMember, RunID: "run-1"}, time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim %s: %v %v", guest, ok, err)
		}
		if o != approval.LeavePending {
			if ok, err := d.Applied(ctx, past.ID, guest, "run-1"); err != nil || !ok {
				t.Fatalf("apply %s: %v %v", guest, ok, err)
			}
		}
	}
	decide("g1", approval.Approve)
	decide("g2", approval.Approve)
	decide("g3", approval.Decline)
	decide("g4", approval.LeavePending)
	if ok, err := d.Claim(ctx, ports.RSVPDecision{EventID: past.ID, GuestID: "g5", Outcome: approval.Approve, Reason: approval.ReasonAdmin, RunID: "run-1"}, time.Minute); err != nil || !ok {
		t.Fatal(err) // claimed, never applied: not counted
	}
	e, err := s.Get(ctx, past.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.RSVPs.Approved != 2 || e.RSVPs.Declined != 1 || e.RSVPs.LeftPending != 1 || e.RSVPs.DecidedAt.IsZero() {
		t.Errorf("counts %+v, want 2 approved, 1 declined, 1 left pending", e.RSVPs)
	}
}

func TestRSVPClaimDecidesEachGuestOnceUnderRaces(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	ev := newCreatedEvent(t, pool)
	d := postgres.NewRSVPDecisions(pool)
	const guests, racers = 200, 2
	var won [guests]atomic.Int32
	var wg sync.WaitGroup
	for r := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range guests {
				ok, err := d.Claim(ctx, ports.RSVPDecision{EventID: ev, GuestID: fmt.Sprintf("g%d", g), Outcome: approval.Approve,
					Reason: approval.ReasonActiveMember, RunID: fmt.Sprintf("run-%d", r)}, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					won[g].Add(1)
				}
			}
		}()
	}
	wg.Wait()
	for g := range guests {
		if n := won[g].Load(); n != 1 {
			t.Fatalf("guest %d claimed %d times", g, n)
		}
	}
	// A pending decision gives way to a real one; a real one to nothing.
	claim := func(guest string, o approval.Outcome, run string) bool {
		ok, err := d.Claim(ctx, ports.RSVPDecision{EventID: ev, GuestID: guest, Outcome: o, Reason: approval.ReasonNoMatchingPerson, RunID: run}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("p", approval.LeavePending, "a") || claim("p", approval.LeavePending, "b") || !claim("p", approval.Decline, "c") || claim("p", approval.Approve, "d") {
		t.Error("leave pending, then decline, must be claimed once each; nothing after")
	}
	// A deferred call is claimed again by the same run, its deferral
	// counted; only the claim's own run may defer or apply it.
	if !claim("r", approval.Approve, "x") {
		t.Fatal("claim r")
	}
	if err := d.Defer(ctx, ev, "r", "someone-else"); err != nil || claim("r", approval.Approve, "x") {
		t.Error("another run deferred the claim")
	}
	if err := d.Defer(ctx, ev, "r", "x"); err != nil || !claim("r", approval.Approve, "x") {
		t.Error("a deferred claim is not decided again")
	}
	if ok, err := d.Applied(ctx, ev, "r", "x"); err != nil || !ok {
		t.Errorf("apply after a deferral: %v %v", ok, err)
	}
	if !claim("f", approval.Decline, "x") {
		t.Fatal("claim f")
	}
	if err := d.Fail(ctx, ev, "f", "x", "HTTP 404"); err != nil {
		t.Fatal(err)
	}
	tally, err := d.RunTally(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := tally[ev]; got != (ports.RSVPTally{Approved: 1, Errors: 1, Deferrals: 1}) {
		t.Errorf("run x tally %+v, want 1 approved, 1 error, 1 deferral and no guest left deferred (each guest counted once)", got)
	}
	// A deferral stays the deferring run's when a racing run takes the guest.
	if !claim("s", approval.Approve, "x") {
		t.Fatal("claim s")
	}
	if err := d.Defer(ctx, ev, "s", "x"); err != nil || !claim("s", approval.Approve, "z") {
		t.Fatal("run z could not take over the deferred guest")
	}
	if tally, err = d.RunTally(ctx, "x"); err != nil || tally[ev].Deferrals != 2 || tally[ev].Deferred != 0 {
		t.Errorf("run x tally %+v (%v), want its 2 deferrals and no guest of its own left deferred", tally[ev], err)
	}
	// A guest deferred and not yet decided again is counted as deferred.
	if !claim("w", approval.Approve, "x") {
		t.Fatal("claim w")
	}
	if err := d.Defer(ctx, ev, "w", "x"); err != nil {
		t.Fatal(err)
	}
	if tally, err = d.RunTally(ctx, "x"); err != nil || tally[ev].Deferred != 1 || tally[ev].Deferrals != 3 || tally[ev].Approved != 1 {
		t.Errorf("run x tally %+v (%v), want 1 guest deferred, 3 deferrals, 1 approved", tally[ev], err)
	}
	if tally, err = d.RunTally(ctx, "z"); err != nil || tally[ev] != (ports.RSVPTally{}) {
		t.Errorf("run z tally %+v (%v), want nothing applied or deferred yet", tally[ev], err)
	}
	if !claim("f", approval.Decline, "y") {
		t.Error("a failed decision is not decided again by a later run")
	}
}

func TestFindByEmailsMatchesVerifiedAddressesOfOnePerson(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	people := postgres.NewPeopleStore(pool)
	ada, err := people.Create(ctx, "ada@example.test", "Ada", "L")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := people.SetRole(ctx, ada.ID, access.RoleLeader); err != nil {
		t.Fatal(err)
	}
	scholarship, err := ledger.NewGrant(ledger.SourceComplimentary, ada.ID, "", time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "admin", "scholarship")
	if err != nil {
		t.Fatal(err)
	}
	if scholarship, err = postgres.NewAccessStore(pool).Open(ctx, scholarship); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"twin1@example.test", "twin2@example.test"} {
		p, err := people.Create(ctx, e, "T", "W")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE people SET emails = emails || '{shared@example.test}' WHERE id = $1`, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := postgres.NewRSVPDecisions(pool).FindByEmails(ctx, []string{"  ADA@Example.test ", "shared@example.test", "nobody@example.test", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("found %v, want only ada (shared and unknown addresses left out)", got)
	}
	a := got["ada@example.test"]
	if a.PersonID != ada.ID || a.Person.Role != access.RoleLeader || !a.Person.HasEmail("ada@example.test") || a.Person.Status != 0 ||
		len(a.Person.Grants) != 1 || a.Person.Grants[0].ID != scholarship.ID {
		t.Errorf("ada = %+v", a)
	}
}

// newCreatedEvent stores one created event and returns its id.
func newCreatedEvent(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	leader, err := postgres.NewPeopleStore(pool).Create(context.Background(), fmt.Sprintf("l%d@example.test", time.Now().UnixNano()), "L", "D")
	if err != nil {
		t.Fatal(err)
	}
	return createdEvent(t, postgres.NewEventStore(pool), leader.ID, "k", "evt-"+leader.ID, time.Now().Add(24*time.Hour)).ID
}

func TestAuditReaderPagesNewestFirstByActionPrefix(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	log := postgres.NewAuditLog(pool)
	for i := range 5 {
		for _, action := range []string{"rsvp.approve", "event.create"} {
			if err := log.Record(ctx, ports.AuditEntry{ActorKind: "system", Action: action, SubjectKind: "rsvp",
				SubjectID: fmt.Sprint(i), Outcome: ports.OutcomeSuccess, Details: map[string]any{"n": i}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := postgres.NewAuditReader(pool)
	var ids []string
	after := ""
	for {
		page, err := r.List(ctx, ports.AuditFilter{Action: "rsvp.", After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range page.Records {
			if rec.Action != "rsvp.approve" {
				t.Errorf("action %s", rec.Action)
			}
			ids = append(ids, rec.SubjectID)
		}
		if !page.HasMore {
			break
		}
		after = page.Records[len(page.Records)-1].ID
	}
	if fmt.Sprint(ids) != "[4 3 2 1 0]" {
		t.Errorf("subjects %v, want newest first", ids)
	}
	page, err := r.List(ctx, ports.AuditFilter{Action: "rsvp%", Limit: 10})
	if err != nil || len(page.Records) != 0 {
		t.Errorf("a LIKE wildcard in an exact action matched: %d, %v", len(page.Records), err)
	}
	if _, err := r.List(ctx, ports.AuditFilter{After: "x", Limit: 1}); !errors.Is(err, ports.ErrInvalidCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

package application_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

type rsvpMocks struct {
	people    *mocks.MockRSVPPeople
	platform  *mocks.MockEventPlatform
	decisions *mocks.MockRSVPDecisions
	audit     *mocks.MockAuditLog
	events    *mocks.MockEventStore
}

func newDecide(t *testing.T, policy approval.Policy) (application.DecideRSVPs, rsvpMocks) {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := rsvpMocks{people: mocks.NewMockRSVPPeople(ctrl), platform: mocks.NewMockEventPlatform(ctrl),
		decisions: mocks.NewMockRSVPDecisions(ctrl), audit: mocks.NewMockAuditLog(ctrl), events: mocks.NewMockEventStore(ctrl)}
	tx := mocks.NewMockEventTx(ctrl)
	tx.EXPECT().Events().Return(m.events).AnyTimes()
	tx.EXPECT().RSVPDecisions().Return(m.decisions).AnyTimes()
	tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	h, err := application.NewDecideRSVPs(m.people, newInlineUoW[ports.EventTx](tx), m.platform, policy, fixedClock{eventNow})
	if err != nil {
		t.Fatal(err)
	}
	return h, m
}

// standing is a person with role whose membership has status, with the
// grants billing wrote for it: an active membership an open subscription
// grant, a past_due one the grace window (still open at eventNow), any
// other none.
func standing(role access.Role, status membership.Status, email string) ports.RSVPPerson {
	id := "p-" + email
	var grants []ledger.Grant
	switch status {
	case membership.StatusActive:
		grants = []ledger.Grant{subscriptionGrant(id, "community", eventNow.AddDate(0, -1, 0))}
	case membership.StatusPastDue:
		grants = []ledger.Grant{graceGrant(id, "community", eventNow.Add(-24*time.Hour), eventNow.Add(6*24*time.Hour))}
	case membership.StatusPending, membership.StatusCanceled, membership.StatusSuspended:
		// no current grant
	}
	return withLedger(ports.RSVPPerson{PersonID: id, Person: approval.Person{VerifiedEmails: []string{email}, Role: role, Status: status}}, grants...)
}

// withLedger replaces the person's grants of access.
func withLedger(p ports.RSVPPerson, grants ...ledger.Grant) ports.RSVPPerson {
	p.Person.Grants = grants
	return p
}

var rsvpEvent = ports.Event{ID: "e1", PlatformID: "evt-1", Created: true}

// Each kind of guest, as the default policy decides it: anyone the access
// ledger gives access (a subscription, a scholarship, a manual grant, the
// grace window after a failed payment), leaders and admins approved;
// past_due after the grace window, alumni and unknown emails left pending
// for an organiser (a strict policy declines them). A guest is matched by a
// verified email ignoring case and spaces.
func TestDecideRSVPsByPolicy(t *testing.T) {
	t.Parallel()
	strict := approval.Policy{NonMember: approval.NonMemberDecline}
	// A scholarship holder who never paid.
	scholar := withLedger(standing(access.RoleMember, 0, "sch@example.org"),
		ledger.Grant{PersonID: "p-sch@example.org", Source: ledger.SourceComplimentary, Tier: "community", From: eventNow.Add(-time.Hour),
			Until: eventNow.AddDate(0, 3, 0), GrantedBy: "p9", Reason: "scholarship"})
	speaker := withLedger(standing(access.RoleMember, membership.StatusCanceled, "spk@example.org"),
		ledger.Grant{PersonID: "p-spk@example.org", Source: ledger.SourceManual, From: eventNow.Add(-time.Hour), GrantedBy: "p9", Reason: "speaker"})
	expired := withLedger(standing(access.RoleMember, 0, "old@example.org"),
		ledger.Grant{PersonID: "p-old@example.org", Source: ledger.SourceComplimentary, From: eventNow.AddDate(0, -3, 0),
			Until: eventNow.Add(-time.Minute), GrantedBy: "p9", Reason: "scholarship"})
	graceOver := withLedger(standing(access.RoleMember, membership.StatusPastDue, "pd@example.org"),
		graceGrant("p-pd@example.org", "community", eventNow.AddDate(0, 0, -8), eventNow.Add(-24*time.Hour)))
	leaving := withLedger(standing(access.RoleMember, membership.StatusActive, "lv@example.org"),
		ledger.Grant{PersonID: "p-lv@example.org", Source: ledger.SourceSubscription, From: eventNow.AddDate(0, -1, 0), Until: eventNow.AddDate(0, 0, 5),
			GrantedBy: ledger.BillingActor, Reason: "subscription paid"})
	tests := []struct {
		name   string
		email  string
		person *ports.RSVPPerson
		policy approval.Policy
		want   approval.Outcome
		reason approval.Reason
	}{
		{"active member", " Ada@Example.ORG ", ptr(standing(access.RoleMember, membership.StatusActive, "ada@example.org")), approval.DefaultPolicy(), approval.Approve, approval.ReasonActiveMember},
		{"leader", "lea@example.org", ptr(standing(access.RoleLeader, 0, "lea@example.org")), approval.DefaultPolicy(), approval.Approve, approval.ReasonLeader},
		{"admin", "adm@example.org", ptr(standing(access.RoleAdmin, membership.StatusCanceled, "adm@example.org")), approval.DefaultPolicy(), approval.Approve, approval.ReasonAdmin},
		{"past_due in the grace window", "pd@example.org", ptr(standing(access.RoleMember, membership.StatusPastDue, "pd@example.org")), approval.DefaultPolicy(), approval.Approve, approval.ReasonPastDueGrace},
		{"past_due in the grace window, strict policy", "pd@example.org", ptr(standing(access.RoleMember, membership.StatusPastDue, "pd@example.org")), strict, approval.Approve, approval.ReasonPastDueGrace},
		{"past_due after the grace window left pending", "pd@example.org", ptr(graceOver), approval.DefaultPolicy(), approval.LeavePending, approval.ReasonPastDue},
		{"past_due after the grace window, strict policy", "pd@example.org", ptr(graceOver), strict, approval.Decline, approval.ReasonPastDue},
		{"cancellation scheduled, before the period end", "lv@example.org", ptr(leaving), approval.DefaultPolicy(), approval.Approve, approval.ReasonActiveUntilPeriodEnd},
		{"scholarship holder who never paid", "sch@example.org", ptr(scholar), strict, approval.Approve, approval.ReasonComplimentary},
		{"manual grant to an alumna", "spk@example.org", ptr(speaker), strict, approval.Approve, approval.ReasonManualGrant},
		{"scholarship ended", "old@example.org", ptr(expired), strict, approval.Decline, approval.ReasonNoMembership},
		{"alumni left pending", "alum@example.org", ptr(standing(access.RoleMember, membership.StatusCanceled, "alum@example.org")), approval.DefaultPolicy(), approval.LeavePending, approval.ReasonCanceledMembership},
		{"alumni, strict policy", "alum@example.org", ptr(standing(access.RoleMember, membership.StatusCanceled, "alum@example.org")), strict, approval.Decline, approval.ReasonCanceledMembership},
		{"unknown email left pending", "who@example.org", nil, approval.DefaultPolicy(), approval.LeavePending, approval.ReasonNoMatchingPerson},
		{"unknown email, strict policy", "who@example.org", nil, strict, approval.Decline, approval.ReasonNoMatchingPerson},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, m := newDecide(t, tt.policy)
			found := map[string]ports.RSVPPerson{}
			if tt.person != nil {
				found[approval.NormalizeEmail(tt.email)] = *tt.person
			}
			m.people.EXPECT().FindByEmails(gomock.Any(), []string{tt.email}).Return(found, nil)
			m.decisions.EXPECT().Claim(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, d ports.RSVPDecision, _ time.Duration) (bool, error) {
				if d.Outcome != tt.want || d.Reason != tt.reason || d.GuestID != "g1" || d.RunID != "run-1" || d.EventID != "e1" {
					t.Errorf("decision %+v, want %s/%s", d, tt.want, tt.reason)
				}
				return true, nil
			})
			m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, e ports.AuditEntry) error {
				if e.Action != "rsvp."+tt.want.String() || e.SubjectID != "e1/g1" || e.ActorKind != "system" {
					t.Errorf("audit %+v", e)
				}
				return nil
			})
			if tt.want != approval.LeavePending {
				status := ports.GuestApproved
				if tt.want == approval.Decline {
					status = ports.GuestDeclined
				}
				m.platform.EXPECT().UpdateGuestStatus(gomock.Any(), ports.GuestStatusUpdate{EventID: "evt-1", GuestID: "g1", Status: status}).Return(nil)
				m.decisions.EXPECT().Applied(gomock.Any(), "e1", "g1", "run-1").Return(true, nil)
			}
			n, err := h.Handle(context.Background(), application.DecideRSVPsInput{Event: rsvpEvent, RunID: "run-1",
				Guests: []ports.PlatformGuest{{ID: "g1", Email: tt.email, Status: ports.GuestPendingApproval}}})
			if err != nil || n != 1 {
				t.Fatalf("Handle = %d, %v", n, err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A guest already decided (by a racing run or an earlier one) gets no call;
// a rate limit defers the guest and stops the page; a refusal is an error
// for that guest and the page goes on.
func TestDecideRSVPsOncePerGuestAndOnFailures(t *testing.T) {
	t.Parallel()
	h, m := newDecide(t, approval.DefaultPolicy())
	members := map[string]ports.RSVPPerson{}
	for _, e := range []string{"a@x.org", "b@x.org", "c@x.org", "d@x.org"} {
		members[e] = standing(access.RoleMember, membership.StatusActive, e)
	}
	m.people.EXPECT().FindByEmails(gomock.Any(), gomock.Any()).Return(members, nil)
	guests := []ports.PlatformGuest{
		{ID: "decided", Email: "a@x.org", Status: ports.GuestPendingApproval},
		{ID: "refused", Email: "b@x.org", Status: ports.GuestPendingApproval},
		{ID: "limited", Email: "c@x.org", Status: ports.GuestPendingApproval},
		{ID: "never", Email: "d@x.org", Status: ports.GuestPendingApproval},
	}
	claim := func(guest string, ok bool) *gomock.Call {
		return m.decisions.EXPECT().Claim(gomock.Any(), gomock.Cond(func(d ports.RSVPDecision) bool { return d.GuestID == guest }), gomock.Any()).Return(ok, nil)
	}
	update := func(guest string, err error) *gomock.Call {
		return m.platform.EXPECT().UpdateGuestStatus(gomock.Any(), gomock.Cond(func(u ports.GuestStatusUpdate) bool { return u.GuestID == guest })).Return(err)
	}
	limited := ports.Transient("events", errors.New("HTTP 429"), 30*time.Second)
	gomock.InOrder(
		claim("decided", false),
		claim("refused", true),
		update("refused", ports.Permanent(errors.New("HTTP 404"))),
		m.decisions.EXPECT().Fail(gomock.Any(), "e1", "refused", "run-1", gomock.Any()).Return(nil),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Cond(func(e ports.AuditEntry) bool { return e.Outcome == ports.OutcomeFailure })).Return(nil),
		claim("limited", true),
		update("limited", limited),
		m.decisions.EXPECT().Defer(gomock.Any(), "e1", "limited", "run-1").Return(nil),
	)
	n, err := h.Handle(context.Background(), application.DecideRSVPsInput{Event: rsvpEvent, Guests: guests, RunID: "run-1"})
	te, ok := ports.AsTransient(err)
	if !ok || te.RetryAfter != 30*time.Second {
		t.Fatalf("err = %v, want the transient rate limit with its wait", err)
	}
	if n != 2 {
		t.Errorf("acted on %d guests, want 2 (refused, limited)", n)
	}
}

// The job: unconfigured it is skipped; otherwise the first page names the
// run and the first event, then each page is one guest page of one event,
// and the summary is the store's count of the run's decisions.
func TestApproveRSVPsPages(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	platform := mocks.NewMockEventPlatform(ctrl)
	events := mocks.NewMockEventReader(ctrl)
	runs := mocks.NewMockRSVPRuns(ctrl)
	decide, dm := newDecide(t, approval.DefaultPolicy())
	h, err := application.NewApproveRSVPs(platform, events, decide, runs, mocks.NewMockAlerter(ctrl))
	if err != nil {
		t.Fatal(err)
	}
	type began struct {
		next string
		last bool
	}
	var pages []began
	begin := func(next string, last bool) error { pages = append(pages, began{next, last}); return nil }

	platform.EXPECT().Configured().Return(false)
	sum, err := h.Handle(context.Background(), "", begin)
	if err != nil || sum["outcome"] != "skipped" || sum["reason"] != "not configured" || len(pages) != 1 || !pages[0].last {
		t.Fatalf("unconfigured: %v, %v, %v", sum, err, pages)
	}

	pages = nil
	platform.EXPECT().Configured().Return(true).AnyTimes()
	events.EXPECT().List(gomock.Any(), ports.EventFilter{When: ports.EventsUpcoming, Now: eventNow, Limit: 1}).
		Return(ports.EventPage{Events: []ports.Event{rsvpEvent}, Cursors: []string{"c1"}}, nil)
	if _, err := h.Handle(context.Background(), "", begin); err != nil || len(pages) != 1 || pages[0].last || pages[0].next == "" {
		t.Fatalf("first page: %v, %v", err, pages)
	}
	events.EXPECT().Get(gomock.Any(), "e1").Return(rsvpEvent, nil)
	platform.EXPECT().ListGuests(gomock.Any(), ports.GuestQuery{EventID: "evt-1", Status: ports.GuestPendingApproval, Limit: application.RSVPPageSize}).
		Return(ports.GuestPage{Guests: []ports.PlatformGuest{{ID: "g1", Email: "who@x.org", Status: ports.GuestPendingApproval}}}, nil)
	events.EXPECT().List(gomock.Any(), ports.EventFilter{When: ports.EventsUpcoming, Now: eventNow, After: "c1", Limit: 1}).Return(ports.EventPage{}, nil)
	dm.people.EXPECT().FindByEmails(gomock.Any(), []string{"who@x.org"}).Return(map[string]ports.RSVPPerson{}, nil)
	var run string
	dm.decisions.EXPECT().Claim(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, d ports.RSVPDecision, _ time.Duration) (bool, error) {
		run = d.RunID
		return true, nil
	})
	dm.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
	runs.EXPECT().RunTally(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, r string) (map[string]ports.RSVPTally, error) {
		if r != run || r == "" {
			t.Errorf("tally of run %q, decisions made by %q", r, run)
		}
		return map[string]ports.RSVPTally{"e1": {LeftPending: 1, Deferred: 2, Deferrals: 3}}, nil
	})
	sum, err = h.Handle(context.Background(), pages[0].next, begin)
	if err != nil || len(pages) != 2 || !pages[1].last {
		t.Fatalf("second page: %v, %v", err, pages)
	}
	total, _ := sum["rsvps"].(map[string]any)
	perEvent, _ := sum["events"].(map[string]any)
	if total["left_pending"] != 1 || total["deferred"] != 2 || total["deferrals"] != 3 || total["approved"] != 0 || perEvent["e1"] == nil {
		t.Errorf("summary %v", sum)
	}
	if _, err := h.Handle(context.Background(), "not-a-cursor", begin); !ports.IsPermanent(err) {
		t.Errorf("a foreign cursor: %v, want a permanent error", err)
	}
}

// TestApproveRSVPsEndsACursorCircleAtThePageCap: a guest list whose
// cursors run in a circle (each page says has_more) ends: a circle of two
// on its third page (the next cursor is the one before), a longer one
// after MaxGuestPages pages; then the event is recorded unavailable,
// alerted once, and the run goes on (here: ends, no event is left).
func TestApproveRSVPsEndsACursorCircleAtThePageCap(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		circle map[string]string
		lists  int
	}{
		"two cursors":   {map[string]string{"": "a", "a": "b", "b": "a"}, 3},
		"three cursors": {map[string]string{"": "a", "a": "b", "b": "c", "c": "a"}, application.MaxGuestPages},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if lists := runCircle(t, tt.circle); lists != tt.lists {
				t.Errorf("%d guest-list calls, want %d", lists, tt.lists)
			}
		})
	}
}

// runCircle runs the approval job on one event whose guest list pages by
// circle and returns how many guest-list calls it made.
func runCircle(t *testing.T, circle map[string]string) int {
	t.Helper()
	ctrl := gomock.NewController(t)
	platform, events, runs, alerter := mocks.NewMockEventPlatform(ctrl), mocks.NewMockEventReader(ctrl), mocks.NewMockRSVPRuns(ctrl), mocks.NewMockAlerter(ctrl)
	decide, dm := newDecide(t, approval.DefaultPolicy())
	h, err := application.NewApproveRSVPs(platform, events, decide, runs, alerter)
	if err != nil {
		t.Fatal(err)
	}
	platform.EXPECT().Configured().Return(true).AnyTimes()
	events.EXPECT().List(gomock.Any(), gomock.Cond(func(f ports.EventFilter) bool { return f.After == "" })).
		Return(ports.EventPage{Events: []ports.Event{rsvpEvent}, Cursors: []string{"c1"}}, nil)
	events.EXPECT().List(gomock.Any(), gomock.Cond(func(f ports.EventFilter) bool { return f.After == "c1" })).Return(ports.EventPage{}, nil)
	events.EXPECT().Get(gomock.Any(), "e1").Return(rsvpEvent, nil).AnyTimes()
	lists := 0
	platform.EXPECT().ListGuests(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, q ports.GuestQuery) (ports.GuestPage, error) {
		lists++
		return ports.GuestPage{HasMore: true, Next: circle[q.Cursor]}, nil
	}).AnyTimes()
	dm.people.EXPECT().FindByEmails(gomock.Any(), gomock.Any()).Return(map[string]ports.RSVPPerson{}, nil).AnyTimes()
	runs.EXPECT().RunTally(gomock.Any(), gomock.Any()).Return(map[string]ports.RSVPTally{}, nil).AnyTimes()
	dm.events.EXPECT().FirstUnavailable(gomock.Any(), "e1").Return(true, nil)
	dm.audit.EXPECT().Record(gomock.Any(), gomock.Cond(func(e ports.AuditEntry) bool { return e.Action == "event.unavailable" && e.SubjectID == "e1" })).Return(nil)
	alerter.EXPECT().Alert(gomock.Any(), gomock.Any()).Return(nil)
	cursor, pages := "", 0
	for ; pages <= 2*application.MaxGuestPages; pages++ {
		var next string
		var last bool
		if _, err := h.Handle(context.Background(), cursor, func(n string, l bool) error { next, last = n, l; return nil }); err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if last {
			break
		}
		cursor = next
	}
	t.Logf("%d pages", pages)
	return lists
}

// What a guest typed as their email is bounded before any look-up: a
// longer one than an address can be is matched to no one.
func TestDecideRSVPsDoesNotLookUpAnOversizedEmail(t *testing.T) {
	t.Parallel()
	h, m := newDecide(t, approval.DefaultPolicy())
	long := strings.Repeat("a", 400) + "@example.org"
	m.people.EXPECT().FindByEmails(gomock.Any(), []string{}).Return(map[string]ports.RSVPPerson{}, nil)
	m.decisions.EXPECT().Claim(gomock.Any(), gomock.Cond(func(d ports.RSVPDecision) bool {
		return d.Outcome == approval.LeavePending && d.Reason == approval.ReasonNoMatchingPerson
	}), gomock.Any()).Return(true, nil)
	m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
	if _, err := h.Handle(context.Background(), application.DecideRSVPsInput{Event: rsvpEvent, RunID: "r",
		Guests: []ports.PlatformGuest{{ID: "g1", Email: long, Status: ports.GuestPendingApproval}}}); err != nil {
		t.Fatal(err)
	}
}

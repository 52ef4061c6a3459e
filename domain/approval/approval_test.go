package approval_test

import (
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/domain/membership"
)

var now = time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC)

func person(role access.Role, status membership.Status) *approval.Person {
	return &approval.Person{
		VerifiedEmails: []string{"ada@example.org", "Ada.Work@Example.COM"},
		Role:           role,
		Membership:     approval.Standing{Status: status, CurrentPeriodEnd: now.AddDate(0, 1, 0)},
	}
}

func scheduled(periodEnd time.Time) *approval.Person {
	p := person(access.RoleMember, membership.StatusActive)
	p.Membership.CancelAtPeriodEnd = true
	p.Membership.CurrentPeriodEnd = periodEnd
	return p
}

func TestDecide(t *testing.T) {
	t.Parallel()
	guest := approval.Guest{Email: "ada@example.org"}
	strict := approval.Policy{PastDue: approval.PastDueNoGrace, NonMember: approval.NonMemberDecline}
	tests := []struct {
		name   string
		guest  approval.Guest
		person *approval.Person
		policy approval.Policy
		want   approval.Decision
	}{
		{"admin without a membership is approved", guest, person(access.RoleAdmin, 0), approval.DefaultPolicy(),
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonAdmin}},
		{"leader whose membership was canceled is approved", guest, person(access.RoleLeader, membership.StatusCanceled), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonLeader}},
		{"active member is approved", guest, person(access.RoleMember, membership.StatusActive), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveMember}},
		{"active member without a role is approved", guest, person(0, membership.StatusActive), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveMember}},
		{"scheduled cancellation before its period end is approved", guest, scheduled(now.Add(time.Second)), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveUntilPeriodEnd}},
		{"scheduled cancellation at its period end is not", guest, scheduled(now), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonPeriodEnded}},
		{"past_due is approved during dunning by default", guest, person(access.RoleMember, membership.StatusPastDue), approval.DefaultPolicy(),
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonPastDueGrace}},
		{"past_due, the zero policy is the default", guest, person(access.RoleMember, membership.StatusPastDue), approval.Policy{},
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonPastDueGrace}},
		{"past_due without grace is declined by a strict policy", guest, person(access.RoleMember, membership.StatusPastDue), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonPastDue}},
		{"past_due without grace is left pending by default", guest, person(access.RoleMember, membership.StatusPastDue), approval.Policy{PastDue: approval.PastDueNoGrace},
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonPastDue}},
		{"past_due under an invalid rule is left pending", guest, person(access.RoleMember, membership.StatusPastDue), approval.Policy{PastDue: 9, NonMember: approval.NonMemberDecline},
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonPastDue}},
		{"pending membership is left pending by default", guest, person(access.RoleMember, membership.StatusPending), approval.DefaultPolicy(),
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonPendingMembership}},
		{"pending membership is declined by a strict policy", guest, person(access.RoleMember, membership.StatusPending), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonPendingMembership}},
		{"canceled membership is declined by a strict policy", guest, person(access.RoleMember, membership.StatusCanceled), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonCanceledMembership}},
		{"suspended membership (unpaid, paused) is declined by a strict policy", guest, person(access.RoleMember, membership.StatusSuspended), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonSuspendedMembership}},
		{"canceled membership under an invalid rule is left pending", guest, person(access.RoleMember, membership.StatusCanceled), approval.Policy{NonMember: 9},
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonCanceledMembership}},
		{"a person without a membership is declined by a strict policy", guest, person(0, 0), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMembership}},
		{"no person found is declined by a strict policy", guest, nil, strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMatchingPerson}},
		{"no person found is left pending by default", guest, nil, approval.DefaultPolicy(),
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonNoMatchingPerson}},
		{"an admin whose verified emails are not the guest's is no match", approval.Guest{Email: "someone@else.org"}, person(access.RoleAdmin, membership.StatusActive), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMatchingPerson}},
		{"the guest's email matches another verified address, ignoring case and spaces", approval.Guest{Email: "  ada.work@example.com\t"}, person(access.RoleMember, membership.StatusActive), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveMember}},
		{"a blank guest email matches no one", approval.Guest{Email: " "}, &approval.Person{VerifiedEmails: []string{""}, Role: access.RoleAdmin}, strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMatchingPerson}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := approval.Decide(tt.guest, tt.person, tt.policy, now); got != tt.want {
				t.Errorf("Decide = %s/%s, want %s/%s", got.Outcome, got.Reason, tt.want.Outcome, tt.want.Reason)
			}
		})
	}
}

func TestStandingOf(t *testing.T) {
	t.Parallel()
	if got := approval.StandingOf(nil); got != (approval.Standing{}) {
		t.Errorf("StandingOf(nil) = %+v, want the zero Standing", got)
	}
	m, err := membership.New("person_1")
	if err != nil {
		t.Fatal(err)
	}
	standard, _ := membership.NewTier("standard")
	s, err := membership.NewSnapshot(membership.SnapshotParams{
		SubscriptionID: "sub_1", Status: membership.ProviderActive, Tier: standard,
		CancelAtPeriodEnd: true, CurrentPeriodEnd: now.Add(time.Hour), TakenAt: now.Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ApplySnapshot(s); err != nil {
		t.Fatal(err)
	}
	want := approval.Standing{Status: membership.StatusActive, CancelAtPeriodEnd: true, CurrentPeriodEnd: now.Add(time.Hour)}
	if got := approval.StandingOf(m); got != want {
		t.Errorf("StandingOf = %+v, want %+v", got, want)
	}
	p := &approval.Person{VerifiedEmails: []string{"ada@example.org"}, Membership: approval.StandingOf(m)}
	if got := approval.Decide(approval.Guest{Email: "ada@example.org"}, p, approval.DefaultPolicy(), now); got.Outcome != approval.Approve {
		t.Errorf("member with a later period end: %s/%s, want approve", got.Outcome, got.Reason)
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	if got := approval.NormalizeEmail("  Ada@Example.ORG \n"); got != "ada@example.org" {
		t.Errorf("NormalizeEmail = %q", got)
	}
}

func TestEnumsParseWhatTheyPrint(t *testing.T) {
	t.Parallel()
	for _, o := range []approval.Outcome{approval.Approve, approval.Decline, approval.LeavePending} {
		if got, err := approval.ParseOutcome(o.String()); err != nil || got != o {
			t.Errorf("ParseOutcome(%q) = %v, %v", o.String(), got, err)
		}
	}
	for r := approval.ReasonAdmin; r <= approval.ReasonSuspendedMembership; r++ {
		if got, err := approval.ParseReason(r.String()); err != nil || got != r {
			t.Errorf("ParseReason(%q) = %v, %v", r.String(), got, err)
		}
	}
	for _, r := range []approval.PastDueRule{approval.PastDueGrace, approval.PastDueNoGrace} {
		if got, err := approval.ParsePastDueRule(r.String()); err != nil || got != r {
			t.Errorf("ParsePastDueRule(%q) = %v, %v", r.String(), got, err)
		}
	}
	for _, r := range []approval.NonMemberRule{approval.NonMemberLeavePending, approval.NonMemberDecline} {
		if got, err := approval.ParseNonMemberRule(r.String()); err != nil || got != r {
			t.Errorf("ParseNonMemberRule(%q) = %v, %v", r.String(), got, err)
		}
	}
	invalid := []struct{ got, want string }{
		{approval.Outcome(0).String(), "Outcome(0)"},
		{approval.Reason(0).String(), "Reason(0)"},
		{approval.Reason(99).String(), "Reason(99)"},
		{approval.PastDueRule(7).String(), "PastDueRule(7)"},
		{approval.NonMemberRule(7).String(), "NonMemberRule(7)"},
	}
	for _, tt := range invalid {
		if tt.got != tt.want {
			t.Errorf("invalid value prints %q, want %q", tt.got, tt.want)
		}
	}
	parsers := map[string]func(string) error{
		"outcome":         func(s string) error { _, err := approval.ParseOutcome(s); return err },
		"reason":          func(s string) error { _, err := approval.ParseReason(s); return err },
		"past_due rule":   func(s string) error { _, err := approval.ParsePastDueRule(s); return err },
		"non-member rule": func(s string) error { _, err := approval.ParseNonMemberRule(s); return err },
	}
	for name, parse := range parsers {
		if err := parse("maybe"); err == nil {
			t.Errorf("%s parser accepted %q", name, "maybe")
		}
	}
}

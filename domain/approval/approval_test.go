package approval_test

import (
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
)

var now = time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC)

// grant is a grant of src current from an hour ago; until is relative to
// now (0: open).
func grant(src ledger.Source, until time.Duration) ledger.Grant {
	g := ledger.Grant{ID: src.String(), Source: src, From: now.Add(-time.Hour), GrantedBy: "test", Reason: "test"}
	if until != 0 {
		g.Until = now.Add(until)
	}
	return g
}

func person(role access.Role, status membership.Status, grants ...ledger.Grant) *approval.Person {
	return &approval.Person{
		VerifiedEmails: []string{"ada@example.org", "Ada.Work@Example.COM"},
		Role:           role, Status: status, Grants: grants,
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	guest := approval.Guest{Email: "ada@example.org"}
	strict := approval.Policy{NonMember: approval.NonMemberDecline}
	paid := grant(ledger.SourceSubscription, 0)
	ended := grant(ledger.SourceSubscription, -time.Minute) // from an hour ago, ended a minute ago
	ended.From = now.Add(-2 * time.Hour)
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
		{"a paying member is approved", guest, person(access.RoleMember, membership.StatusActive, paid), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveMember}},
		{"a paying member without a role is approved", guest, person(0, membership.StatusActive, paid), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveMember}},
		{"scheduled cancellation before its period end is approved", guest, person(access.RoleMember, membership.StatusActive, grant(ledger.SourceSubscription, time.Second)), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveUntilPeriodEnd}},
		{"scheduled cancellation at its period end is not", guest, person(access.RoleMember, membership.StatusActive, ended), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonPeriodEnded}},
		{"in the grace window after a failed payment", guest, person(access.RoleMember, membership.StatusPastDue, ended, grant(ledger.SourceGrace, time.Hour)), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonPastDueGrace}},
		{"grace window over, the provider still retrying", guest, person(access.RoleMember, membership.StatusPastDue, ended, grant(ledger.SourceGrace, -time.Second)), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonPastDue}},
		{"grace window over, left pending by default", guest, person(access.RoleMember, membership.StatusPastDue, ended), approval.DefaultPolicy(),
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonPastDue}},
		{"a scholarship without a subscription is approved", guest, person(access.RoleMember, 0, grant(ledger.SourceComplimentary, 24*time.Hour)), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonComplimentary}},
		{"a manual grant is approved", guest, person(access.RoleMember, membership.StatusCanceled, grant(ledger.SourceManual, 0)), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonManualGrant}},
		{"a scholarship and a subscription: the subscription is named", guest, person(access.RoleMember, membership.StatusActive, grant(ledger.SourceComplimentary, time.Hour), paid), strict,
			approval.Decision{Outcome: approval.Approve, Reason: approval.ReasonActiveMember}},
		{"an expired scholarship is not approved", guest, person(access.RoleMember, 0, grant(ledger.SourceComplimentary, -time.Second)), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMembership}},
		{"pending membership is left pending by default", guest, person(access.RoleMember, membership.StatusPending), approval.DefaultPolicy(),
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonPendingMembership}},
		{"pending membership is declined by a strict policy", guest, person(access.RoleMember, membership.StatusPending), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonPendingMembership}},
		{"canceled membership is declined by a strict policy", guest, person(access.RoleMember, membership.StatusCanceled, ended), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonCanceledMembership}},
		{"suspended membership (unpaid, paused) past grace is declined by a strict policy", guest, person(access.RoleMember, membership.StatusSuspended), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonSuspendedMembership}},
		{"canceled membership under an invalid rule is left pending", guest, person(access.RoleMember, membership.StatusCanceled), approval.Policy{NonMember: 9},
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonCanceledMembership}},
		{"a person without a membership is declined by a strict policy", guest, person(0, 0), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMembership}},
		{"no person found is declined by a strict policy", guest, nil, strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMatchingPerson}},
		{"no person found is left pending by default", guest, nil, approval.DefaultPolicy(),
			approval.Decision{Outcome: approval.LeavePending, Reason: approval.ReasonNoMatchingPerson}},
		{"an admin whose verified emails are not the guest's is no match", approval.Guest{Email: "someone@else.org"}, person(access.RoleAdmin, membership.StatusActive, paid), strict,
			approval.Decision{Outcome: approval.Decline, Reason: approval.ReasonNoMatchingPerson}},
		{"the guest's email matches another verified address, ignoring case and spaces", approval.Guest{Email: "  ada.work@example.com\t"}, person(access.RoleMember, membership.StatusActive, paid), strict,
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
	for r := approval.ReasonAdmin; r <= approval.ReasonManualGrant; r++ {
		if got, err := approval.ParseReason(r.String()); err != nil || got != r {
			t.Errorf("ParseReason(%q) = %v, %v", r.String(), got, err)
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
		"non-member rule": func(s string) error { _, err := approval.ParseNonMemberRule(s); return err },
	}
	for name, parse := range parsers {
		if err := parse("maybe"); err == nil {
			t.Errorf("%s parser accepted %q", name, "maybe")
		}
	}
}

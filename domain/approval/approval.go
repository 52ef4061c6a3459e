package approval

import (
	"slices"
	"strings"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
)

// Guest is the person who asked to attend, as the events platform knows them.
type Guest struct {
	Email string
}

// Person is the platform's person the guest may be.
type Person struct {
	// VerifiedEmails are every address the identity provider has verified.
	// Unverified addresses must not be passed: they prove nothing.
	VerifiedEmails []string
	// Role is the person's role; the zero Role is none.
	Role access.Role
	// Membership is the person's membership standing; the zero Standing is
	// no membership.
	Membership Standing
}

// Standing is what approval needs to know of a membership.
type Standing struct {
	Status            membership.Status
	CancelAtPeriodEnd bool
	CurrentPeriodEnd  time.Time
}

// StandingOf returns the standing of m; the zero Standing for nil.
func StandingOf(m *membership.Membership) Standing {
	if m == nil {
		return Standing{}
	}
	return Standing{
		Status:            m.Status(),
		CancelAtPeriodEnd: m.CancelAtPeriodEnd(),
		CurrentPeriodEnd:  m.CurrentPeriodEnd(),
	}
}

// NormalizeEmail returns the form in which emails are compared: without
// surrounding spaces, in lower case. Lookups by email should use it too.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// HasEmail reports whether email is one of the person's verified addresses,
// ignoring case and surrounding spaces. A blank email matches nothing.
func (p Person) HasEmail(email string) bool {
	want := NormalizeEmail(email)
	if want == "" {
		return false
	}
	return slices.ContainsFunc(p.VerifiedEmails, func(e string) bool { return NormalizeEmail(e) == want })
}

// Decide decides the RSVP of guest. person is the platform's person found
// for the guest's email, or nil when none was found; a person none of whose
// verified addresses is the guest's email counts as no person.
//
// Admins and leaders are approved, and so are active members (including
// those whose cancellation takes effect after now). A past_due member is
// approved or not according to policy.PastDue. Everyone else is declined or
// left pending according to policy.NonMember.
func Decide(guest Guest, person *Person, policy Policy, now time.Time) Decision {
	if person == nil || !person.HasEmail(guest.Email) {
		return policy.nonMember(ReasonNoMatchingPerson)
	}
	switch person.Role {
	case access.RoleAdmin:
		return Decision{Outcome: Approve, Reason: ReasonAdmin}
	case access.RoleLeader:
		return Decision{Outcome: Approve, Reason: ReasonLeader}
	case access.RoleMember:
		// A member's role grants nothing by itself: the membership decides.
	default:
		// No role: the membership decides.
	}
	m := person.Membership
	switch m.Status {
	case membership.StatusActive:
		switch {
		case !m.CancelAtPeriodEnd:
			return Decision{Outcome: Approve, Reason: ReasonActiveMember}
		case now.Before(m.CurrentPeriodEnd):
			return Decision{Outcome: Approve, Reason: ReasonActiveUntilPeriodEnd}
		default:
			return policy.nonMember(ReasonPeriodEnded)
		}
	case membership.StatusPastDue:
		switch policy.PastDue {
		case PastDueNoGrace:
			return policy.nonMember(ReasonPastDue)
		case PastDueGrace:
			return Decision{Outcome: Approve, Reason: ReasonPastDueGrace}
		default:
			return Decision{Outcome: LeavePending, Reason: ReasonPastDue}
		}
	case membership.StatusPending:
		return policy.nonMember(ReasonPendingMembership)
	case membership.StatusCanceled:
		return policy.nonMember(ReasonCanceledMembership)
	case membership.StatusSuspended:
		return policy.nonMember(ReasonSuspendedMembership)
	default:
		return policy.nonMember(ReasonNoMembership)
	}
}

package approval

import (
	"slices"
	"strings"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
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
	// Grants are the person's grants of access (domain/ledger): they
	// alone decide whether a member is approved.
	Grants []ledger.Grant
	// Status is their membership's status (zero: none), which only names
	// why someone without access is not approved.
	Status membership.Status
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
// Admins and leaders are approved, and so is anyone the access ledger
// gives access now: a paid subscription (also one whose cancellation takes
// effect later), a scholarship, a manual grant, or the grace window after a
// failed payment. Everyone else is declined or left pending according to
// policy.NonMember, with the reason their membership gives. Access is taken
// at now.
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
		// A member's role grants nothing by itself: access decides.
	default:
		// No role: access decides.
	}
	if a := ledger.Explain(person.Grants, now); a.Active {
		return Decision{Outcome: Approve, Reason: approvedBecause(a)}
	}
	switch person.Status {
	case membership.StatusActive:
		return policy.nonMember(ReasonPeriodEnded)
	case membership.StatusPastDue:
		return policy.nonMember(ReasonPastDue)
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

// approvedBecause names the strongest current source of access: a paid
// subscription, then a scholarship, a manual grant, the grace window.
func approvedBecause(a ledger.Access) Reason {
	for _, g := range a.Sources {
		if g.Source == ledger.SourceSubscription {
			if g.Until.IsZero() {
				return ReasonActiveMember
			}
			return ReasonActiveUntilPeriodEnd
		}
	}
	switch {
	case a.Has(ledger.SourceComplimentary):
		return ReasonComplimentary
	case a.Has(ledger.SourceManual):
		return ReasonManualGrant
	default:
		return ReasonPastDueGrace
	}
}

package application

import (
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// Member is a person as one principal may see them: fields the principal
// may not see are empty and named in Hidden.
type Member struct {
	ID        string
	FirstName string
	LastName  string
	Email     string // "" when hidden
	Role      access.Role
	Hidden    access.Redaction
}

// MembershipView is a membership as a principal may see it.
type MembershipView struct {
	Status            membership.Status
	Tier              string
	CancelAtPeriodEnd bool
	CurrentPeriodEnd  time.Time
	// Visible is the member's choice to be listed; it counts only while
	// HasAccess (the access ledger's call).
	Visible   bool
	HasAccess bool
	Alumni    bool
}

// Person is our record of a person, for operators' tools.
type Person = ports.Person

// view applies the principal's redaction to a person.
func view(p access.Principal, person ports.Person) Member {
	r := access.RedactionFor(p, person.ID)
	m := Member{ID: person.ID, FirstName: person.FirstName, LastName: person.LastName, Email: person.PrimaryEmail, Role: person.Role, Hidden: r}
	if r.Hides(access.FieldEmail) {
		m.Email = ""
	}
	return m
}

// membershipView is what a member sees of a membership summary.
func membershipView(s membership.Summary, hasAccess bool) MembershipView {
	v := MembershipView{Status: s.Status, CancelAtPeriodEnd: s.CancelAtPeriodEnd, CurrentPeriodEnd: s.CurrentPeriodEnd,
		Visible: s.Visible, HasAccess: hasAccess, Alumni: s.Alumni}
	if !s.Tier.IsZero() {
		v.Tier = s.Tier.String()
	}
	return v
}

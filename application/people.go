package application

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	Visible           bool
	Alumni            bool
}

// MemberPage is one page of the directory.
type MemberPage struct {
	Members []Member
	Cursors []string
	HasMore bool
}

// MemberFilter is the directory's filter; only principals with
// members:write (admins) may include hidden members or filter by status.
type MemberFilter struct {
	IncludeHidden bool
	Statuses      []membership.Status
}

// PersonProfile is what a person may change about themselves.
type PersonProfile = ports.PersonProfile

// MaxDirectoryPage bounds one page of members.
const MaxDirectoryPage = 100

// PeopleHandler answers the people and directory queries and commands.
type PeopleHandler struct {
	people      ports.People
	memberships ports.Memberships
	uow         ports.UnitOfWork
}

// NewPeopleHandler refuses nil dependencies.
func NewPeopleHandler(people ports.People, memberships ports.Memberships, uow ports.UnitOfWork) (PeopleHandler, error) {
	if people == nil || memberships == nil || uow == nil {
		return PeopleHandler{}, errors.New("application: people: nil dependency")
	}
	return PeopleHandler{people: people, memberships: memberships, uow: uow}, nil
}

// view applies the principal's redaction to a person.
func view(p access.Principal, person ports.Person) Member {
	r := access.RedactionFor(p, person.ID)
	m := Member{ID: person.ID, FirstName: person.FirstName, LastName: person.LastName, Email: person.PrimaryEmail, Role: person.Role, Hidden: r}
	if r.Hides(access.FieldEmail) {
		m.Email = ""
	}
	return m
}

// SignedInUser returns the principal of ctx if it is a signed-in person (a
// user principal), or an error wrapping access.ErrForbidden.
func SignedInUser(ctx context.Context) (access.Principal, error) {
	p := PrincipalFrom(ctx)
	if p.IsAnonymous() || p.Kind() != access.KindUser {
		return p, fmt.Errorf("%w: sign in first", access.ErrForbidden)
	}
	return p, nil
}

// Me returns the signed-in person.
func (h PeopleHandler) Me(ctx context.Context) (Member, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return Member{}, err
	}
	person, err := h.people.Get(ctx, p.ID())
	if err != nil {
		return Member{}, err
	}
	return view(p, person), nil
}

// Member returns one person by id (members:read); hidden members only to
// admins and to themselves.
func (h PeopleHandler) Member(ctx context.Context, id string) (Member, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersRead); err != nil {
		return Member{}, err
	}
	person, err := h.people.Get(ctx, id)
	if err != nil {
		return Member{}, err
	}
	if person.Erased {
		return Member{}, ports.ErrNotFound
	}
	if person.ID != p.ID() && !access.Allows(p, access.ScopeMembersWrite) {
		m, err := h.memberships.Get(ctx, person.ID)
		if errors.Is(err, ports.ErrNotFound) || (err == nil && !m.Visible()) {
			return Member{}, ports.ErrNotFound
		}
		if err != nil {
			return Member{}, err
		}
	}
	return view(p, person), nil
}

// Members returns one page of the directory: visible members, or for
// admins everyone, optionally filtered by status.
func (h PeopleHandler) Members(ctx context.Context, first int, after string, f MemberFilter) (MemberPage, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersRead); err != nil {
		return MemberPage{}, err
	}
	if first < 1 || first > MaxDirectoryPage {
		return MemberPage{}, fmt.Errorf("%w: first must be between 1 and %d", ErrInvalidInput, MaxDirectoryPage)
	}
	if (f.IncludeHidden || len(f.Statuses) > 0) && !access.Allows(p, access.ScopeMembersWrite) {
		return MemberPage{}, fmt.Errorf("%w: only admins can list hidden members or filter by status", access.ErrForbidden)
	}
	page, err := h.people.Directory(ctx, ports.DirectoryFilter{IncludeHidden: f.IncludeHidden, Statuses: f.Statuses, After: after, Limit: first})
	if err != nil {
		if errors.Is(err, ports.ErrInvalidCursor) {
			return MemberPage{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
		}
		return MemberPage{}, err
	}
	out := MemberPage{Cursors: page.Cursors, HasMore: page.HasMore, Members: make([]Member, 0, len(page.People))}
	for _, person := range page.People {
		out.Members = append(out.Members, view(p, person))
	}
	return out, nil
}

// Memberships returns, for each person id, the membership the principal may
// see (billing data: their own, or with billing:read). One query for all,
// for the dataloader.
func (h PeopleHandler) Memberships(ctx context.Context, personIDs []string) (map[string]MembershipView, error) {
	p := PrincipalFrom(ctx)
	ms, err := h.memberships.GetMany(ctx, personIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]MembershipView, len(ms))
	for id, m := range ms {
		if access.RedactionFor(p, id).Hides(access.FieldBilling) {
			continue
		}
		out[id] = membershipView(m)
	}
	return out, nil
}

func membershipView(m *membership.Membership) MembershipView {
	v := MembershipView{Status: m.Status(), CancelAtPeriodEnd: m.CancelAtPeriodEnd(), Visible: m.Visible(), Alumni: m.Alumni()}
	if !m.Tier().IsZero() {
		v.Tier = m.Tier().String()
	}
	v.CurrentPeriodEnd = m.CurrentPeriodEnd()
	return v
}

// UpdateMyProfile changes the signed-in person's name.
func (h PeopleHandler) UpdateMyProfile(ctx context.Context, pr ports.PersonProfile) (Member, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return Member{}, err
	}
	pr.FirstName, pr.LastName = strings.TrimSpace(pr.FirstName), strings.TrimSpace(pr.LastName)
	if pr.FirstName == "" || len(pr.FirstName) > 100 || len(pr.LastName) > 100 {
		return Member{}, fmt.Errorf("%w: first name is required and names are at most 100 characters", ErrInvalidInput)
	}
	var out ports.Person
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		if out, err = tx.People().UpdateProfile(ctx, p.ID(), pr); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "person.update_profile", SubjectKind: "person", SubjectID: p.ID(), Outcome: ports.OutcomeSuccess}))
	})
	if err != nil {
		return Member{}, err
	}
	return view(p, out), nil
}

// SetMyVisibility shows or hides the signed-in member in the directory;
// only an active member can be shown (membership.ErrNotActive).
func (h PeopleHandler) SetMyVisibility(ctx context.Context, visible bool) (MembershipView, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return MembershipView{}, err
	}
	var out MembershipView
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		err := tx.Memberships().Update(ctx, p.ID(), func(m *membership.Membership) error {
			if err := m.SetVisible(visible); err != nil {
				return err
			}
			out = membershipView(m)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "membership.set_visibility", SubjectKind: "person", SubjectID: p.ID(),
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"visible": visible}}))
	})
	if errors.Is(err, membership.ErrNotActive) {
		return MembershipView{}, fmt.Errorf("%w: only an active member can be listed in the directory", ErrInvalidInput)
	}
	return out, err
}

// SetPersonRole gives a person a role (members:write). It is audited with
// the role before and after.
func (h PeopleHandler) SetPersonRole(ctx context.Context, personID string, role access.Role) (Member, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersWrite); err != nil {
		return Member{}, err
	}
	var out ports.Person
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		before, err := tx.People().Get(ctx, personID)
		if err != nil {
			return err
		}
		if out, err = tx.People().SetRole(ctx, personID, role); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "person.set_role", SubjectKind: "person", SubjectID: personID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"from": before.Role.String(), "to": role.String()}}))
	})
	if err != nil {
		return Member{}, err
	}
	return view(p, out), nil
}

// PersonByEmail finds a person for operators (the CLI).
func (h PeopleHandler) PersonByEmail(ctx context.Context, email string) (ports.Person, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeMembersReadPII); err != nil {
		return ports.Person{}, err
	}
	return h.people.GetByEmail(ctx, email)
}

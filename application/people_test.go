package application_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// asUser returns a context acting as the signed-in person id with role.
func asUser(t *testing.T, id string, role access.Role) context.Context {
	t.Helper()
	p, err := access.NewUser(id, role, true) // a paying member
	if err != nil {
		t.Fatal(err)
	}
	return application.WithPrincipal(context.Background(), p)
}

// asMember returns a context acting as the signed-in person id with the
// role member, with or without access (what the access ledger says of them
// at sign-in: Authenticate).
func asMember(t *testing.T, id string, hasAccess bool) context.Context {
	t.Helper()
	p, err := access.NewUser(id, access.RoleMember, hasAccess)
	if err != nil {
		t.Fatal(err)
	}
	return application.WithPrincipal(context.Background(), p)
}

// asAgent returns a context acting as an API-key agent with scopes.
func asAgent(t *testing.T, id string, scopes ...access.Scope) context.Context {
	t.Helper()
	p, err := access.NewAgent(id, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return application.WithPrincipal(context.Background(), p)
}

func asSystem(t *testing.T, name string) context.Context {
	t.Helper()
	p, err := access.NewSystem(name)
	if err != nil {
		t.Fatal(err)
	}
	return application.WithPrincipal(context.Background(), p)
}

// peopleNow is when the people use cases run: a day after the memberships
// of these tests started (emailT0).
var peopleNow = emailT0.Add(24 * time.Hour)

var (
	me    = ports.Person{ID: "p1", PrimaryEmail: "ada@example.test", FirstName: "Ada", LastName: "Lovelace", Role: access.RoleMember}
	other = ports.Person{ID: "p2", PrimaryEmail: "bo@example.test", FirstName: "Bo", LastName: "Diddley", Role: access.RoleMember}
)

func visibleIn(t *testing.T, personID, tier string) *membership.Membership {
	t.Helper()
	m := activeIn(t, personID, tier)
	if err := m.SetVisible(true, true); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPrincipalFromContext(t *testing.T) {
	t.Parallel()
	if p := application.PrincipalFrom(context.Background()); !p.IsAnonymous() {
		t.Errorf("a bare context acts as %v, want anonymous", p)
	}
	tests := []struct {
		name    string
		ctx     context.Context
		wantErr bool
	}{
		{"anonymous", context.Background(), true},
		{"an agent is not a signed-in person", asAgent(t, "key_1", access.ScopeMembersRead), true},
		{"the system is not a signed-in person", asSystem(t, "worker"), true},
		{"a person", asUser(t, "p1", access.RoleMember), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := application.SignedInUser(tt.ctx)
			if tt.wantErr != errors.Is(err, access.ErrForbidden) {
				t.Fatalf("SignedInUser = %v, %v", p, err)
			}
			if !tt.wantErr && p.ID() != "p1" {
				t.Fatalf("principal = %v", p)
			}
		})
	}
}

func TestGetMe(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		stored  error // nil: the person is found
		want    application.Member
		wantErr error
	}{
		{"a member sees their own email", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, nil,
			application.Member{ID: "p1", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.test", Role: access.RoleMember,
				Hidden: access.RedactionFor(mustPrincipal(t, "p1"), "p1")}, nil},
		{"someone without a membership still sees themselves, with their email", func(t *testing.T) context.Context { return asMember(t, "p1", false) }, nil,
			application.Member{ID: "p1", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.test", Role: access.RoleMember,
				Hidden: access.RedactionFor(mustPrincipal(t, "p1"), "p1")}, nil},
		{"anonymous must sign in", func(*testing.T) context.Context { return context.Background() }, nil, application.Member{}, access.ErrForbidden},
		{"an agent has no me", func(t *testing.T) context.Context { return asAgent(t, "key_1", access.AllScopes()...) }, nil, application.Member{}, access.ErrForbidden},
		{"store failure", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, boom, application.Member{}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			people := mocks.NewMockPersonReader(gomock.NewController(t))
			if tt.wantErr == nil || tt.stored != nil {
				people.EXPECT().Get(gomock.Any(), "p1").Return(me, tt.stored)
			}
			h, err := application.NewGetMe(people)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("me = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func mustPrincipal(t *testing.T, id string) access.Principal {
	t.Helper()
	p, err := access.NewUser(id, access.RoleMember, true)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGetMember(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	hiddenM := func(t *testing.T) *membership.Membership { return activeIn(t, "p2", "community") }
	visibleM := func(t *testing.T) *membership.Membership { return visibleIn(t, "p2", "community") }
	// A scholarship holder who never paid, listed by choice.
	visibleScholar := func(t *testing.T) *membership.Membership {
		m, _ := membership.New("p2")
		if err := m.SetVisible(true, true); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name      string
		ctx       func(t *testing.T) context.Context
		id        string
		person    ports.Person
		m         func(t *testing.T) *membership.Membership // nil: membership not asked
		mErr      error
		grants    func(t *testing.T) []ledger.Grant // the person's ledger; nil: what billing wrote for m
		wantEmail string
		wantErr   error
	}{
		{name: "a member sees a visible member without their email", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			id: "p2", person: other, m: visibleM, wantEmail: ""},
		{name: "a visible scholarship holder is found like a paying member", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			id: "p2", person: other, m: visibleScholar, grants: func(t *testing.T) []ledger.Grant {
				return []ledger.Grant{scholarship(t, "p2", "community", emailT0, emailT0.Add(90*24*time.Hour))}
			}, wantEmail: ""},
		{name: "a visible member whose access ended is not found by others", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			id: "p2", person: other, m: visibleM, grants: func(t *testing.T) []ledger.Grant {
				return []ledger.Grant{scholarship(t, "p2", "community", emailT0, emailT0.Add(time.Hour))}
			}, wantErr: application.ErrNotFound},
		{name: "a hidden member is not found by others", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			id: "p2", person: other, m: hiddenM, wantErr: application.ErrNotFound},
		{name: "a person without a membership is not found by others", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			id: "p2", person: other, mErr: ports.ErrNotFound, wantErr: application.ErrNotFound},
		{name: "a hidden member sees themselves, with their email", ctx: func(t *testing.T) context.Context { return asUser(t, "p2", access.RoleMember) },
			id: "p2", person: other, wantEmail: "bo@example.test"},
		{name: "an admin sees a hidden member, with their email", ctx: func(t *testing.T) context.Context { return asUser(t, "p9", access.RoleAdmin) },
			id: "p2", person: other, wantEmail: "bo@example.test"},
		{name: "an erased person is not found, even by admins", ctx: func(t *testing.T) context.Context { return asUser(t, "p9", access.RoleAdmin) },
			id: "p2", person: ports.Person{ID: "p2", Erased: true}, wantErr: application.ErrNotFound},
		{name: "the membership store fails", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			id: "p2", person: other, mErr: boom, wantErr: boom},
		{name: "anonymous is forbidden", ctx: func(*testing.T) context.Context { return context.Background() }, id: "p2", wantErr: access.ErrForbidden},
		{name: "someone who signed up without a membership may not look others up", ctx: func(t *testing.T) context.Context { return asMember(t, "p1", false) },
			id: "p2", wantErr: access.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctrl := gomock.NewController(t)
			people, ms, book := mocks.NewMockPersonReader(ctrl), mocks.NewMockMembershipReader(ctrl), newLedgerBook()
			if tt.person.ID != "" {
				people.EXPECT().Get(gomock.Any(), tt.id).Return(tt.person, nil)
			}
			if tt.m != nil || tt.mErr != nil {
				var m *membership.Membership
				if tt.m != nil {
					m = tt.m(t)
					if tt.grants == nil {
						book.bill(m, emailT0)
					}
				}
				ms.EXPECT().Get(gomock.Any(), tt.id).Return(m, tt.mErr)
			}
			if tt.grants != nil {
				book.add(tt.grants(t)...)
			}
			h, err := application.NewGetMember(people, ms, book.readerMock(ctrl), fixedClock{peopleNow})
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if got.ID != tt.id || got.FirstName != tt.person.FirstName || got.Email != tt.wantEmail {
				t.Fatalf("member = %+v, want %s with email %q", got, tt.id, tt.wantEmail)
			}
			if got.Hidden.Hides(access.FieldEmail) != (tt.wantEmail == "") {
				t.Errorf("Hidden = %v, does not match the email shown", got.Hidden.Fields())
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		t.Parallel()
		ctrl := gomock.NewController(t)
		people := mocks.NewMockPersonReader(ctrl)
		people.EXPECT().Get(gomock.Any(), "nope").Return(ports.Person{}, ports.ErrNotFound)
		h, _ := application.NewGetMember(people, mocks.NewMockMembershipReader(ctrl), mocks.NewMockAccessReader(ctrl), fixedClock{peopleNow})
		if _, err := h.Handle(asUser(t, "p1", access.RoleMember), "nope"); !errors.Is(err, application.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestListMembers(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	page := ports.DirectoryPage{People: []ports.Person{me, other}, Cursors: []string{"c1", "c2"}, HasMore: true}
	memberCtx := func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }
	unpaidCtx := func(t *testing.T) context.Context { return asMember(t, "p1", false) }
	adminCtx := func(t *testing.T) context.Context { return asUser(t, "p9", access.RoleAdmin) }
	tests := []struct {
		name       string
		ctx        func(t *testing.T) context.Context
		in         application.ListMembersInput
		wantFilter *ports.DirectoryFilter // nil: the directory is not asked
		dirErr     error
		wantEmails []string
		wantErr    error
	}{
		{name: "a member's page: only their own email", ctx: memberCtx, in: application.ListMembersInput{First: 10, After: "c0"},
			wantFilter: &ports.DirectoryFilter{At: peopleNow, After: "c0", Limit: 10}, wantEmails: []string{"ada@example.test", ""}},
		{name: "the largest page", ctx: memberCtx, in: application.ListMembersInput{First: application.MaxDirectoryPage},
			wantFilter: &ports.DirectoryFilter{At: peopleNow, Limit: application.MaxDirectoryPage}, wantEmails: []string{"ada@example.test", ""}},
		{name: "an admin lists hidden members by status, with emails", ctx: adminCtx,
			in:         application.ListMembersInput{First: 2, IncludeHidden: true, Statuses: []membership.Status{membership.StatusPastDue}},
			wantFilter: &ports.DirectoryFilter{IncludeHidden: true, At: peopleNow, Statuses: []membership.Status{membership.StatusPastDue}, Limit: 2},
			wantEmails: []string{"ada@example.test", "bo@example.test"}},
		{name: "an empty page", ctx: memberCtx, in: application.ListMembersInput{First: 0}, wantErr: application.ErrInvalidInput},
		{name: "a page too large", ctx: memberCtx, in: application.ListMembersInput{First: application.MaxDirectoryPage + 1}, wantErr: application.ErrInvalidInput},
		{name: "a member may not list hidden members", ctx: memberCtx, in: application.ListMembersInput{First: 10, IncludeHidden: true}, wantErr: access.ErrForbidden},
		{name: "a member may not filter by status", ctx: memberCtx,
			in: application.ListMembersInput{First: 10, Statuses: []membership.Status{membership.StatusActive}}, wantErr: access.ErrForbidden},
		{name: "anonymous is forbidden", ctx: func(*testing.T) context.Context { return context.Background() },
			in: application.ListMembersInput{First: 10}, wantErr: access.ErrForbidden},
		{name: "someone who signed up without a membership is forbidden", ctx: unpaidCtx,
			in: application.ListMembersInput{First: 10}, wantErr: access.ErrForbidden},
		{name: "someone whose access ended (membership canceled) is forbidden", ctx: func(t *testing.T) context.Context {
			return asMember(t, "p1", false)
		}, in: application.ListMembersInput{First: 10}, wantErr: access.ErrForbidden},
		{name: "a member in the grace window after a failed payment still reads the directory", ctx: func(t *testing.T) context.Context {
			return asMember(t, "p1", true)
		}, in: application.ListMembersInput{First: 10}, wantFilter: &ports.DirectoryFilter{At: peopleNow, Limit: 10}, wantEmails: []string{"ada@example.test", ""}},
		{name: "a cursor the store did not make is invalid input", ctx: memberCtx, in: application.ListMembersInput{First: 10, After: "forged"},
			wantFilter: &ports.DirectoryFilter{At: peopleNow, After: "forged", Limit: 10}, dirErr: ports.ErrInvalidCursor, wantErr: application.ErrInvalidInput},
		{name: "the directory fails", ctx: memberCtx, in: application.ListMembersInput{First: 10},
			wantFilter: &ports.DirectoryFilter{At: peopleNow, Limit: 10}, dirErr: boom, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := mocks.NewMockPeopleDirectory(gomock.NewController(t))
			if tt.wantFilter != nil {
				dir.EXPECT().Directory(gomock.Any(), *tt.wantFilter).Return(page, tt.dirErr)
			}
			h, err := application.NewListMembers(dir, fixedClock{peopleNow})
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			var emails []string
			for _, m := range got.Members {
				emails = append(emails, m.Email)
			}
			if !reflect.DeepEqual(emails, tt.wantEmails) || !reflect.DeepEqual(got.Cursors, page.Cursors) || !got.HasMore {
				t.Fatalf("page = %+v, want emails %q, cursors %v and more", got, tt.wantEmails, page.Cursors)
			}
		})
	}
	t.Run("the cursor error keeps its cause", func(t *testing.T) {
		t.Parallel()
		dir := mocks.NewMockPeopleDirectory(gomock.NewController(t))
		dir.EXPECT().Directory(gomock.Any(), gomock.Any()).Return(ports.DirectoryPage{}, ports.ErrInvalidCursor)
		h, _ := application.NewListMembers(dir, fixedClock{peopleNow})
		if _, err := h.Handle(asUser(t, "p1", access.RoleMember), application.ListMembersInput{First: 1, After: "x"}); !errors.Is(err, ports.ErrInvalidCursor) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestGetMembershipsHidesOthersBillingData(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	stored := func(t *testing.T) map[string]*membership.Membership {
		return map[string]*membership.Membership{
			"p1": visibleIn(t, "p1", "community"),
			"p2": membershipOf(t, "p2", "leader", membership.ProviderActive, membership.ProviderCanceled),
		}
	}
	p1View := application.MembershipView{Status: membership.StatusActive, Tier: "community", CurrentPeriodEnd: emailT0.Add(720 * time.Hour), Visible: true, HasAccess: true}
	p2View := application.MembershipView{Status: membership.StatusCanceled, Tier: "leader", CurrentPeriodEnd: emailT0.Add(720 * time.Hour), Alumni: true}
	tests := []struct {
		name      string
		ctx       func(t *testing.T) context.Context
		err       error
		ledgerErr error
		want      map[string]application.MembershipView
		wantErr   error
	}{
		{"a member sees only their own", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, nil, nil,
			map[string]application.MembershipView{"p1": p1View}, nil},
		{"billing:read sees everyone's", func(t *testing.T) context.Context {
			return asAgent(t, "key_finance", access.PresetFinance.Scopes()...)
		}, nil, nil, map[string]application.MembershipView{"p1": p1View, "p2": p2View}, nil},
		{"anonymous sees none", func(*testing.T) context.Context { return context.Background() }, nil, nil, map[string]application.MembershipView{}, nil},
		{"store failure", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, boom, nil, nil, boom},
		{"ledger failure", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, nil, boom, nil, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctrl := gomock.NewController(t)
			ms, book := mocks.NewMockMembershipReader(ctrl), newLedgerBook()
			held := stored(t)
			for _, m := range held {
				book.bill(m, emailT0)
			}
			book.err = tt.ledgerErr
			ms.EXPECT().GetMany(gomock.Any(), []string{"p1", "p2", "p3"}).Return(held, tt.err)
			h, err := application.NewGetMemberships(ms, book.readerMock(ctrl), fixedClock{peopleNow})
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), []string{"p1", "p2", "p3"})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("memberships = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFindPersonByEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		found   error // the store's error; nil: found
		asked   bool
		wantErr error
	}{
		{"support finds a person", func(t *testing.T) context.Context { return asAgent(t, "key_support", access.PresetSupport.Scopes()...) }, nil, true, nil},
		{"unknown address", func(t *testing.T) context.Context { return asSystem(t, "cli") }, ports.ErrNotFound, true, application.ErrNotFound},
		{"an address two people hold is refused, not guessed", func(t *testing.T) context.Context { return asSystem(t, "cli") }, ports.ErrAmbiguous, true, ports.ErrAmbiguous},
		{"finance may not read emails", func(t *testing.T) context.Context { return asAgent(t, "key_finance", access.PresetFinance.Scopes()...) }, nil, false, access.ErrForbidden},
		{"a member may not", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, nil, false, access.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			finder := mocks.NewMockPersonFinder(gomock.NewController(t))
			if tt.asked {
				finder.EXPECT().GetByEmail(gomock.Any(), "bo@example.test").Return(other, tt.found)
			}
			h, err := application.NewFindPersonByEmail(finder)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), "bo@example.test")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && got.ID != "p2" {
				t.Fatalf("person = %+v", got)
			}
		})
	}
}

func TestUpdateMyProfile(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	long := strings.Repeat("x", 101)
	tests := []struct {
		name      string
		ctx       func(t *testing.T) context.Context
		in        application.PersonProfile
		setup     func(m peopleTx)
		commitErr error
		wantErr   error
	}{
		{name: "names are trimmed, saved and audited", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "  Ada ", LastName: " King "}, setup: func(m peopleTx) {
				gomock.InOrder(
					m.people.EXPECT().UpdateProfile(gomock.Any(), "p1", ports.PersonProfile{FirstName: "Ada", LastName: "King"}).
						Return(ports.Person{ID: "p1", PrimaryEmail: "ada@example.test", FirstName: "Ada", LastName: "King", Role: access.RoleMember}, nil),
					m.audit.EXPECT().Record(gomock.Any(), ports.AuditEntry{ActorKind: "user", ActorID: "p1", Action: "person.update_profile",
						SubjectKind: "person", SubjectID: "p1", Outcome: ports.OutcomeSuccess}).Return(nil),
				)
			}},
		{name: "names of 100 characters are fine", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: long[:100], LastName: long[:100]}, setup: func(m peopleTx) {
				m.people.EXPECT().UpdateProfile(gomock.Any(), "p1", gomock.Any()).Return(ports.Person{ID: "p1", FirstName: long[:100]}, nil)
				m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
			}},
		{name: "names of 100 two-byte characters are fine (characters, not bytes)", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: strings.Repeat("ë", 100), LastName: strings.Repeat("Ω", 100)}, setup: func(m peopleTx) {
				m.people.EXPECT().UpdateProfile(gomock.Any(), "p1", gomock.Any()).Return(ports.Person{ID: "p1", FirstName: strings.Repeat("ë", 100)}, nil)
				m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
			}},
		{name: "101 two-byte characters are too many", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: strings.Repeat("ë", 101)}, wantErr: application.ErrInvalidInput},
		{name: "a NUL in the first name is refused", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada\u0000"}, wantErr: application.ErrInvalidInput},
		{name: "a newline inside the last name is refused", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada", LastName: "King\nLovelace"}, wantErr: application.ErrInvalidInput},
		{name: "invalid UTF-8 is refused", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada\xff"}, wantErr: application.ErrInvalidInput},
		{name: "a first name is required", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "   ", LastName: "King"}, wantErr: application.ErrInvalidInput},
		{name: "a first name of only a zero-width space is missing", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "\u200B", LastName: "King"}, wantErr: application.ErrInvalidInput},
		{name: "a first name of only a joiner and a Hangul filler is missing", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "\u200D\u3164", LastName: "King"}, wantErr: application.ErrInvalidInput},
		{name: "a right-to-left override is refused", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada\u202Egnik"}, wantErr: application.ErrInvalidInput},
		{name: "a line separator in the last name is refused", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada", LastName: "King\u2028Lovelace"}, wantErr: application.ErrInvalidInput},
		{name: "a first name too long", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: long}, wantErr: application.ErrInvalidInput},
		{name: "a last name too long", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada", LastName: long}, wantErr: application.ErrInvalidInput},
		{name: "anonymous must sign in", ctx: func(*testing.T) context.Context { return context.Background() },
			in: application.PersonProfile{FirstName: "Ada"}, wantErr: access.ErrForbidden},
		{name: "the store fails: nothing audited", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada"}, setup: func(m peopleTx) {
				m.people.EXPECT().UpdateProfile(gomock.Any(), "p1", gomock.Any()).Return(ports.Person{}, boom)
			}, wantErr: boom},
		{name: "the audit fails", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada"}, setup: func(m peopleTx) {
				m.people.EXPECT().UpdateProfile(gomock.Any(), "p1", gomock.Any()).Return(ports.Person{ID: "p1"}, nil)
				m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(boom)
			}, wantErr: boom},
		{name: "the commit fails", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			in: application.PersonProfile{FirstName: "Ada"}, setup: func(m peopleTx) {
				m.people.EXPECT().UpdateProfile(gomock.Any(), "p1", gomock.Any()).Return(ports.Person{ID: "p1"}, nil)
				m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
			}, commitErr: boom, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newPeopleTx(t)
			m.uow.commitErr = tt.commitErr
			if tt.setup != nil {
				tt.setup(m)
			}
			h, err := application.NewUpdateMyProfile(m.uow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.setup == nil && *m.uow.calls != 0 {
				t.Fatal("a transaction was opened for refused input")
			}
			if tt.wantErr == nil && (got.ID != "p1" || got.FirstName != strings.TrimSpace(tt.in.FirstName)) {
				t.Fatalf("member = %+v", got)
			}
			if tt.wantErr != nil && !reflect.DeepEqual(got, application.Member{}) {
				t.Fatalf("member %+v returned with an error", got)
			}
		})
	}
}

// membershipTx is a MembershipTx of mocks run by an inline unit of work.
type membershipTx struct {
	uow   inlineUoW[ports.MembershipTx]
	tx    *mocks.MockMembershipTx
	ms    *mocks.MockMemberships
	audit *mocks.MockAuditLog
	book  *ledgerBook // the access ledger
}

func newMembershipTx(t *testing.T) membershipTx {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := membershipTx{tx: mocks.NewMockMembershipTx(ctrl), ms: mocks.NewMockMemberships(ctrl), audit: mocks.NewMockAuditLog(ctrl), book: newLedgerBook()}
	m.uow = newInlineUoW[ports.MembershipTx](m.tx)
	m.tx.EXPECT().Memberships().Return(m.ms).AnyTimes()
	m.tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	m.tx.EXPECT().AccessGrants().Return(m.book.grantsMock(ctrl)).AnyTimes()
	return m
}

func TestSetMyVisibility(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name      string
		ctx       func(t *testing.T) context.Context
		visible   bool
		m         func(t *testing.T) *membership.Membership // what Update hands fn; nil: Update not called
		grants    func(t *testing.T) []ledger.Grant         // the ledger; nil: what billing wrote for m
		ledgerErr error
		updateErr error
		auditErr  error
		want      application.MembershipView
		wantErr   error
	}{
		{name: "an active member shows themselves", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			m:    func(t *testing.T) *membership.Membership { return activeIn(t, "p1", "community") },
			want: application.MembershipView{Status: membership.StatusActive, Tier: "community", CurrentPeriodEnd: emailT0.Add(720 * time.Hour), Visible: true, HasAccess: true}},
		{name: "anyone may hide", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: false,
			m: func(t *testing.T) *membership.Membership {
				return membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderCanceled)
			},
			want: application.MembershipView{Status: membership.StatusCanceled, Tier: "community", CurrentPeriodEnd: emailT0.Add(720 * time.Hour), Alumni: true}},
		// Changed with the access ledger: a failed payment opens the grace
		// window, and access (so the directory) continues through it.
		{name: "a past due member in the grace window may show themselves", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			m: func(t *testing.T) *membership.Membership {
				return membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderPastDue)
			},
			want: application.MembershipView{Status: membership.StatusPastDue, Tier: "community", CurrentPeriodEnd: emailT0.Add(720 * time.Hour), Visible: true, HasAccess: true}},
		{name: "a past due member whose grace ended cannot show themselves", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			m: func(t *testing.T) *membership.Membership {
				return membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderPastDue)
			}, grants: func(*testing.T) []ledger.Grant {
				return []ledger.Grant{graceGrant("p1", "community", emailT0.Add(-8*24*time.Hour), emailT0.Add(-24*time.Hour))}
			}, wantErr: application.ErrInvalidInput},
		{name: "a scholarship holder who never paid shows themselves", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			m: func(t *testing.T) *membership.Membership {
				m, _ := membership.New("p1")
				return m
			}, grants: func(t *testing.T) []ledger.Grant {
				return []ledger.Grant{scholarship(t, "p1", "community", emailT0, emailT0.Add(90*24*time.Hour))}
			},
			want: application.MembershipView{Status: membership.StatusPending, Visible: true, HasAccess: true}},
		{name: "the ledger fails: nothing changes", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			ledgerErr: boom, wantErr: boom},
		{name: "a person who never paid cannot show themselves", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			m: func(t *testing.T) *membership.Membership {
				m, _ := membership.New("p1")
				return m
			}, wantErr: application.ErrInvalidInput},
		{name: "anonymous must sign in", ctx: func(*testing.T) context.Context { return context.Background() }, visible: true, wantErr: access.ErrForbidden},
		{name: "the store fails", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			updateErr: boom, wantErr: boom},
		{name: "the audit fails", ctx: func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, visible: true,
			m: func(t *testing.T) *membership.Membership { return activeIn(t, "p1", "community") }, auditErr: boom, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMembershipTx(t)
			if tt.grants != nil {
				m.book.add(tt.grants(t)...)
			}
			switch {
			case tt.updateErr != nil:
				m.ms.EXPECT().Update(gomock.Any(), "p1", gomock.Any()).Return(tt.updateErr)
			case tt.m != nil:
				held := tt.m(t)
				if tt.grants == nil {
					m.book.bill(held, emailT0)
				}
				m.ms.EXPECT().Update(gomock.Any(), "p1", gomock.Any()).DoAndReturn(func(_ context.Context, _ string, fn func(*membership.Membership) error) error {
					return fn(held)
				})
			}
			m.book.err = tt.ledgerErr
			audited := tt.wantErr == nil || tt.auditErr != nil
			if audited {
				m.audit.EXPECT().Record(gomock.Any(), ports.AuditEntry{ActorKind: "user", ActorID: "p1", Action: "membership.set_visibility",
					SubjectKind: "person", SubjectID: "p1", Outcome: ports.OutcomeSuccess, Details: map[string]any{"visible": tt.visible}}).Return(tt.auditErr)
			}
			h, err := application.NewSetMyVisibility(m.uow, fixedClock{peopleNow})
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), tt.visible)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("view = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSetPersonRole(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	adminCtx := func(t *testing.T) context.Context { return asUser(t, "p9", access.RoleAdmin) }
	promoted := ports.Person{ID: "p2", PrimaryEmail: "bo@example.test", FirstName: "Bo", Role: access.RoleLeader}
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		setup   func(m peopleTx)
		wantErr error
	}{
		{"an admin makes a member a leader, audited from and to", adminCtx, func(m peopleTx) {
			gomock.InOrder(
				m.people.EXPECT().Get(gomock.Any(), "p2").Return(other, nil),
				m.people.EXPECT().SetRole(gomock.Any(), "p2", access.RoleLeader).Return(promoted, nil),
				m.audit.EXPECT().Record(gomock.Any(), ports.AuditEntry{ActorKind: "user", ActorID: "p9", Action: "person.set_role",
					SubjectKind: "person", SubjectID: "p2", Outcome: ports.OutcomeSuccess, Details: map[string]any{"from": "member", "to": "leader"}}).Return(nil),
			)
		}, nil},
		{"a leader may not", func(t *testing.T) context.Context { return asUser(t, "p3", access.RoleLeader) }, nil, access.ErrForbidden},
		{"an unknown person", adminCtx, func(m peopleTx) {
			m.people.EXPECT().Get(gomock.Any(), "p2").Return(ports.Person{}, ports.ErrNotFound)
		}, application.ErrNotFound},
		{"the store fails: nothing audited", adminCtx, func(m peopleTx) {
			m.people.EXPECT().Get(gomock.Any(), "p2").Return(other, nil)
			m.people.EXPECT().SetRole(gomock.Any(), "p2", access.RoleLeader).Return(ports.Person{}, boom)
		}, boom},
		{"the audit fails", adminCtx, func(m peopleTx) {
			m.people.EXPECT().Get(gomock.Any(), "p2").Return(other, nil)
			m.people.EXPECT().SetRole(gomock.Any(), "p2", access.RoleLeader).Return(promoted, nil)
			m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(boom)
		}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newPeopleTx(t)
			if tt.setup != nil {
				tt.setup(m)
			}
			h, err := application.NewSetPersonRole(m.uow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), application.SetPersonRoleInput{PersonID: "p2", Role: access.RoleLeader})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (got.ID != "p2" || got.Role != access.RoleLeader || got.Email != "bo@example.test") {
				t.Fatalf("member = %+v, want p2 as leader, email shown to the admin", got)
			}
			if tt.setup == nil && *m.uow.calls != 0 {
				t.Fatal("a transaction was opened for a forbidden call")
			}
		})
	}
}

func TestPeopleUseCasesRefuseNilDependencies(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	reader, ms, grants := mocks.NewMockPersonReader(ctrl), mocks.NewMockMembershipReader(ctrl), mocks.NewMockAccessReader(ctrl)
	clock := fixedClock{peopleNow}
	tests := []struct {
		name string
		make func() error
	}{
		{"get me", func() error { _, err := application.NewGetMe(nil); return err }},
		{"get member without people", func() error { _, err := application.NewGetMember(nil, ms, grants, clock); return err }},
		{"get member without memberships", func() error { _, err := application.NewGetMember(reader, nil, grants, clock); return err }},
		{"get member without the ledger", func() error { _, err := application.NewGetMember(reader, ms, nil, clock); return err }},
		{"get member without a clock", func() error { _, err := application.NewGetMember(reader, ms, grants, nil); return err }},
		{"list members", func() error { _, err := application.NewListMembers(nil, clock); return err }},
		{"list members without a clock", func() error {
			_, err := application.NewListMembers(mocks.NewMockPeopleDirectory(ctrl), nil)
			return err
		}},
		{"get memberships", func() error { _, err := application.NewGetMemberships(nil, grants, clock); return err }},
		{"get memberships without the ledger", func() error { _, err := application.NewGetMemberships(ms, nil, clock); return err }},
		{"get memberships without a clock", func() error { _, err := application.NewGetMemberships(ms, grants, nil); return err }},
		{"find person by email", func() error { _, err := application.NewFindPersonByEmail(nil); return err }},
		{"update my profile", func() error { _, err := application.NewUpdateMyProfile(nil); return err }},
		{"set my visibility", func() error { _, err := application.NewSetMyVisibility(nil, clock); return err }},
		{"set my visibility without a clock", func() error {
			_, err := application.NewSetMyVisibility(newInlineUoW[ports.MembershipTx](nil), nil)
			return err
		}},
		{"set person role", func() error { _, err := application.NewSetPersonRole(nil); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.make(); err == nil {
				t.Fatal("constructor succeeded, want a nil-dependency error")
			}
		})
	}
}

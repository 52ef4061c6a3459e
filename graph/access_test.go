package graph_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/vektah/gqlparser/v2/ast"
	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/graph/generated"
	"github.com/womendefiningai/platform/graph/model"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func schema(t *testing.T) *ast.Schema {
	t.Helper()
	return generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}, Directives: graph.NewDirectiveRoot()}).Schema()
}

// rootFields lists "Query.x" and "Mutation.y" with their definitions.
func rootFields(t *testing.T) map[string]*ast.FieldDefinition {
	t.Helper()
	s := schema(t)
	out := map[string]*ast.FieldDefinition{}
	for _, root := range []*ast.Definition{s.Query, s.Mutation} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			out[root.Name+"."+f.Name] = f
		}
	}
	return out
}

func TestEveryRootFieldDeclaresAccess(t *testing.T) {
	t.Parallel()
	fields := rootFields(t)
	if len(fields) == 0 {
		t.Fatal("no root fields found")
	}
	for name, f := range fields {
		declared := 0
		for _, d := range []string{"public", "authenticated", "requires"} {
			if f.Directives.ForName(d) != nil {
				declared++
			}
		}
		if declared != 1 {
			t.Errorf("%s must declare exactly one of @public, @authenticated or @requires(scopes: ...)", name)
		}
		if f.Directives.ForName("public") == nil && f.Type.NonNull {
			t.Errorf("%s is protected but non-null: a denial would null its parent; make it nullable", name)
		}
	}
}

func TestEveryDirectiveIsWired(t *testing.T) {
	t.Parallel()
	root := reflect.ValueOf(graph.NewDirectiveRoot())
	for i := range root.NumField() {
		if root.Field(i).IsNil() {
			t.Errorf("directive %s is declared but not wired", root.Type().Field(i).Name)
		}
	}
	builtin := map[string]bool{"skip": true, "include": true, "deprecated": true, "specifiedBy": true, "oneOf": true, "defer": true, "goModel": true, "goField": true, "goTag": true, "goExtraField": true, "goEnum": true}
	for name := range schema(t).Directives {
		if builtin[name] {
			continue
		}
		field := strings.ToUpper(name[:1]) + name[1:]
		if f := root.FieldByName(field); !f.IsValid() {
			t.Errorf("schema directive @%s has no DirectiveRoot entry", name)
		}
	}
}

func TestEveryGraphQLScopeIsADomainScope(t *testing.T) {
	t.Parallel()
	seen := map[access.Scope]bool{}
	for _, s := range model.AllScope {
		d, err := graph.DomainScope(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		seen[d] = true
	}
	if len(seen) != len(access.AllScopes()) {
		t.Fatalf("GraphQL has %d scopes, the domain %d", len(seen), len(access.AllScopes()))
	}
}

// protectedCases has one operation per protected root field. The test below
// fails when a protected field has no case, so a new field cannot ship
// without its denial and success being shown.
var protectedCases = map[string]string{
	"Query.deadLetters":                      `{ deadLetters(status: OPEN, first: 5) { id status } }`,
	"Query.deadLetter":                       `{ deadLetter(id: "dl1") { id topic } }`,
	"Mutation.replayDeadLetter":              `mutation { replayDeadLetter(id: "dl1") { id status } }`,
	"Mutation.abandonDeadLetter":             `mutation { abandonDeadLetter(id: "dl1", reason: "refunded") { id status } }`,
	"Query.members":                          `{ members(first: 5) { edges { cursor node { id } } pageInfo { hasNextPage } } }`,
	"Query.member":                           `{ member(id: "p2") { id firstName } }`,
	"Mutation.setPersonRole":                 `mutation { setPersonRole(personId: "p2", role: LEADER) { id role } }`,
	"Query.me":                               `{ me { id email } }`,
	"Mutation.updateMyProfile":               `mutation { updateMyProfile(input: {firstName: "Ada", lastName: "L"}) { id firstName } }`,
	"Mutation.setMyVisibility":               `mutation { setMyVisibility(visible: true) { visible status } }`,
	"Mutation.startCheckout":                 `mutation { startCheckout(tierId: "community") }`,
	"Mutation.openBillingPortal":             `mutation { openBillingPortal }`,
	"Query.events":                           `{ events(first: 5) { edges { cursor node { id rsvps { approved } } } pageInfo { hasNextPage } } }`,
	"Query.event":                            `{ event(id: "e1") { id name } }`,
	"Query.auditLog":                         `{ auditLog(first: 5) { edges { node { id action } } } }`,
	"Mutation.createEvent":                   createEventOp,
	"Mutation.syncMembershipTiers":           `mutation { syncMembershipTiers { prices updated } }`,
	"Query.duplicateSubscriptions":           `{ duplicateSubscriptions(first: 5) { personId subscriptionIds } }`,
	"Mutation.grantComplimentaryMembership":  `mutation { grantComplimentaryMembership(personId: "p2", tierId: "community", until: "` + time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339) + `", reason: "scholarship") { id kind until } }`,
	"Mutation.revokeComplimentaryMembership": `mutation { revokeComplimentaryMembership(grantId: "g_comp", reason: "left") { id kind until } }`,
}

func fakeApp(t *testing.T) *application.App {
	t.Helper()
	ctrl := gomock.NewController(t)
	dl := ports.DeadLetter{ID: "dl1", Topic: "member.changed", Status: ports.DeadLetterOpen, Attempts: 4, FirstFailedAt: time.Now(), LastFailedAt: time.Now()}
	store := mocks.NewMockDeadLetters(ctrl)
	store.EXPECT().List(gomock.Any(), gomock.Any(), gomock.Any()).Return([]ports.DeadLetter{dl}, nil).AnyTimes()
	store.EXPECT().Get(gomock.Any(), gomock.Any()).Return(dl, nil).AnyTimes()
	store.EXPECT().Replay(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	store.EXPECT().Abandon(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	audit := mocks.NewMockAuditLog(ctrl)
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	dlTx := mocks.NewMockDeadLetterTx(ctrl)
	dlTx.EXPECT().DeadLetters().Return(store).AnyTimes()
	dlTx.EXPECT().Audit().Return(audit).AnyTimes()

	people := mocks.NewMockPeople(ctrl)
	p2 := ports.Person{ID: "p2", FirstName: "Grace", PrimaryEmail: "grace@example.test", Role: access.RoleMember}
	me := ports.Person{ID: "p1", FirstName: "Ada", PrimaryEmail: "ada@example.test", Role: access.RoleMember, BillingCustomerID: "cus_1"}
	people.EXPECT().Get(gomock.Any(), "p2").Return(p2, nil).AnyTimes()
	people.EXPECT().Get(gomock.Any(), "p1").Return(me, nil).AnyTimes()
	people.EXPECT().SetRole(gomock.Any(), "p2", gomock.Any()).Return(p2, nil).AnyTimes()
	people.EXPECT().UpdateProfile(gomock.Any(), "p1", gomock.Any()).Return(me, nil).AnyTimes()
	people.EXPECT().Directory(gomock.Any(), gomock.Any()).Return(ports.DirectoryPage{People: []ports.Person{p2}, Cursors: []string{"c1"}}, nil).AnyTimes()
	memberships := mocks.NewMockMemberships(ctrl)
	active := activeMembership(t, "p2")
	memberships.EXPECT().Get(gomock.Any(), gomock.Any()).Return(active, nil).AnyTimes()
	memberships.EXPECT().GetMany(gomock.Any(), gomock.Any()).Return(map[string]*membership.Membership{"p2": active}, nil).AnyTimes()
	memberships.EXPECT().Update(gomock.Any(), "p1", gomock.Any()).DoAndReturn(func(_ context.Context, id string, fn func(*membership.Membership) error) error {
		return fn(activeMembership(t, id))
	}).AnyTimes()
	peopleTx := mocks.NewMockPeopleTx(ctrl)
	peopleTx.EXPECT().People().Return(people).AnyTimes()
	peopleTx.EXPECT().Audit().Return(audit).AnyTimes()
	membershipTx := mocks.NewMockMembershipTx(ctrl)
	membershipTx.EXPECT().Memberships().Return(memberships).AnyTimes()
	membershipTx.EXPECT().Audit().Return(audit).AnyTimes()
	ownGrants := mocks.NewMockAccessGrants(ctrl)
	ownGrants.EXPECT().ForPerson(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, id string) ([]ledger.Grant, error) {
		return []ledger.Grant{paidGrant(id)}, nil
	}).AnyTimes()
	membershipTx.EXPECT().AccessGrants().Return(ownGrants).AnyTimes()

	billing := mocks.NewMockBilling(ctrl)
	billing.EXPECT().Configured().Return(true).AnyTimes()
	billing.EXPECT().CreateCheckoutSession(gomock.Any(), gomock.Any()).Return("https://checkout.example.test/s/1", nil).AnyTimes()
	billing.EXPECT().CreatePortalSession(gomock.Any(), "cus_1", gomock.Any()).Return("https://portal.example.test/p/1", nil).AnyTimes()
	tiers := mocks.NewMockTierCatalog(ctrl)
	tiers.EXPECT().GetTier(gomock.Any(), "community").Return(ports.MembershipTier{ID: "community", PriceID: "price_123"}, nil).AnyTimes()

	app := newApp(t, nil, nil)
	c, q := &app.Commands, &app.Queries
	c.UpdateMyProfile = built(application.NewUpdateMyProfile(inline[ports.PeopleTx]{peopleTx}))
	c.SetPersonRole = built(application.NewSetPersonRole(inline[ports.PeopleTx]{peopleTx}))
	c.SetMyVisibility = built(application.NewSetMyVisibility(inline[ports.MembershipTx]{membershipTx}, ports.SystemClock{}))
	checkouts := mocks.NewMockOpenCheckouts(ctrl)
	checkouts.EXPECT().OpenCheckout(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.OpenCheckout{}, ports.ErrNotFound).AnyTimes()
	checkouts.EXPECT().SaveOpenCheckout(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	c.StartCheckout = built(application.NewStartCheckout(application.StartCheckoutDeps{Billing: billing, Tiers: tiers, People: people,
		Checkouts: checkouts, Clock: ports.SystemClock{}}))
	c.OpenBillingPortal = built(application.NewOpenBillingPortal(billing, people, ""))
	c.ReplayDeadLetter = built(application.NewReplayDeadLetter(inline[ports.DeadLetterTx]{dlTx}))
	c.AbandonDeadLetter = built(application.NewAbandonDeadLetter(inline[ports.DeadLetterTx]{dlTx}))
	q.GetMe = built(application.NewGetMe(people))
	q.GetMember = built(application.NewGetMember(people, memberships, paidAccess(t), ports.SystemClock{}))
	q.ListMembers = built(application.NewListMembers(people, ports.SystemClock{}))
	q.GetMemberships = built(application.NewGetMemberships(memberships, paidAccess(t), ports.SystemClock{}))
	q.ListDeadLetters = built(application.NewListDeadLetters(store))
	q.GetDeadLetter = built(application.NewGetDeadLetter(store))
	dups := mocks.NewMockDuplicateSubscriptions(ctrl)
	dups.EXPECT().List(gomock.Any(), gomock.Any()).Return([]ports.DuplicateSubscription{{PersonID: "p2", SubscriptionIDs: []string{"sub_a", "sub_b"}, DetectedAt: time.Now()}}, nil).AnyTimes()
	q.ListDuplicateSubscriptions = built(application.NewListDuplicateSubscriptions(dups))
	fakeEvents(t, app)
	fakeChat(t, app)
	fakeHealth(t, app)
	fakeAgents(t, app)
	fakeTiers(t, app)
	fakeAccess(t, app, anyMembership(t))
	return app
}

func activeMembership(t *testing.T, personID string) *membership.Membership {
	t.Helper()
	m, err := membership.New(personID)
	if err != nil {
		t.Fatal(err)
	}
	tier, _ := membership.NewTier("community")
	snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_" + personID, Status: membership.ProviderActive,
		Tier: tier, CurrentPeriodEnd: time.Now().Add(720 * time.Hour), TakenAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ApplySnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if err := m.SetVisible(true, true); err != nil {
		t.Fatal(err)
	}
	return m
}

func as(p access.Principal) client.Option {
	return func(r *client.Request) {
		r.HTTP = r.HTTP.WithContext(application.WithPrincipal(r.HTTP.Context(), p))
	}
}

func TestProtectedFieldsDenyWithoutScopeAndAllowWithIt(t *testing.T) {
	t.Parallel()
	fields := rootFields(t)
	c := client.New(graph.NewHandler(fakeApp(t), graph.Options{}))
	for name, f := range fields {
		if f.Directives.ForName("public") != nil {
			continue
		}
		op, ok := protectedCases[name]
		if !ok {
			t.Errorf("protected field %s has no case in protectedCases", name)
			continue
		}
		if f.Directives.ForName("authenticated") != nil {
			t.Run(name, func(t *testing.T) {
				admin, _ := access.NewAgent("all-scopes-agent", access.AllScopes())
				for _, p := range []access.Principal{access.Anonymous(), admin} {
					var resp json.RawMessage
					if err := c.Post(op, &resp, as(p)); err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) {
						t.Errorf("as %v: err = %v, want FORBIDDEN (a signed-in person is needed)", p, err)
					}
				}
				user, _ := access.NewUser("p1", access.RoleMember, true)
				var resp map[string]any
				if err := c.Post(op, &resp, as(user)); err != nil || resp[f.Name] == nil {
					t.Fatalf("as a signed-in member: %v (%v)", err, resp)
				}
			})
			continue
		}
		dir := f.Directives.ForName("requires")
		var needed []access.Scope
		for _, v := range dir.Arguments.ForName("scopes").Value.Children {
			s, err := graph.DomainScope(model.Scope(v.Value.Raw))
			if err != nil {
				t.Fatal(err)
			}
			needed = append(needed, s)
		}
		t.Run(name, func(t *testing.T) {
			// Denied: anonymous, and an agent holding every other scope.
			var others []access.Scope
			for _, s := range access.AllScopes() {
				if !contains(needed, s) {
					others = append(others, s)
				}
			}
			lacking, err := access.NewAgent("lacking", others)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []access.Principal{access.Anonymous(), lacking} {
				var resp json.RawMessage
				err := c.Post(op, &resp, as(p))
				if err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) || !strings.Contains(err.Error(), f.Name) {
					t.Errorf("as %v: err = %v, want FORBIDDEN on %s", p, err, f.Name)
				}
			}
			// Allowed: exactly the required scopes.
			holder, err := access.NewAgent("holder", needed)
			if err != nil {
				t.Fatal(err)
			}
			var resp map[string]any
			if err := c.Post(op, &resp, as(holder)); err != nil {
				t.Fatalf("with %v: %v", needed, err)
			}
			if resp[f.Name] == nil {
				t.Fatalf("with %v: %s is null", needed, f.Name)
			}
		})
	}
}

func contains(list []access.Scope, s access.Scope) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// inline runs a unit of work's fn on a fixed scope of mocks.
type inline[S any] struct{ s S }

func (u inline[S]) Do(ctx context.Context, fn func(context.Context, S) error) error {
	return fn(ctx, u.s)
}

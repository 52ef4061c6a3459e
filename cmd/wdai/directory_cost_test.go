package main

// The member directory over GraphQL on a real database: what a page costs
// and what each caller may see. It joins graph/ to adapters/postgres, so it
// lives here, where the wiring does.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// statementCounter counts every SQL statement the pool runs.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

type directoryFixture struct {
	client  *client.Client
	counter *statementCounter
	people  []ports.Person
}

// newDirectory seeds n people with active, visible memberships (and one
// hidden member) in a real database, and serves GraphQL over it.
func newDirectory(t *testing.T, n int) directoryFixture {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testdb.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := &statementCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	peopleStore, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	tier, _ := membership.NewTier("community")
	var people []ports.Person
	for i := range n + 1 {
		p, err := peopleStore.Create(ctx, fmt.Sprintf("member%02d@example.test", i), "Member", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		snap, _ := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_" + p.ID, Status: membership.ProviderActive, Tier: tier,
			CurrentPeriodEnd: time.Now().Add(720 * time.Hour), TakenAt: time.Now()})
		err = ms.Update(ctx, p.ID, func(m *membership.Membership) error {
			if _, err := m.ApplySnapshot(snap); err != nil {
				return err
			}
			return m.SetVisible(i < n, true) // the last one stays hidden
		})
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, p)
	}
	testdb.GrantSeededMembers(t, pool)
	grants := postgres.NewAccessStore(pool)
	app := &application.App{Queries: application.Queries{
		GetMe:          directoryUseCase[application.GetMe](t)(application.NewGetMe(peopleStore)),
		GetMember:      directoryUseCase[application.GetMember](t)(application.NewGetMember(peopleStore, ms, grants, ports.SystemClock{})),
		ListMembers:    directoryUseCase[application.ListMembers](t)(application.NewListMembers(peopleStore, ports.SystemClock{})),
		GetMemberships: directoryUseCase[application.GetMemberships](t)(application.NewGetMemberships(ms, grants, ports.SystemClock{})),
	}}
	return directoryFixture{client: client.New(graph.NewHandler(app, graph.Options{ComplexityLimit: 5000})), counter: counter, people: people}
}

type directoryResponse struct {
	Members struct {
		Edges []struct {
			Node struct {
				ID         string
				Email      *string
				Membership *struct{ Status, Tier string }
			}
		}
		PageInfo struct{ HasNextPage bool }
	}
}

const directoryQuery = `query($first: Int) { members(first: $first) { edges { node { id email membership { status tier } } } pageInfo { hasNextPage } } }`

func TestDirectoryPageCostsAConstantNumberOfStatements(t *testing.T) {
	t.Parallel()
	f := newDirectory(t, 50)
	admin, _ := access.NewUser("00000000-0000-0000-0000-000000000001", access.RoleAdmin, false)

	statementsFor := func(first int) (int64, directoryResponse) {
		var resp directoryResponse
		before := f.counter.n.Load()
		f.client.MustPost(directoryQuery, &resp, client.Var("first", first), as(admin))
		return f.counter.n.Load() - before, resp
	}
	five, _ := statementsFor(5)
	fifty, resp := statementsFor(50)
	if len(resp.Members.Edges) != 50 {
		t.Fatalf("page has %d members, want 50", len(resp.Members.Edges))
	}
	for _, e := range resp.Members.Edges {
		if e.Node.Membership == nil || e.Node.Membership.Status != "ACTIVE" {
			t.Fatalf("member %s has membership %v", e.Node.ID, e.Node.Membership)
		}
	}
	if fifty != five || fifty > 3 {
		t.Fatalf("a page of 5 ran %d statements, a page of 50 ran %d; want the same small constant", five, fifty)
	}
	t.Logf("statements per page: %d (5 members) and %d (50 members)", five, fifty)
}

func TestDirectoryRedactsOtherMembersEmails(t *testing.T) {
	t.Parallel()
	f := newDirectory(t, 3)
	self := f.people[0]
	member, _ := access.NewUser(self.ID, access.RoleMember, true)
	admin, _ := access.NewUser("00000000-0000-0000-0000-000000000001", access.RoleAdmin, false)

	var resp directoryResponse
	f.client.MustPost(directoryQuery, &resp, client.Var("first", 10), as(member))
	if len(resp.Members.Edges) != 3 {
		t.Fatalf("member sees %d members, want the 3 visible ones", len(resp.Members.Edges))
	}
	for _, e := range resp.Members.Edges {
		own := e.Node.ID == self.ID
		switch {
		case own && (e.Node.Email == nil || *e.Node.Email != self.PrimaryEmail):
			t.Errorf("member does not see their own email: %v", e.Node.Email)
		case !own && e.Node.Email != nil:
			t.Errorf("member sees another member's email %q", *e.Node.Email)
		case !own && e.Node.Membership != nil:
			t.Errorf("member sees another member's billing standing")
		}
	}

	var all directoryResponse
	f.client.MustPost(`{ members(first: 10, filter: {includeHidden: true, statuses: [ACTIVE]}) { edges { node { id email } } } }`, &all, as(admin))
	if len(all.Members.Edges) != 4 {
		t.Fatalf("admin sees %d members, want 4 (hidden included)", len(all.Members.Edges))
	}
	for _, e := range all.Members.Edges {
		if e.Node.Email == nil || !strings.HasSuffix(*e.Node.Email, "@example.test") {
			t.Errorf("admin does not see email of %s", e.Node.ID)
		}
	}

	var denied json.RawMessage
	err := f.client.Post(`{ members(first: 10, filter: {includeHidden: true}) { edges { node { id } } } }`, &denied, as(member))
	if err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) {
		t.Fatalf("member asking for hidden members: %v, want FORBIDDEN", err)
	}
}

// directoryUseCase fails the test when a use case's constructor refuses.
func directoryUseCase[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// as makes a GraphQL request act as p.
func as(p access.Principal) client.Option {
	return func(r *client.Request) {
		r.HTTP = r.HTTP.WithContext(application.WithPrincipal(r.HTTP.Context(), p))
	}
}

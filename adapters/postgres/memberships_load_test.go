package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/internal/testdb"
)

// TestGetManyReadsMembershipsWithAndWithoutSubscriptions: the one-statement
// load (membership joined to its subscriptions) rebuilds a membership with
// two subscriptions, a pending one with none, and leaves out people without one.
func TestGetManyReadsMembershipsWithAndWithoutSubscriptions(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	people, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	ctx := context.Background()
	var ids []string
	for _, email := range []string{"two@example.test", "none@example.test", "nobody@example.test"} {
		p, err := people.Create(ctx, email, "A", "B")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	activate(t, ms, ids[0], "sub_a", now)
	activate(t, ms, ids[0], "sub_b", now.Add(time.Second))
	if err := ms.Update(ctx, ids[1], func(*membership.Membership) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := ms.GetMany(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[ids[2]] != nil {
		t.Fatalf("GetMany = %d memberships (%v), want those of the first two people", len(got), got)
	}
	two := got[ids[0]]
	if n := len(two.Subscriptions()); n != 2 || two.Status() != membership.StatusActive || two.Tier().String() != "community" {
		t.Fatalf("with two subscriptions: %d subscriptions, %s, tier %q", n, two.Status(), two.Tier())
	}
	if none := got[ids[1]]; len(none.Subscriptions()) != 0 || none.Visible() || none.Status() == membership.StatusActive {
		t.Fatalf("without subscriptions: %d subscriptions, visible=%v, %s", len(none.Subscriptions()), none.Visible(), none.Status())
	}
}

// TestGetByIdentityIDReadsTheMembershipAlong: the sign-in read carries the
// whole membership (every subscription) in its one statement, and nil for
// a person without one.
func TestGetByIdentityIDReadsTheMembershipAlong(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	people, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	ctx := context.Background()
	res, err := people.UpsertFromIdentity(ctx, identityUser("user_along", "along@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := people.GetByIdentityID(ctx, "user_along", time.Now()); err != nil || got.Membership != nil || !got.MembershipRead || got.ID != res.Person.ID {
		t.Fatalf("without a membership: %+v, %v; want no membership", got, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	activate(t, ms, res.Person.ID, "sub_x", now)
	activate(t, ms, res.Person.ID, "sub_y", now.Add(time.Second))
	got, err := people.GetByIdentityID(ctx, "user_along", time.Now())
	if err != nil || got.ID != res.Person.ID || got.PrimaryEmail != "along@example.test" || got.MembershipStatus != membership.StatusActive {
		t.Fatalf("with a membership: %+v, %v", got.Person, err)
	}
	if got.Membership == nil || !got.MembershipRead || len(got.Membership.Subscriptions()) != 2 || got.Membership.Status() != membership.StatusActive {
		t.Fatalf("membership read along = %+v; want active with 2 subscriptions", got.Membership)
	}
}

package postgres_test

import (
	"context"
	"reflect"
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

// TestSignInReadsTheSummaryEverySaveRecords: the sign-in read takes the
// membership's summary from the memberships row, not from the
// subscriptions; after every kind of save it equals the summary of the
// membership rebuilt from its subscriptions (GetMany), and it is nil for a
// person without a membership.
func TestSignInReadsTheSummaryEverySaveRecords(t *testing.T) {
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
	id := res.Person.ID
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	snapshot := func(sub string, status membership.ProviderStatus, tier string, cancel bool, at time.Time) func(*membership.Membership) error {
		return func(m *membership.Membership) error {
			snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: sub, Status: status, Tier: mustTier(t, tier),
				CancelAtPeriodEnd: cancel, CurrentPeriodEnd: at.Add(30 * 24 * time.Hour), TakenAt: at})
			if err == nil {
				_, err = m.ApplySnapshot(snap)
			}
			return err
		}
	}
	steps := []struct {
		name   string
		change func(*membership.Membership) error
		want   membership.Status
	}{
		{"pending, no subscription", func(*membership.Membership) error { return nil }, membership.StatusPending},
		{"active", snapshot("sub_x", membership.ProviderActive, "community", false, t0), membership.StatusActive},
		{"listed", func(m *membership.Membership) error { return m.SetVisible(true, true) }, membership.StatusActive},
		{"a second subscription, another tier", snapshot("sub_y", membership.ProviderActive, "founding", false, t0.Add(time.Second)), membership.StatusActive},
		{"set to cancel", snapshot("sub_x", membership.ProviderActive, "community", true, t0.Add(2*time.Second)), membership.StatusActive},
		{"the second one ended", snapshot("sub_y", membership.ProviderCanceled, "founding", false, t0.Add(3*time.Second)), membership.StatusActive},
		{"past due", snapshot("sub_x", membership.ProviderPastDue, "community", false, t0.Add(4*time.Second)), membership.StatusPastDue},
		{"suspended", snapshot("sub_x", membership.ProviderUnpaid, "community", false, t0.Add(5*time.Second)), membership.StatusSuspended},
		{"canceled: alumni", snapshot("sub_x", membership.ProviderCanceled, "community", false, t0.Add(6*time.Second)), membership.StatusCanceled},
	}
	for _, step := range steps {
		if err := ms.Update(ctx, id, step.change); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		all, err := ms.GetMany(ctx, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		want := all[id].Summary()
		got, err := people.GetByIdentityID(ctx, "user_along", time.Now())
		if err != nil || got.Membership == nil || !got.MembershipRead {
			t.Fatalf("%s: sign-in read = %+v, %v; want a membership", step.name, got, err)
		}
		if !reflect.DeepEqual(*got.Membership, want) || want.Status != step.want {
			t.Fatalf("%s: sign-in read the summary %+v; the subscriptions say %+v (want status %s)", step.name, *got.Membership, want, step.want)
		}
	}
}

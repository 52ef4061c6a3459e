package graph_test

import (
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// fakeTiers gives the app a tier sync over a catalogue of one price that
// names the community tier, which is stored without a price.
func fakeTiers(t *testing.T, app *application.App) {
	t.Helper()
	ctrl := gomock.NewController(t)
	catalog := mocks.NewMockPriceCatalog(ctrl)
	catalog.EXPECT().Configured().Return(true).AnyTimes()
	catalog.EXPECT().ListActivePrices(gomock.Any()).Return([]ports.CatalogPrice{{ID: "price_c", LookupKey: "wdai_tier_community",
		UnitAmount: 1500, Currency: "usd", Interval: "month", IntervalCount: 1, ProductName: "Community", ProductActive: true}}, nil).AnyTimes()
	store := mocks.NewMockTierSyncStore(ctrl)
	store.EXPECT().ListAllTiers(gomock.Any()).Return([]ports.TierRecord{{ID: "community", Name: "Community", SortOrder: 10, Active: true}}, nil).AnyTimes()
	store.EXPECT().ApplyTierChanges(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	app.Commands.SyncTiers = built(application.NewSyncTiers(catalog, store))
}

// TestSyncMembershipTiersMutation: an ops:write caller gets what the sync
// did (the access test shows the denials).
func TestSyncMembershipTiersMutation(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	fakeTiers(t, app)
	c := client.New(graph.NewHandler(app, graph.Options{}))
	ops, err := access.NewAgent("ops", []access.Scope{access.ScopeOpsWrite})
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		SyncMembershipTiers struct {
			Prices    int
			Updated   []string
			Created   []string
			Unchanged []string
			Skipped   []struct{ Reason string }
		}
	}
	if err := c.Post(`mutation { syncMembershipTiers { prices created updated unchanged skipped { reason } } }`, &resp, as(ops)); err != nil {
		t.Fatal(err)
	}
	got := resp.SyncMembershipTiers
	if got.Prices != 1 || len(got.Updated) != 1 || got.Updated[0] != "community" || len(got.Created)+len(got.Unchanged)+len(got.Skipped) != 0 {
		t.Fatalf("syncMembershipTiers = %+v", got)
	}
}

// TestNewMemberDirectoryOptInIsExplained: a member who has just become
// active is hidden from the directory, and the API says why: visible is
// false, visibleByDefault is false and directoryListing is
// OPT_IN_AVAILABLE; after opting in it reads LISTED.
func TestNewMemberDirectoryOptInIsExplained(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	newMember, err := membership.New("p1")
	if err != nil {
		t.Fatal(err)
	}
	tier, _ := membership.NewTier("community")
	snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_p1", Status: membership.ProviderActive,
		Tier: tier, CurrentPeriodEnd: time.Now().Add(720 * time.Hour), TakenAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newMember.ApplySnapshot(snap); err != nil {
		t.Fatal(err)
	}
	people := mocks.NewMockPeople(ctrl)
	people.EXPECT().Get(gomock.Any(), "p1").Return(ports.Person{ID: "p1", FirstName: "Ada", Role: access.RoleMember}, nil).AnyTimes()
	memberships := mocks.NewMockMemberships(ctrl)
	current := newMember
	memberships.EXPECT().Get(gomock.Any(), "p1").DoAndReturn(func(_ any, _ string) (*membership.Membership, error) { return current, nil }).AnyTimes()
	memberships.EXPECT().GetMany(gomock.Any(), gomock.Any()).DoAndReturn(func(_ any, _ []string) (map[string]*membership.Membership, error) {
		return map[string]*membership.Membership{"p1": current}, nil
	}).AnyTimes()
	app := newApp(t, nil, nil)
	app.Queries.GetMe = built(application.NewGetMe(people))
	app.Queries.GetMemberships = built(application.NewGetMemberships(memberships, paidAccess(t), ports.SystemClock{}))
	c := client.New(graph.NewHandler(app, graph.Options{}))
	user, _ := access.NewUser("p1", access.RoleMember, true)

	type listing struct {
		Me struct {
			Membership struct {
				Status           string
				Visible          bool
				VisibleByDefault bool
				DirectoryListing string
			}
		}
	}
	const query = `{ me { membership { status visible visibleByDefault directoryListing } } }`
	var resp listing
	if err := c.Post(query, &resp, as(user)); err != nil {
		t.Fatal(err)
	}
	if m := resp.Me.Membership; m.Status != "ACTIVE" || m.Visible || m.VisibleByDefault || m.DirectoryListing != "OPT_IN_AVAILABLE" {
		t.Fatalf("new member's membership = %+v; want active, hidden, not visible by default, OPT_IN_AVAILABLE", m)
	}
	optedIn, err := membership.New("p1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := optedIn.ApplySnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if err := optedIn.SetVisible(true, true); err != nil {
		t.Fatal(err)
	}
	current = optedIn
	resp = listing{}
	if err := c.Post(query, &resp, as(user)); err != nil {
		t.Fatal(err)
	}
	if m := resp.Me.Membership; !m.Visible || m.VisibleByDefault || m.DirectoryListing != "LISTED" {
		t.Fatalf("opted-in membership = %+v; want visible, LISTED", m)
	}
}

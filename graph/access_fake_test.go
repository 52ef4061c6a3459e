package graph_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/99designs/gqlgen/client"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// paidGrant is a current subscription grant of person id.
func paidGrant(id string) ledger.Grant {
	return ledger.Grant{ID: "g_" + id, PersonID: id, Source: ledger.SourceSubscription, Tier: "community",
		From: time.Now().Add(-time.Hour), GrantedBy: ledger.BillingActor, Reason: "subscription paid"}
}

// paidAccess is an access reader in which everyone asked about pays.
func paidAccess(t *testing.T) *mocks.MockAccessReader {
	t.Helper()
	r := mocks.NewMockAccessReader(gomock.NewController(t))
	r.EXPECT().GrantsOf(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, ids []string) (map[string][]ledger.Grant, error) {
		out := map[string][]ledger.Grant{}
		for _, id := range ids {
			out[id] = []ledger.Grant{paidGrant(id)}
		}
		return out, nil
	}).AnyTimes()
	return r
}

// fakeAccess wires the access ledger's use cases on mocks: everyone pays,
// grants and revocations succeed.
func fakeAccess(t *testing.T, app *application.App, memberships ports.Memberships) {
	t.Helper()
	ctrl := gomock.NewController(t)
	grants := mocks.NewMockAccessGrants(ctrl)
	comp := ledger.Grant{ID: "g_comp", PersonID: "p2", Source: ledger.SourceComplimentary, From: time.Now(), Until: time.Now().Add(24 * time.Hour),
		GrantedBy: "admin", Reason: "scholarship"}
	grants.EXPECT().ForPerson(gomock.Any(), gomock.Any()).Return([]ledger.Grant{comp}, nil).AnyTimes()
	grants.EXPECT().Get(gomock.Any(), gomock.Any()).Return(comp, nil).AnyTimes()
	grants.EXPECT().Open(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, g ledger.Grant) (ledger.Grant, error) {
		g.ID = "g_new"
		return g, nil
	}).AnyTimes()
	grants.EXPECT().Save(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	grants.EXPECT().SetActive(gomock.Any(), gomock.Any(), gomock.Any()).Return(true, nil).AnyTimes()
	audit := mocks.NewMockAuditLog(ctrl)
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	sched := mocks.NewMockScheduler(ctrl)
	sched.EXPECT().ScheduleAt(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	pub := mocks.NewMockPublisher(ctrl)
	pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	tx := mocks.NewMockAccessTx(ctrl)
	tx.EXPECT().AccessGrants().Return(grants).AnyTimes()
	tx.EXPECT().Memberships().Return(memberships).AnyTimes()
	tx.EXPECT().Audit().Return(audit).AnyTimes()
	tx.EXPECT().Scheduler().Return(sched).AnyTimes()
	tx.EXPECT().Publisher().Return(pub).AnyTimes()
	tiers := mocks.NewMockTierCatalog(ctrl)
	tiers.EXPECT().GetTier(gomock.Any(), gomock.Any()).Return(ports.MembershipTier{ID: "community"}, nil).AnyTimes()
	uow := inline[ports.AccessTx]{tx}
	policy := application.DefaultAccessPolicy()
	app.Commands.GrantAccess = built(application.NewGrantAccess(uow, tiers, ports.SystemClock{}, policy))
	app.Commands.RevokeAccess = built(application.NewRevokeAccess(uow, ports.SystemClock{}, policy))
	app.Queries.GetAccess = built(application.NewGetAccess(paidAccess(t), ports.SystemClock{}))
}

// anyMembership lets every membership update run on a fresh membership.
func anyMembership(t *testing.T) *mocks.MockMemberships {
	t.Helper()
	m := mocks.NewMockMemberships(gomock.NewController(t))
	m.EXPECT().Update(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, id string, fn func(*membership.Membership) error) error {
		fresh, err := membership.New(id)
		if err != nil {
			return err
		}
		return fn(fresh)
	}).AnyTimes()
	return m
}

// TestAccessIsExplainedToThePersonAndToPIIHolders: me.access is the
// caller's own; member(id).access is null for a member and explained to
// an agent with members:read:pii.
func TestAccessIsExplainedToThePersonAndToPIIHolders(t *testing.T) {
	t.Parallel()
	c := client.New(graph.NewHandler(fakeApp(t), graph.Options{}))
	type grant struct{ ID, Kind, GrantedBy, Reason string }
	type accessResp struct {
		Active  bool
		Sources []grant
	}
	member, _ := access.NewUser("p1", access.RoleMember, true)
	var me struct{ Me struct{ Access *accessResp } }
	if err := c.Post(`{ me { access { active sources { id kind grantedBy reason } } } }`, &me, as(member)); err != nil {
		t.Fatal(err)
	}
	if a := me.Me.Access; a == nil || !a.Active || len(a.Sources) != 1 || a.Sources[0].Kind != "SUBSCRIPTION" || a.Sources[0].GrantedBy != "billing" {
		t.Fatalf("me.access = %+v, want active by a subscription granted by billing", a)
	}
	const other = `{ member(id: "p2") { access { active sources { kind reason } } } }`
	var asMember struct{ Member struct{ Access *accessResp } }
	if err := c.Post(other, &asMember, as(member)); err != nil {
		t.Fatal(err)
	}
	if asMember.Member.Access != nil {
		t.Fatalf("a member reads another member's access: %+v", asMember.Member.Access)
	}
	support, _ := access.NewAgent("support", access.PresetSupport.Scopes())
	var asSupport struct{ Member struct{ Access *accessResp } }
	if err := c.Post(other, &asSupport, as(support)); err != nil {
		t.Fatal(err)
	}
	if a := asSupport.Member.Access; a == nil || !a.Active || len(a.Sources) != 1 || a.Sources[0].Reason != "subscription paid" {
		t.Fatalf("the support agent reads %+v, want the explanation", a)
	}
}

package application_test

import (
	"context"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// TestMeAnswersFromTheRequestsSignIn: with WithSignInMemo, `me` and its
// membership are what the request's authentication read (no second read
// of the same rows); without it, or for another person, the store is read.
func TestMeAnswersFromTheRequestsSignIn(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	people := mocks.NewMockIdentityPeople(ctrl)
	own := activeIn(t, "p1", "community")
	grants := []ledger.Grant{subscriptionGrant("p1", "community", emailT0)}
	people.EXPECT().GetByIdentityID(gomock.Any(), "user_ada", peopleNow).Return(ports.SignedInPerson{Person: me, Membership: new(own.Summary()),
		MembershipRead: true, HasAccess: true}, nil).Times(2)
	auth, err := application.NewAuthenticate(people, mocks.NewMockIdentityDirectory(ctrl), fixedClock{peopleNow})
	if err != nil {
		t.Fatal(err)
	}
	store := mocks.NewMockPersonReader(ctrl)
	getMe, err := application.NewGetMe(store)
	if err != nil {
		t.Fatal(err)
	}

	ctx := application.WithSignInMemo(context.Background())
	p, err := auth.Handle(ctx, ports.Session{UserID: "user_ada"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := getMe.Handle(application.WithPrincipal(ctx, p)) // store: no call expected
	if err != nil || got.ID != "p1" || got.Email != "ada@example.test" || got.FirstName != "Ada" {
		t.Fatalf("me from the sign-in = %+v, %v", got, err)
	}
	memberships, reader := mocks.NewMockMembershipReader(ctrl), mocks.NewMockAccessReader(ctrl)
	getMemberships, err := application.NewGetMemberships(memberships, reader, fixedClock{peopleNow})
	if err != nil {
		t.Fatal(err)
	}
	views, err := getMemberships.Handle(application.WithPrincipal(ctx, p), []string{"p1"}) // store: no call expected
	if v, ok := views["p1"]; err != nil || !ok || v.Status != membership.StatusActive || v.Tier != "community" || !v.HasAccess {
		t.Fatalf("own membership from the sign-in = %+v, %v", views, err)
	}
	// The own access, explained, reads the grants: the sign-in read only
	// whether one is current (it is asked far less often than `me`).
	getAccess, err := application.NewGetAccess(reader, fixedClock{peopleNow})
	if err != nil {
		t.Fatal(err)
	}
	reader.EXPECT().GrantsOf(gomock.Any(), []string{"p1"}).Return(map[string][]ledger.Grant{"p1": grants}, nil)
	acc, err := getAccess.Handle(application.WithPrincipal(ctx, p), []string{"p1"})
	if a, ok := acc["p1"]; err != nil || !ok || !a.Active || len(a.Sources) != 1 || a.Sources[0].Source != ledger.SourceSubscription {
		t.Fatalf("own access = %+v, %v", acc, err)
	}
	// Anyone else's is read from the store.
	memberships.EXPECT().GetMany(gomock.Any(), []string{"p2"}).Return(map[string]*membership.Membership{}, nil)
	reader.EXPECT().GrantsOf(gomock.Any(), []string{}).Return(map[string][]ledger.Grant{}, nil)
	if views, err := getMemberships.Handle(application.WithPrincipal(ctx, p), []string{"p2"}); err != nil || len(views) != 0 {
		t.Fatalf("another's membership = %+v, %v", views, err)
	}

	// Without the memo: the store is read.
	p, err = auth.Handle(context.Background(), ports.Session{UserID: "user_ada"})
	if err != nil {
		t.Fatal(err)
	}
	renamed := me
	renamed.FirstName = "Augusta"
	store.EXPECT().Get(gomock.Any(), "p1").Return(renamed, nil)
	if got, err = getMe.Handle(application.WithPrincipal(context.Background(), p)); err != nil || got.FirstName != "Augusta" {
		t.Fatalf("me without the memo = %+v, %v", got, err)
	}

	// An empty memo (authentication read nobody here) is not used.
	store.EXPECT().Get(gomock.Any(), "p1").Return(renamed, nil)
	other := application.WithSignInMemo(context.Background())
	if got, err = getMe.Handle(application.WithPrincipal(other, p)); err != nil || got.FirstName != "Augusta" {
		t.Fatalf("me with an empty memo = %+v, %v", got, err)
	}
}

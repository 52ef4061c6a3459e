package application_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// A scholarship holder is synced to the email list like a paying member of
// the grant's tier, with the complimentary tag while it lasts; an alumna
// with a scholarship is a member again, not alumni.
func TestSyncMemberEmailTagsAScholarshipLikeAPayingMember(t *testing.T) {
	t.Parallel()
	withComp := func(m map[string]bool) map[string]bool { m["complimentary"] = true; return m }
	tests := []struct {
		name     string
		m        func(t *testing.T) *membership.Membership
		until    time.Time
		wantTags map[string]bool
	}{
		{"never paid", func(*testing.T) *membership.Membership { return nil }, emailT0.Add(90 * 24 * time.Hour),
			withComp(tags(true, true, false, false, "community", true))},
		{"alumna", func(t *testing.T) *membership.Membership {
			return membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderCanceled)
		}, emailT0.Add(90 * 24 * time.Hour), withComp(tags(true, true, false, false, "community", true))},
		{"scholarship over", func(*testing.T) *membership.Membership { return nil }, emailT0.Add(time.Hour),
			tags(false, false, false, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmailFixture(t)
			f.personWith(ada, tt.m(t), scholarship(t, "p1", "community", emailT0, tt.until))
			tier := "community"
			if tt.m(t) == nil && tt.until.Before(emailNow) {
				tier = ""
			}
			gomock.InOrder(
				f.list.EXPECT().Upsert(gomock.Any(), ports.Subscriber{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: tier}, "").
					Return(subscribed(ada.PrimaryEmail), nil),
				f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, tt.wantTags).Return(nil),
			)
			if err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Reason: ports.ReasonAccess}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The reminder ahead of a scholarship's end triggers the access-ending
// journey once per message.
func TestSyncMemberEmailTriggersTheAccessEndingJourney(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	f.personWith(ada, nil, scholarship(t, "p1", "community", emailT0, emailT0.Add(7*24*time.Hour)))
	f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(subscribed(ada.PrimaryEmail), nil)
	f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, gomock.Any()).Return(nil)
	f.list.EXPECT().TriggerJourney(gomock.Any(), "j_ending", "s_ending", ada.PrimaryEmail).Return(nil).Times(1)
	d := f.deps(nil)
	d.Journeys = application.Journeys{application.JourneyAccessEnding: {JourneyID: "j_ending", StepID: "s_ending"}}
	h, err := application.NewSyncMemberEmail(d)
	if err != nil {
		t.Fatal(err)
	}
	in := application.SyncMemberEmailInput{MessageID: "m7", PersonID: "p1", Reason: ports.ReasonAccess, Events: []string{application.EventAccessEnding}}
	for range 2 {
		if err := h.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}

// The resync reads access for a page in one call and fails with the ledger.
func TestResyncEmailListFailsWithTheLedger(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	boom := errors.New("ledger down")
	f.book.err = boom
	f.page("", ports.DirectoryPage{People: []ports.Person{person("p1", "ada@example.test")}, Cursors: []string{"c1"}})
	f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, nil)
	if _, err := f.resync(t, nil).Handle(context.Background(), application.ResyncEmailListInput{}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestAccessUseCasesRefuseNilDependencies(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	uow := newInlineUoW[ports.AccessTx](mocks.NewMockAccessTx(ctrl))
	clock, policy := fixedClock{blNow}, application.DefaultAccessPolicy()
	for name, make := range map[string]func() error{
		"grant without a unit of work": func() error {
			_, err := application.NewGrantAccess(nil, mocks.NewMockTierCatalog(ctrl), clock, policy)
			return err
		},
		"grant without tiers": func() error { _, err := application.NewGrantAccess(uow, nil, clock, policy); return err },
		"grant without a clock": func() error {
			_, err := application.NewGrantAccess(uow, mocks.NewMockTierCatalog(ctrl), nil, policy)
			return err
		},
		"revoke without a unit of work": func() error { _, err := application.NewRevokeAccess(nil, clock, policy); return err },
		"revoke without a clock":        func() error { _, err := application.NewRevokeAccess(uow, nil, policy); return err },
		"check without a unit of work":  func() error { _, err := application.NewCheckAccess(nil, clock, policy); return err },
		"check without a clock":         func() error { _, err := application.NewCheckAccess(uow, nil, policy); return err },
		"remind without a unit of work": func() error { _, err := application.NewRemindAccessEnding(nil, clock); return err },
		"remind without a clock":        func() error { _, err := application.NewRemindAccessEnding(uow, nil); return err },
		"get access without a clock":    func() error { _, err := application.NewGetAccess(mocks.NewMockAccessReader(ctrl), nil); return err },
	} {
		if err := make(); err == nil {
			t.Errorf("%s: constructor succeeded, want a nil-dependency error", name)
		}
	}
	if p := application.DefaultAccessPolicy(); p.GracePeriod != ledger.DefaultGracePeriod || p.ReminderBefore != 7*24*time.Hour {
		t.Errorf("default policy %+v, want seven days of grace and a reminder a week ahead", p)
	}
}

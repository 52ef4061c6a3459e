package application_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// memoryIntegrations is an in-memory ports.Integrations for these tests.
type memoryIntegrations map[string]ports.IntegrationState

func (m memoryIntegrations) Get(_ context.Context, personID, _ string) (ports.IntegrationState, error) {
	s, ok := m[personID]
	if !ok {
		return s, ports.ErrNotFound
	}
	return s, nil
}

func (m memoryIntegrations) GetAll(context.Context, string) (map[string]ports.IntegrationState, error) {
	return m, nil
}

func (m memoryIntegrations) Put(_ context.Context, s ports.IntegrationState) error {
	m[s.PersonID] = s
	return nil
}

func pastDue(t *testing.T) *membership.Membership {
	t.Helper()
	m, _ := membership.New("p1")
	tier, _ := membership.NewTier("community")
	snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_1", Status: membership.ProviderPastDue, Tier: tier,
		CurrentPeriodEnd: time.Now().Add(720 * time.Hour), TakenAt: time.Now(), PaymentAttempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ApplySnapshot(snap); err != nil {
		t.Fatal(err)
	}
	return m
}

// Each payment_failed message triggers the journey once: a redelivery of
// the same message does not, a later failure (next invoice, attempt 1
// again) does.
func TestPaymentFailedJourneyOncePerMessage(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	list, people, ms := mocks.NewMockEmailList(ctrl), mocks.NewMockPeople(ctrl), mocks.NewMockMemberships(ctrl)
	people.EXPECT().Get(gomock.Any(), "p1").Return(ports.Person{ID: "p1", PrimaryEmail: "ada@example.test", FirstName: "Ada"}, nil).AnyTimes()
	ms.EXPECT().Get(gomock.Any(), "p1").Return(pastDue(t), nil).AnyTimes()
	list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{Email: "ada@example.test", Status: ports.SubscriberSubscribed}, nil).Times(1)
	list.EXPECT().SetTags(gomock.Any(), "ada@example.test", gomock.Any()).Return(nil).Times(1)
	list.EXPECT().TriggerJourney(gomock.Any(), "j_failed", "s_failed", "ada@example.test").Return(nil).Times(2)
	h, err := application.NewEmailSyncHandler(list, people, ms, memoryIntegrations{}, application.EmailSyncConfig{
		Journeys: map[string]application.Journey{application.JourneyPaymentFailed: {JourneyID: "j_failed", StepID: "s_failed"}}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(application.MemberChanged{PersonID: "p1", Reason: application.ReasonPaymentFailed, Events: []string{"payment_failed"}, Attempt: 1})
	for _, id := range []string{"msg-invoice-1", "msg-invoice-1", "msg-invoice-2"} {
		if err := h.HandleMemberChanged(context.Background(), ports.Message{ID: id, Payload: body}); err != nil {
			t.Fatal(err)
		}
	}
}

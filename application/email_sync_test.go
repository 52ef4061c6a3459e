package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
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

func (m memoryIntegrations) Put(_ context.Context, s ports.IntegrationState) (int64, error) {
	if m[s.PersonID].Version != s.Version {
		return 0, ports.ErrStaleState
	}
	s.Version++
	m[s.PersonID] = s
	return s.Version, nil
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

// stallingList is an EmailList whose first Upsert waits until released, to
// interleave two syncs of one person.
type stallingList struct {
	mu       sync.Mutex
	stall    chan struct{}
	stalled  chan struct{}
	upserts  int
	triggers int
}

func (l *stallingList) Upsert(_ context.Context, s ports.Subscriber, _ string) (ports.SubscriberResult, error) {
	l.mu.Lock()
	l.upserts++
	first := l.upserts == 1
	l.mu.Unlock()
	if first {
		close(l.stalled)
		<-l.stall
	}
	return ports.SubscriberResult{Email: s.Email, Status: ports.SubscriberSubscribed}, nil
}
func (l *stallingList) SetTags(context.Context, string, map[string]bool) error { return nil }
func (l *stallingList) TriggerJourney(context.Context, string, string, string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.triggers++
	return nil
}
func (l *stallingList) Archive(context.Context, string) error { return nil }
func (l *stallingList) BatchUpsert(context.Context, []ports.Subscriber) ([]ports.SubscriberResult, error) {
	return nil, nil
}

// Two syncs of one person at once: the one that read the state first and
// saves last is refused (ErrStaleState, retried by the router), so the
// journey the other recorded is not lost and not sent again.
func TestConcurrentSyncsOfOnePersonDoNotLoseTheJourneyMark(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	people, ms := mocks.NewMockPeople(ctrl), mocks.NewMockMemberships(ctrl)
	people.EXPECT().Get(gomock.Any(), "p1").Return(ports.Person{ID: "p1", PrimaryEmail: "ada@example.test"}, nil).AnyTimes()
	ms.EXPECT().Get(gomock.Any(), "p1").Return(pastDue(t), nil).AnyTimes()
	store := &lockedIntegrations{m: memoryIntegrations{}}
	list := &stallingList{stall: make(chan struct{}), stalled: make(chan struct{})}
	h, err := application.NewEmailSyncHandler(list, people, ms, store, application.EmailSyncConfig{
		Journeys: map[string]application.Journey{application.JourneyWelcome: {JourneyID: "j", StepID: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	activated, _ := json.Marshal(application.MemberChanged{PersonID: "p1", Reason: application.ReasonSubscriptionSync, Events: []string{"activated"}})
	plain, _ := json.Marshal(application.MemberChanged{PersonID: "p1", Reason: application.ReasonSubscriptionSync})

	bDone := make(chan error, 1)
	go func() {
		bDone <- h.HandleMemberChanged(context.Background(), ports.Message{ID: "msg-B", Payload: plain})
	}()
	<-list.stalled // B has read the state and waits in Upsert
	if err := h.HandleMemberChanged(context.Background(), ports.Message{ID: "msg-A", Payload: activated}); err != nil {
		t.Fatal(err)
	}
	close(list.stall)
	if err := <-bDone; !errors.Is(err, ports.ErrStaleState) {
		t.Fatalf("the stale sync returned %v, want ErrStaleState", err)
	}
	// A is delivered again (a lost ack): the mark survived, no second journey.
	if err := h.HandleMemberChanged(context.Background(), ports.Message{ID: "msg-A", Payload: activated}); err != nil {
		t.Fatal(err)
	}
	if list.triggers != 1 {
		t.Fatalf("welcome triggered %d times, want 1", list.triggers)
	}
}

// lockedIntegrations makes memoryIntegrations safe for two goroutines.
type lockedIntegrations struct {
	mu sync.Mutex
	m  memoryIntegrations
}

func (l *lockedIntegrations) Get(ctx context.Context, id, p string) (ports.IntegrationState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.Get(ctx, id, p)
}
func (l *lockedIntegrations) GetAll(ctx context.Context, p string) (map[string]ports.IntegrationState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.GetAll(ctx, p)
}
func (l *lockedIntegrations) Put(ctx context.Context, s ports.IntegrationState) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.Put(ctx, s)
}

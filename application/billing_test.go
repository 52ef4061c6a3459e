package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

type billingMocks struct {
	identityTx
	billing     *mocks.MockBilling
	tiers       *mocks.MockTierCatalog
	memberships *mocks.MockMemberships
	binbox      *mocks.MockBillingInbox
	ingest      *mocks.MockBillingIngest
	alerter     *mocks.MockAlerter
	sched       *mocks.MockScheduler
	h           application.BillingHandler
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func newBillingMocks(t *testing.T) billingMocks {
	it := newIdentityTx(t)
	ctrl := gomock.NewController(t)
	m := billingMocks{identityTx: it, billing: mocks.NewMockBilling(ctrl), tiers: mocks.NewMockTierCatalog(ctrl),
		memberships: mocks.NewMockMemberships(ctrl), binbox: mocks.NewMockBillingInbox(ctrl), alerter: mocks.NewMockAlerter(ctrl),
		sched: mocks.NewMockScheduler(ctrl), ingest: mocks.NewMockBillingIngest(ctrl)}
	it.tx.EXPECT().Memberships().Return(m.memberships).AnyTimes()
	it.tx.EXPECT().BillingInbox().Return(m.binbox).AnyTimes()
	it.tx.EXPECT().Scheduler().Return(m.sched).AnyTimes()
	h, err := application.NewBillingHandler(application.BillingDeps{Billing: m.billing, UoW: it.uow, Tiers: m.tiers, People: it.people,
		Memberships: m.memberships, Inbox: m.binbox, Ingest: m.ingest, Alerter: m.alerter, Clock: fixedClock{time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	m.h = h
	return m
}

func TestIngestQueuesTheProcessingMessageWithTheEvent(t *testing.T) {
	t.Parallel()
	m := newBillingMocks(t)
	ev := ports.BillingEvent{ID: "evt_1", Type: application.EventSubscriptionUpdated}
	m.ingest.EXPECT().Ingest(gomock.Any(), ev, "webhook", gomock.Cond(func(msg ports.Message) bool {
		var body application.BillingEventMessage
		return msg.Topic == ports.TopicStripeEvent && json.Unmarshal(msg.Payload, &body) == nil && body.EventID == "evt_1"
	})).Return(true, nil)
	if got, err := m.h.Ingest(context.Background(), ev, "webhook"); err != nil || !got {
		t.Fatalf("Ingest = %v, %v", got, err)
	}
	if _, err := m.h.Ingest(context.Background(), ports.BillingEvent{Type: "x"}, "webhook"); !errors.Is(err, application.ErrInvalidInput) {
		t.Fatalf("event without id: %v", err)
	}
}

func TestProcessRecordsUnhandledTypesAsIgnored(t *testing.T) {
	t.Parallel()
	m := newBillingMocks(t)
	m.binbox.EXPECT().Get(gomock.Any(), "evt_2").Return(ports.InboxEvent{BillingEvent: ports.BillingEvent{ID: "evt_2", Type: "charge.refunded"}, Status: ports.InboxReceived}, nil)
	m.binbox.EXPECT().Mark(gomock.Any(), "evt_2", ports.InboxIgnored, gomock.Any()).Return(nil)
	body, _ := json.Marshal(application.BillingEventMessage{EventID: "evt_2"})
	if err := m.h.Process(context.Background(), ports.Message{Payload: body}); err != nil {
		t.Fatal(err)
	}
}

func TestProcessMalformedMessageIsPermanent(t *testing.T) {
	t.Parallel()
	m := newBillingMocks(t)
	if err := m.h.Process(context.Background(), ports.Message{Payload: []byte("{")}); !ports.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
}

func TestSyncDefersWhenNoPersonIsLinkedYet(t *testing.T) {
	t.Parallel()
	m := newBillingMocks(t)
	m.binbox.EXPECT().Get(gomock.Any(), "evt_3").Return(ports.InboxEvent{BillingEvent: ports.BillingEvent{ID: "evt_3", Type: application.EventSubscriptionCreated, SubscriptionID: "sub_1"}, Status: ports.InboxReceived}, nil)
	m.billing.EXPECT().GetSubscription(gomock.Any(), "sub_1").Return(ports.BillingSubscription{ID: "sub_1", CustomerID: "cus_1", Status: membership.ProviderIncomplete}, nil)
	m.memberships.EXPECT().PersonForSubscription(gomock.Any(), "sub_1").Return("", ports.ErrNotFound)
	m.people.EXPECT().GetByBillingCustomer(gomock.Any(), "cus_1").Return(ports.Person{}, ports.ErrNotFound)
	m.binbox.EXPECT().Mark(gomock.Any(), "evt_3", ports.InboxDeferred, gomock.Any()).Return(nil)
	body, _ := json.Marshal(application.BillingEventMessage{EventID: "evt_3"})
	if err := m.h.Process(context.Background(), ports.Message{Payload: body}); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownPriceRecordsTierUnknownAndAlerts(t *testing.T) {
	t.Parallel()
	m := newBillingMocks(t)
	m.billing.EXPECT().GetSubscription(gomock.Any(), "sub_9").Return(ports.BillingSubscription{ID: "sub_9", CustomerID: "cus_9", Status: membership.ProviderActive,
		PriceID: "price_mystery", CurrentPeriodEnd: time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC)}, nil)
	m.tiers.EXPECT().TierForPrice(gomock.Any(), "price_mystery").Return(ports.MembershipTier{}, ports.ErrNotFound)
	var got *membership.Membership
	m.memberships.EXPECT().Update(gomock.Any(), "p9", gomock.Any()).DoAndReturn(func(_ context.Context, id string, fn func(*membership.Membership) error) error {
		mm, _ := membership.New(id)
		got = mm
		return fn(mm)
	})
	m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
	m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
	m.alerter.EXPECT().Alert(gomock.Any(), gomock.Cond(func(a ports.Alert) bool { return a.Fields["price_id"] == "price_mystery" })).Return(nil)
	if err := m.h.SyncSubscription(context.Background(), "sub_9", "p9", application.ReasonSubscriptionSync); err != nil {
		t.Fatal(err)
	}
	if got.Status() != membership.StatusActive || !got.Tier().IsUnknown() {
		t.Fatalf("membership = %s / %s, want active with tier unknown", got.Status(), got.Tier())
	}
}

func TestBillingNotConfigured(t *testing.T) {
	t.Parallel()
	it := newIdentityTx(t)
	ctrl := gomock.NewController(t)
	h, err := application.NewBillingHandler(application.BillingDeps{UoW: it.uow, Tiers: mocks.NewMockTierCatalog(ctrl), People: it.people,
		Memberships: mocks.NewMockMemberships(ctrl), Inbox: mocks.NewMockBillingInbox(ctrl), Ingest: mocks.NewMockBillingIngest(ctrl), Alerter: mocks.NewMockAlerter(ctrl), Clock: ports.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reconcile(context.Background(), time.Now(), true, nil); !errors.Is(err, ports.ErrNotConfigured) {
		t.Fatalf("reconcile unconfigured = %v", err)
	}
}

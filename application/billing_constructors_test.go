package application_test

import (
	"testing"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// Every billing use case refuses to start with a port missing, so that a
// wiring mistake fails at start-up rather than on the first event.
func TestBillingConstructorsRefuseMissingPorts(t *testing.T) {
	t.Parallel()
	w := newBillingWorld(t)
	var (
		nilBilling *mocks.MockBilling // a typed nil, as a mis-wired field would be
		nilUoW     ports.UnitOfWork[ports.MembershipTx]
		nilBUoW    ports.UnitOfWork[ports.BillingInboxTx]
		nilPUoW    ports.UnitOfWork[ports.CustomerLinkTx]
		urls       = application.CheckoutURLs{}
	)
	deps := application.SyncSubscriptionDeps{Billing: w.billing, Memberships: w.reader, People: w.finder, Tiers: w.tiers,
		UoW: w.mUoW, Alerter: w.alerter, Clock: w.clock(), SnapshotClock: sharedAt{blNow}}
	tests := []struct {
		name string
		new  func() error
	}{
		{"ingest without a unit of work", func() error { _, err := application.NewIngestBillingEvent(nilBUoW); return err }},
		{"process without an inbox", func() error {
			_, err := application.NewProcessBillingEvent(application.ProcessBillingEventDeps{Billing: w.billing})
			return err
		}},
		{"process with a nil billing pointer", func() error {
			_, err := application.NewProcessBillingEvent(application.ProcessBillingEventDeps{Inbox: w.inbox, Billing: nilBilling})
			return err
		}},
		{"sync without a clock", func() error {
			d := deps
			d.Clock = nil
			_, err := application.NewSyncSubscription(d)
			return err
		}},
		{"sync with a nil billing pointer", func() error {
			d := deps
			d.Billing = nilBilling
			_, err := application.NewSyncSubscription(d)
			return err
		}},
		{"complete checkout without a unit of work", func() error {
			_, err := application.NewCompleteCheckout(nilPUoW, application.SyncSubscription{}, w.alerter)
			return err
		}},
		{"complete checkout without an alerter", func() error {
			_, err := application.NewCompleteCheckout(w.pUoW, application.SyncSubscription{}, nil)
			return err
		}},
		{"payment failed without people", func() error {
			_, err := application.NewNotifyPaymentFailed(application.SyncSubscription{}, w.reader, nil, w.bUoW)
			return err
		}},
		{"period end without a unit of work", func() error {
			_, err := application.NewReachPeriodEnd(w.billing, application.SyncSubscription{}, nilUoW, w.clock())
			return err
		}},
		{"start checkout without people", func() error {
			_, err := application.NewStartCheckout(application.StartCheckoutDeps{Billing: w.billing, Tiers: w.tiers, Clock: w.clock(), URLs: urls})
			return err
		}},
		{"portal without billing", func() error {
			_, err := application.NewOpenBillingPortal(nil, w.personRead, "")
			return err
		}},
		{"reconcile without an inbox", func() error {
			_, err := application.NewReconcileBilling(application.ReconcileBillingDeps{Billing: w.billing, UoW: w.bUoW, Alerter: w.alerter, Requeue: application.DefaultRequeue})
			return err
		}},
		{"reconcile without an alerter", func() error {
			_, err := application.NewReconcileBilling(application.ReconcileBillingDeps{Billing: w.billing, Inbox: w.inbox, UoW: w.bUoW, Requeue: application.DefaultRequeue})
			return err
		}},
		{"reconcile that never expires", func() error {
			r := application.DefaultRequeue
			r.ExpireAfter = 0
			_, err := application.NewReconcileBilling(application.ReconcileBillingDeps{Billing: w.billing, Inbox: w.inbox, UoW: w.bUoW, Alerter: w.alerter, Requeue: r})
			return err
		}},
		{"sync without a snapshot clock", func() error {
			d := deps
			d.SnapshotClock = nil
			_, err := application.NewSyncSubscription(d)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.new(); err == nil {
				t.Fatal("constructor accepted a missing port")
			}
		})
	}
}

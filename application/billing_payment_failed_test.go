package application_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

func TestNotifyPaymentFailed(t *testing.T) {
	t.Parallel()
	failed := func(mods ...func(*ports.BillingEvent)) ports.BillingEvent {
		ev := ports.BillingEvent{ID: "evt_f", Kind: ports.BillingPaymentFailed, SubscriptionID: blSub, CustomerID: blCustomer,
			InvoiceID: "in_1", AttemptCount: 2}
		for _, m := range mods {
			m(&ev)
		}
		return ev
	}
	noSubscription := func(ev *ports.BillingEvent) { ev.SubscriptionID = "" }
	pastDue := func(attempt int) func(*ports.BillingSubscription) {
		return func(s *ports.BillingSubscription) {
			s.Status, s.LatestInvoiceAttempt = membership.ProviderPastDue, attempt
		}
	}
	attempt := func(n int) func(*membership.SnapshotParams) {
		return func(p *membership.SnapshotParams) { p.PaymentAttempt = n }
	}
	notice := func(attempt int) ports.MemberChangedMessage {
		return ports.MemberChangedMessage{PersonID: blPerson, Reason: ports.ReasonPaymentFailed, Events: []string{membership.NamePaymentFailed}, Attempt: attempt}
	}
	synced := ports.MemberChangedMessage{PersonID: blPerson, Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NamePaymentFailed}}
	firstNotice := func(attempt int, first bool) func(w *billingWorld) {
		return func(w *billingWorld) {
			w.txInbox.EXPECT().NoteFailureNotice(gomock.Any(), "in_1", attempt, blPerson).Return(first, nil)
		}
	}
	errCommit := errors.New("commit failed")

	tests := []struct {
		name        string
		given       []membership.SnapshotParams
		ev          ports.BillingEvent
		setup       []func(w *billingWorld)
		commitErr   error
		wantErr     blErrCheck
		wantChanged []ports.MemberChangedMessage
	}{
		{
			name:  "first failure of an invoice attempt syncs past_due and notifies the member with the attempt",
			given: []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(-time.Hour))},
			ev:    failed(),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.provider(blSubscription(pastDue(2)))
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return(blPerson, nil).Times(2)
				w.priceIsTier()
			}, firstNotice(2, true)},
			wantChanged: []ports.MemberChangedMessage{synced, notice(2)},
		},
		{
			name: "repeated delivery of the same invoice attempt announces nothing",
			given: []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(-2*time.Hour)),
				blSnap(membership.ProviderPastDue, blNow.Add(-time.Hour), attempt(2))},
			ev: failed(),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.provider(blSubscription(pastDue(2)))
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return(blPerson, nil).Times(2)
				w.priceIsTier()
			}, firstNotice(2, false)},
		},
		{
			name: "a later attempt of the same invoice is notified again",
			given: []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(-2*time.Hour)),
				blSnap(membership.ProviderPastDue, blNow.Add(-time.Hour), attempt(1))},
			ev: failed(),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.provider(blSubscription(pastDue(2)))
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return(blPerson, nil).Times(2)
				w.priceIsTier()
			}, firstNotice(2, true)},
			wantChanged: []ports.MemberChangedMessage{synced, notice(2)},
		},
		{
			name: "invoice without a subscription notifies the customer's person without calling the provider",
			ev:   failed(noSubscription),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), "").Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{ID: blPerson}, nil)
			}, firstNotice(2, true)},
			wantChanged: []ports.MemberChangedMessage{notice(2)},
		},
		{
			name: "nobody linked to the customer defers and notifies nobody",
			ev:   failed(noSubscription),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), "").Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{}, ports.ErrNotFound)
			}},
			wantErr: func(err error) bool { return blTransient(err) && strings.Contains(err.Error(), "deferred") },
		},
		{
			name: "sync failure is returned and no notice is sent",
			ev:   failed(),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.billing.EXPECT().GetSubscription(gomock.Any(), blSub).Return(ports.BillingSubscription{}, errBLDown)
			}},
			wantErr: blIs(errBLDown),
		},
		{
			name: "notice store failure is returned and no notice is sent",
			ev:   failed(noSubscription),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), "").Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{ID: blPerson}, nil)
				w.txInbox.EXPECT().NoteFailureNotice(gomock.Any(), "in_1", 2, blPerson).Return(false, errBLDown)
			}},
			wantErr: blIs(errBLDown),
		},
		{
			name: "publish failure is returned",
			ev:   failed(noSubscription),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), "").Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{ID: blPerson}, nil)
				w.publishErr = errBLDown
			}, firstNotice(2, true)},
			wantErr: blIs(errBLDown),
		},
		{
			name: "commit failure is returned and the notice is not delivered",
			ev:   failed(noSubscription),
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), "").Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{ID: blPerson}, nil)
			}, firstNotice(2, true)},
			commitErr: errCommit,
			wantErr:   blIs(errCommit),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			if len(tc.given) > 0 {
				w.given(blPerson, tc.given...)
			}
			for _, s := range tc.setup {
				s(w)
			}
			w.bUoW.commitErr = tc.commitErr
			err := w.paymentFailed().Handle(context.Background(), tc.ev)
			blCheckErr(t, err, tc.wantErr)
			blEqual(t, "member.changed", w.memberChanged(), tc.wantChanged)
			if tc.wantChanged == nil {
				w.nothingAnnounced()
			}
		})
	}
}

package application_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

func TestProcessBillingEvent(t *testing.T) {
	t.Parallel()
	const evID = "evt_1"
	stored := func(kind ports.BillingEventKind, status string) ports.InboxEvent {
		return ports.InboxEvent{BillingEvent: ports.BillingEvent{ID: evID, Kind: kind, SubscriptionID: blSub, CustomerID: blCustomer,
			InvoiceID: "in_1", AttemptCount: 1, ClientReferenceID: blPerson}, Source: application.SourceWebhook, Status: status}
	}
	inInbox := func(ev ports.InboxEvent) func(w *billingWorld) {
		return func(w *billingWorld) { w.inbox.EXPECT().Get(gomock.Any(), evID).Return(ev, nil) }
	}
	activated := ports.MemberChangedMessage{PersonID: blPerson, Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NameActivated, application.EventAccessStarted}}
	processed := []blMark{{evID, ports.InboxProcessed, ""}}

	tests := []struct {
		name        string
		in          application.ProcessBillingEventInput
		setup       []func(w *billingWorld)
		wantErr     blErrCheck
		wantMarks   []blMark
		wantChanged []ports.MemberChangedMessage
		wantAudit   []string // actions
	}{
		{
			name: "subscription change syncs the subscription and marks the event processed",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingSubscriptionChanged, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
				w.provider(blSubscription())
				w.ownedBy(blSub, blPerson)
				w.priceIsTier()
			}},
			wantMarks: processed, wantChanged: []ports.MemberChangedMessage{activated}, wantAudit: []string{"access.grant_opened", "access.started", "membership.change"},
		},
		{
			name: "deferred event delivered again is applied once its owner is known",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingSubscriptionChanged, ports.InboxDeferred)), func(w *billingWorld) {
				w.configured(true)
				w.provider(blSubscription())
				w.ownedBy(blSub, blPerson)
				w.priceIsTier()
			}},
			wantMarks: processed, wantChanged: []ports.MemberChangedMessage{activated}, wantAudit: []string{"access.grant_opened", "access.started", "membership.change"},
		},
		{
			name: "completed checkout links the customer, syncs, and marks the event processed",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingCheckoutCompleted, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, PrimaryEmail: "ada@example.org"}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), blPerson, blCustomer).Return(nil)
				w.provider(blSubscription())
				w.priceIsTier()
			}},
			wantMarks: processed, wantChanged: []ports.MemberChangedMessage{activated},
			wantAudit: []string{"billing.link_customer", "access.grant_opened", "access.started", "membership.change"},
		},
		{
			name: "failed payment syncs, notifies the member and marks the event processed",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingPaymentFailed, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
				w.given(blPerson, blSnap(membership.ProviderActive, blNow.Add(-time.Hour)))
				w.provider(blSubscription(func(s *ports.BillingSubscription) {
					s.Status, s.LatestInvoiceAttempt = membership.ProviderPastDue, 1
				}))
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return(blPerson, nil).Times(2)
				w.priceIsTier()
				w.txInbox.EXPECT().NoteFailureNotice(gomock.Any(), "in_1", 1, blPerson).Return(true, nil)
			}},
			wantMarks: processed,
			wantChanged: []ports.MemberChangedMessage{
				{PersonID: blPerson, Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NamePaymentFailed}},
				{PersonID: blPerson, Reason: ports.ReasonPaymentFailed, Events: []string{membership.NamePaymentFailed}, Attempt: 1},
			},
			// The grace window opens in place of the subscription grant.
			wantAudit: []string{"access.grant_closed", "access.grant_opened", "membership.change"},
		},
		{
			name: "other event is marked ignored and acts on nothing",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingEventOther, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
			}},
			wantMarks: []blMark{{evID, ports.InboxIgnored, "event type not handled"}},
		},
		{
			name:  "redelivery of a processed event does nothing",
			in:    application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingSubscriptionChanged, ports.InboxProcessed))},
		},
		{
			name:  "redelivery of an ignored event does nothing",
			in:    application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingEventOther, ports.InboxIgnored))},
		},
		{
			name: "event missing from the inbox is permanent",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.inbox.EXPECT().Get(gomock.Any(), evID).Return(ports.InboxEvent{}, ports.ErrNotFound)
			}},
			wantErr: blPermanent,
		},
		{
			name: "inbox failure is retryable",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){func(w *billingWorld) {
				w.inbox.EXPECT().Get(gomock.Any(), evID).Return(ports.InboxEvent{}, errBLDown)
			}},
			wantErr: func(err error) bool { return blTransient(err) && errors.Is(err, errBLDown) },
		},
		{
			name:    "message without an event id is malformed: permanent invalid input",
			in:      application.ProcessBillingEventInput{},
			wantErr: func(err error) bool { return ports.IsPermanent(err) && errors.Is(err, application.ErrInvalidInput) },
		},
		{
			name: "billing unconfigured marks the event deferred without calling the provider",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingSubscriptionChanged, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(false)
			}},
			wantMarks: []blMark{{evID, ports.InboxDeferred, "billing not configured"}},
		},
		{
			name: "subscription without an owner yet marks the event deferred",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingSubscriptionChanged, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
				w.provider(blSubscription())
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{}, ports.ErrNotFound)
			}},
			wantMarks: []blMark{{evID, ports.InboxDeferred, "deferred: no person is linked to customer " + blCustomer + " yet"}},
		},
		{
			name: "provider failure is returned and the event stays unmarked for a retry",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingSubscriptionChanged, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
				w.billing.EXPECT().GetSubscription(gomock.Any(), blSub).Return(ports.BillingSubscription{}, errBLDown)
			}},
			wantErr: func(err error) bool { return blTransient(err) && errors.Is(err, errBLDown) },
		},
		{
			name: "unknown subscription stays unmarked and fails permanently",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingSubscriptionChanged, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
				w.billing.EXPECT().GetSubscription(gomock.Any(), blSub).Return(ports.BillingSubscription{}, ports.ErrNotFound)
			}},
			wantErr: blPermanent,
		},
		{
			name: "mark failure is returned",
			in:   application.ProcessBillingEventInput{EventID: evID},
			setup: []func(*billingWorld){inInbox(stored(ports.BillingEventOther, ports.InboxReceived)), func(w *billingWorld) {
				w.configured(true)
				w.markErr = errBLDown
			}},
			wantErr: blIs(errBLDown),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			for _, s := range tc.setup {
				s(w)
			}
			err := w.process().Handle(context.Background(), tc.in)
			blCheckErr(t, err, tc.wantErr)
			blEqual(t, "inbox marks", w.marks, tc.wantMarks)
			blEqual(t, "member.changed", w.memberChanged(), tc.wantChanged)
			var actions []string
			for _, a := range w.audits {
				actions = append(actions, a.Action)
			}
			blEqual(t, "audit actions", actions, tc.wantAudit)
			if tc.wantChanged == nil && tc.wantAudit == nil {
				w.nothingAnnounced()
				blEqual(t, "memberships saved", w.updated, []string(nil))
			}
		})
	}
}

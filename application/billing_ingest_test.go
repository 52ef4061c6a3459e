package application_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// errStored is the inbox's answer for an event id already stored.
var errStored = fmt.Errorf("store billing event evt_1: %w", ports.ErrAlreadyStored)

func TestIngestBillingEvent(t *testing.T) {
	t.Parallel()
	ev := ports.BillingEvent{ID: "evt_1", Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated", SubscriptionID: blSub}
	errCommit := errors.New("commit failed")
	tests := []struct {
		name      string
		in        application.IngestBillingEventInput
		setup     func(w *billingWorld)
		commitErr error
		wantNew   bool
		wantErr   blErrCheck
		wantQueue []string // billing event ids queued for processing
		wantDo    int      // transactions run
	}{
		{
			name: "new event is stored and queued with its id",
			in:   application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook},
			setup: func(w *billingWorld) {
				w.txInbox.EXPECT().Add(gomock.Any(), ev, application.SourceWebhook).Return(nil)
			},
			wantNew: true, wantQueue: []string{"evt_1"}, wantDo: 1,
		},
		{
			name: "reconciled event is stored with its source",
			in:   application.IngestBillingEventInput{Event: ev, Source: application.SourceReconcile},
			setup: func(w *billingWorld) {
				w.txInbox.EXPECT().Add(gomock.Any(), ev, application.SourceReconcile).Return(nil)
			},
			wantNew: true, wantQueue: []string{"evt_1"}, wantDo: 1,
		},
		{
			name: "duplicate event is not queued again",
			in:   application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook},
			setup: func(w *billingWorld) {
				w.txInbox.EXPECT().Add(gomock.Any(), ev, application.SourceWebhook).Return(errStored)
			},
			wantNew: false, wantDo: 1,
		},
		{
			// In a unit of work the store's INSERT goes with the publish and
			// the commit, so the duplicate shows at commit: the publish is
			// rolled back with it.
			name: "duplicate event found at commit publishes nothing and is not an error",
			in:   application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook},
			setup: func(w *billingWorld) {
				w.txInbox.EXPECT().Add(gomock.Any(), ev, application.SourceWebhook).Return(nil)
			},
			commitErr: errStored, wantNew: false, wantDo: 1,
		},
		{
			name:    "event without id is invalid input and touches nothing",
			in:      application.IngestBillingEventInput{Event: ports.BillingEvent{Kind: ports.BillingEventOther}, Source: application.SourceWebhook},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			// Provider ids are plain ASCII; one with a NUL would be stored as
			// another id (PostgreSQL text cannot hold NUL) and dedupe with it.
			name:    "event id with a NUL is invalid input and touches nothing",
			in:      application.IngestBillingEventInput{Event: ports.BillingEvent{ID: "evt_\x00x", Kind: ports.BillingEventOther}, Source: application.SourceWebhook},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			name:    "event id with a control character is invalid input",
			in:      application.IngestBillingEventInput{Event: ports.BillingEvent{ID: "evt_\x1bx", Kind: ports.BillingEventOther}, Source: application.SourceWebhook},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			name:    "event id that is not UTF-8 is invalid input",
			in:      application.IngestBillingEventInput{Event: ports.BillingEvent{ID: "evt_\xffx", Kind: ports.BillingEventOther}, Source: application.SourceWebhook},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			name: "subscription id with a NUL is invalid input",
			in: application.IngestBillingEventInput{Event: ports.BillingEvent{ID: "evt_3", Kind: ports.BillingSubscriptionChanged,
				SubscriptionID: "sub_\x00a"}, Source: application.SourceWebhook},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			name:    "event without kind is invalid input and touches nothing",
			in:      application.IngestBillingEventInput{Event: ports.BillingEvent{ID: "evt_2"}, Source: application.SourceWebhook},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			name: "store failure is returned",
			in:   application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook},
			setup: func(w *billingWorld) {
				w.txInbox.EXPECT().Add(gomock.Any(), ev, application.SourceWebhook).Return(errBLDown)
			},
			wantErr: blIs(errBLDown), wantDo: 1,
		},
		{
			name: "publish failure is returned and the event is not reported new",
			in:   application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook},
			setup: func(w *billingWorld) {
				w.txInbox.EXPECT().Add(gomock.Any(), ev, application.SourceWebhook).Return(nil)
				w.publishErr = errBLDown
			},
			wantErr: blIs(errBLDown), wantDo: 1,
		},
		{
			name: "commit failure is returned and the event is not reported new",
			in:   application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook},
			setup: func(w *billingWorld) {
				w.txInbox.EXPECT().Add(gomock.Any(), ev, application.SourceWebhook).Return(nil)
			},
			commitErr: errCommit, wantErr: blIs(errCommit), wantDo: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			w.bUoW.commitErr = tc.commitErr
			got, err := w.ingest().Handle(context.Background(), tc.in)
			blCheckErr(t, err, tc.wantErr)
			if got != tc.wantNew {
				t.Errorf("new = %v, want %v", got, tc.wantNew)
			}
			blEqual(t, "queued events", w.queuedEvents(), tc.wantQueue)
			if *w.bUoW.calls != tc.wantDo {
				t.Errorf("transactions = %d, want %d", *w.bUoW.calls, tc.wantDo)
			}
		})
	}
}

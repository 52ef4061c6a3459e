package application_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// blListing makes the provider list evs since since (through fn, newest
// first, stopping at fn's first error) and the inbox hold the present ids.
func (w *billingWorld) blListing(since time.Time, evs []ports.BillingEvent, present map[string]bool) {
	w.billing.EXPECT().ListEvents(gomock.Any(), since, gomock.Any()).DoAndReturn(
		func(_ context.Context, _ time.Time, fn func(ports.BillingEvent) error) error {
			for _, ev := range evs {
				if err := fn(ev); err != nil {
					return err
				}
			}
			return nil
		})
	if len(evs) == 0 {
		return
	}
	ids, have := make([]string, len(evs)), map[string]bool{}
	for i, ev := range evs {
		ids[i] = ev.ID
		if present[ev.ID] {
			have[ev.ID] = true
		}
	}
	// One look-up for the listed events (under 1,000).
	w.inbox.EXPECT().Has(gomock.Any(), ids).Return(have, nil)
}

// blRequeue makes the inbox claim the ids as due (in the transaction), and
// expire the expired ones.
func (w *billingWorld) blRequeue(claimed, expired []string) {
	w.txInbox.EXPECT().ClaimDue(gomock.Any(), application.DefaultRequeue.RequeuePolicy).Return(claimed, nil)
	w.txInbox.EXPECT().Expire(gomock.Any(), application.DefaultRequeue.ExpireAfter, gomock.Any()).Return(expired, nil).MaxTimes(1)
}

func TestReconcileBilling(t *testing.T) {
	t.Parallel()
	since := blNow.Add(-application.DefaultReconcileWindow)
	ev := func(id string) ports.BillingEvent {
		return ports.BillingEvent{ID: id, Kind: ports.BillingSubscriptionChanged, SubscriptionID: blSub}
	}
	three := []ports.BillingEvent{ev("evt_a"), ev("evt_b"), ev("evt_c")}
	errCommit := errors.New("commit failed")

	tests := []struct {
		name         string
		in           application.ReconcileBillingInput
		setup        func(w *billingWorld)
		wantErr      blErrCheck
		want         application.ReconcileResult
		wantProgress []application.ReconcileResult
		wantQueued   []string // billing event ids queued for processing
	}{
		{
			name: "missing events are ingested, present ones counted, deferred ones queued again",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, three, map[string]bool{"evt_a": true})
				w.txInbox.EXPECT().Insert(gomock.Any(), ev("evt_b"), application.SourceReconcile).Return(true, nil)
				// evt_c: a webhook stored it between Has and Insert.
				w.txInbox.EXPECT().Insert(gomock.Any(), ev("evt_c"), application.SourceReconcile).Return(false, nil)
				w.blRequeue([]string{"evt_d", "evt_e"}, nil)
			},
			want:         application.ReconcileResult{Seen: 3, Present: 2, Enqueued: 1, Requeued: 2},
			wantProgress: []application.ReconcileResult{{Seen: 3, Present: 2, Enqueued: 1}},
			wantQueued:   []string{"evt_b", "evt_d", "evt_e"},
		},
		{
			name: "dry run counts what it would ingest and stores and queues nothing",
			in:   application.ReconcileBillingInput{Since: since, DryRun: true},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, three, map[string]bool{"evt_a": true})
			},
			want:         application.ReconcileResult{Seen: 3, Present: 1, Enqueued: 2},
			wantProgress: []application.ReconcileResult{{Seen: 3, Present: 1, Enqueued: 2}},
		},
		{
			name: "nothing listed and nothing deferred",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, nil, nil)
				w.blRequeue(nil, nil)
			},
		},
		{
			name: "deferred events past the limit expire with one alert",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, nil, nil)
				w.blRequeue(nil, []string{"evt_old1", "evt_old2"})
			},
			want: application.ReconcileResult{Expired: 2},
		},
		{
			name:    "billing unconfigured lists nothing",
			in:      application.ReconcileBillingInput{Since: since},
			setup:   func(w *billingWorld) { w.configured(false) },
			wantErr: blIs(ports.ErrNotConfigured),
		},
		{
			name: "inbox failure stops the listing",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.billing.EXPECT().ListEvents(gomock.Any(), since, gomock.Any()).DoAndReturn(
					func(_ context.Context, _ time.Time, fn func(ports.BillingEvent) error) error {
						for _, e := range three {
							if err := fn(e); err != nil {
								return err
							}
						}
						return nil
					})
				w.inbox.EXPECT().Has(gomock.Any(), []string{"evt_a", "evt_b", "evt_c"}).Return(nil, errBLDown)
			},
			wantErr: blIs(errBLDown),
			want:    application.ReconcileResult{Seen: 3},
		},
		{
			name: "provider listing failure is returned and nothing is re-queued",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.billing.EXPECT().ListEvents(gomock.Any(), since, gomock.Any()).Return(errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "listed event the inbox refuses is invalid input",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, []ports.BillingEvent{{ID: "evt_x"}}, nil)
			},
			wantErr: blIs(application.ErrInvalidInput),
			want:    application.ReconcileResult{Seen: 1},
		},
		{
			name: "ingest commit failure is returned",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, []ports.BillingEvent{ev("evt_b")}, nil)
				w.txInbox.EXPECT().Insert(gomock.Any(), ev("evt_b"), application.SourceReconcile).Return(false, errBLDown)
			},
			wantErr: blIs(errBLDown),
			want:    application.ReconcileResult{Seen: 1},
		},
		{
			name: "claim failure is returned",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, nil, nil)
				w.txInbox.EXPECT().ClaimDue(gomock.Any(), gomock.Any()).Return(nil, errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "re-queue failure is returned and not counted",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, nil, nil)
				w.txInbox.EXPECT().ClaimDue(gomock.Any(), gomock.Any()).Return([]string{"evt_d"}, nil)
				w.publishErr = errBLDown
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "re-queue commit failure is returned and not counted",
			in:   application.ReconcileBillingInput{Since: since},
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, nil, nil)
				w.txInbox.EXPECT().ClaimDue(gomock.Any(), gomock.Any()).Return([]string{"evt_d"}, nil)
				w.bUoW.commitErr = errCommit
			},
			wantErr: blIs(errCommit),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			var progress []application.ReconcileResult
			in := tc.in
			in.Progress = func(r application.ReconcileResult) { progress = append(progress, r) }
			got, err := w.reconcile().Handle(context.Background(), in)
			blCheckErr(t, err, tc.wantErr)
			blEqual(t, "result", got, tc.want)
			if tc.wantProgress != nil {
				blEqual(t, "progress", progress, tc.wantProgress)
			}
			blEqual(t, "queued", w.queuedEvents(), tc.wantQueued)
			if tc.want.Expired > 0 && len(w.alerts) != 1 {
				t.Errorf("%d expired events raised %d alerts, want 1", tc.want.Expired, len(w.alerts))
			}
		})
	}
}

func TestReconcileBillingWithoutProgress(t *testing.T) {
	t.Parallel()
	w := newBillingWorld(t)
	w.configured(true)
	w.blListing(blNow, []ports.BillingEvent{{ID: "evt_a", Kind: ports.BillingEventOther}}, map[string]bool{"evt_a": true})
	w.blRequeue(nil, nil)
	got, err := w.reconcile().Handle(context.Background(), application.ReconcileBillingInput{Since: blNow})
	if err != nil {
		t.Fatal(err)
	}
	blEqual(t, "result", got, application.ReconcileResult{Seen: 1, Present: 1})
}

func TestReconcileBillingJob(t *testing.T) {
	t.Parallel()
	since := blNow.Add(-72 * time.Hour)
	tests := []struct {
		name        string
		setup       func(w *billingWorld)
		wantSummary map[string]any
		wantErr     blErrCheck
	}{
		{
			name: "daily run looks back 72 hours and summarises its counts",
			setup: func(w *billingWorld) {
				w.configured(true)
				w.blListing(since, []ports.BillingEvent{{ID: "evt_a", Kind: ports.BillingEventOther}, {ID: "evt_b", Kind: ports.BillingEventOther}},
					map[string]bool{"evt_a": true})
				w.txInbox.EXPECT().Insert(gomock.Any(), gomock.Any(), application.SourceReconcile).Return(true, nil)
				w.blRequeue([]string{"evt_c"}, nil)
			},
			wantSummary: map[string]any{"outcome": "reconciled", "seen": 2, "present": 1, "enqueued": 1, "requeued": 1, "expired": 0},
		},
		{
			name:        "billing unconfigured is recorded as skipped, not failed",
			setup:       func(w *billingWorld) { w.configured(false) },
			wantSummary: map[string]any{"outcome": "skipped", "reason": "not configured"},
		},
		{
			name: "failure is returned with the counts so far",
			setup: func(w *billingWorld) {
				w.configured(true)
				w.billing.EXPECT().ListEvents(gomock.Any(), since, gomock.Any()).Return(errBLDown)
			},
			wantSummary: map[string]any{"outcome": "reconciled", "seen": 0, "present": 0, "enqueued": 0, "requeued": 0, "expired": 0},
			wantErr:     blIs(errBLDown),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			tc.setup(w)
			summary, err := w.reconcile().Job(w.clock())(context.Background())
			blCheckErr(t, err, tc.wantErr)
			blEqual(t, "summary", summary, tc.wantSummary)
		})
	}
}

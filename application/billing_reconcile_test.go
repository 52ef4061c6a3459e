package application_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// blListing makes the provider list evs since since (through fn, newest
// first, stopping at fn's first error) and the inbox hold the present ids.
func (w *billingWorld) blListing(since time.Time, evs []ports.BillingEvent, present map[string]bool) {
	w.billing.EXPECT().ListEvents(gomock.Any(), since, "", gomock.Any()).DoAndReturn(
		func(_ context.Context, _ time.Time, _ string, fn func(ports.BillingEvent) error) error {
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
				w.txInbox.EXPECT().Add(gomock.Any(), ev("evt_b"), application.SourceReconcile).Return(nil)
				// evt_c: a webhook stored it between Has and Insert.
				w.txInbox.EXPECT().Add(gomock.Any(), ev("evt_c"), application.SourceReconcile).Return(errStored)
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
				w.billing.EXPECT().ListEvents(gomock.Any(), since, "", gomock.Any()).DoAndReturn(
					func(_ context.Context, _ time.Time, _ string, fn func(ports.BillingEvent) error) error {
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
				w.billing.EXPECT().ListEvents(gomock.Any(), since, "", gomock.Any()).Return(errBLDown)
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
				w.txInbox.EXPECT().Add(gomock.Any(), ev("evt_b"), application.SourceReconcile).Return(errBLDown)
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

// pageRun runs a reconciliation page from cursor and returns its counts
// and what it began: the next cursor and whether it was the last.
func (w *billingWorld) pageRun(cursor string) (map[string]any, string, bool, error) {
	var next string
	var last, begun bool
	counts, err := w.reconcile().Page(w.clock())(context.Background(), cursor, func(n string, l bool) error {
		next, last, begun = n, l, true
		return nil
	})
	if err == nil && !begun {
		w.t.Fatal("the page did not begin")
	}
	return counts, next, last, err
}

func TestReconcileBillingPages(t *testing.T) {
	t.Parallel()
	since := blNow.Add(-72 * time.Hour)
	cursor0 := fmt.Sprint(since.Unix()) + "/"
	events := func(from, n int) []ports.BillingEvent {
		evs := make([]ports.BillingEvent, n)
		for i := range evs {
			evs[i] = ports.BillingEvent{ID: fmt.Sprintf("evt_%04d", from+i), Kind: ports.BillingEventOther}
		}
		return evs
	}
	listing := func(w *billingWorld, after string, evs []ports.BillingEvent) {
		w.billing.EXPECT().ListEvents(gomock.Any(), since, after, gomock.Any()).DoAndReturn(
			func(_ context.Context, _ time.Time, _ string, fn func(ports.BillingEvent) error) error {
				for _, ev := range evs {
					if err := fn(ev); err != nil {
						return err
					}
				}
				return nil
			})
	}
	present := func(w *billingWorld, n int) {
		w.inbox.EXPECT().Has(gomock.Any(), gomock.Len(n)).DoAndReturn(func(_ context.Context, ids []string) (map[string]bool, error) {
			have := map[string]bool{}
			for _, id := range ids {
				have[id] = true
			}
			return have, nil
		})
	}

	t.Run("a full page stops at 1,000 events and leads to the next", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		w.configured(true)
		listing(w, "", events(0, 1500)) // the provider would go on
		present(w, 1000)
		counts, next, last, err := w.pageRun("")
		if err != nil || last || next != cursor0+"evt_0999" {
			t.Fatalf("page = %v, next %q, last %v; want the next page after evt_0999", err, next, last)
		}
		blEqual(t, "counts", counts, map[string]any{"outcome": "reconciled", "seen": 1000, "present": 1000, "enqueued": 0, "requeued": 0, "expired": 0})
	})
	t.Run("the last page resumes after the cursor, then re-queues and expires", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		w.configured(true)
		listing(w, "evt_0999", events(1000, 3))
		present(w, 3)
		w.blRequeue([]string{"evt_d"}, []string{"evt_old"})
		counts, next, last, err := w.pageRun(cursor0 + "evt_0999")
		if err != nil || !last || next != cursor0+"evt_1002" {
			t.Fatalf("page = %v, next %q, last %v; want the last page", err, next, last)
		}
		blEqual(t, "counts", counts, map[string]any{"outcome": "reconciled", "seen": 3, "present": 3, "enqueued": 0, "requeued": 1, "expired": 1})
		blEqual(t, "queued", w.queuedEvents(), []string{"evt_d"})
	})
	t.Run("billing unconfigured is recorded as skipped, not failed", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		w.configured(false)
		counts, _, last, err := w.pageRun("")
		if err != nil || !last {
			t.Fatalf("page = %v, last %v", err, last)
		}
		blEqual(t, "counts", counts, map[string]any{"outcome": "skipped", "reason": "not configured"})
	})
	t.Run("a listing failure is returned before the page begins", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		w.configured(true)
		w.billing.EXPECT().ListEvents(gomock.Any(), since, "", gomock.Any()).Return(errBLDown)
		if _, err := w.reconcile().Page(w.clock())(context.Background(), "", func(string, bool) error {
			t.Error("began a page whose listing failed")
			return nil
		}); !errors.Is(err, errBLDown) {
			t.Fatalf("err = %v, want %v", err, errBLDown)
		}
	})
	t.Run("a malformed cursor is permanent", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		w.configured(true)
		if _, _, _, err := w.pageRun("yesterday"); !ports.IsPermanent(err) {
			t.Fatalf("err = %v, want permanent", err)
		}
	})
}

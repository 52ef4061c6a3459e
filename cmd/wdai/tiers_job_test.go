package main

import (
	"context"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// TestTiersSyncJobRunsThroughTheWorker: the scheduled stripe_tiers_sync
// job, enqueued as the cron does and run by the worker's paged-job runtime,
// gives the community tier the catalogue's price and records its counts;
// the next slot's run changes nothing.
func TestTiersSyncJobRunsThroughTheWorker(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	l.stripe.SetPrices(stripefake.Price{ID: "price_community_live", LookupKey: "wdai_tier_community", Active: true, UnitAmount: 1800,
		Currency: "usd", Interval: "month", ProductID: "prod_c", ProductName: "Community", ProductActive: true})
	run := func(slot time.Time) map[string]any {
		t.Helper()
		r, err := l.sys.app.Commands.EnqueueJob.Handle(context.Background(), application.EnqueueJobInput{Job: jobTiersSync, Slot: slot, Trigger: ports.TriggerCron})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := l.sys.app.Queries.GetJobRun.Handle(context.Background(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == ports.JobCompleted {
				return got.Summary
			}
			if time.Now().After(deadline) {
				t.Fatalf("run not completed: %+v", got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	slot := time.Now().UTC().Truncate(time.Minute)
	if s := run(slot); s["prices"] != float64(1) || s["updated"] != float64(1) || s["created"] != float64(0) || s["retired"] != float64(0) {
		t.Fatalf("first run summary = %v; want community updated", s)
	}
	if n := l.count(`SELECT count(*) FROM membership_tiers WHERE id = 'community' AND stripe_price_id = 'price_community_live' AND price_display = '$18 / month'`); n != 1 {
		t.Fatal("community tier does not carry the catalogue's price")
	}
	if s := run(slot.Add(time.Minute)); s["updated"] != float64(0) || s["unchanged"] != float64(1) {
		t.Fatalf("second run summary = %v; want nothing changed", s)
	}
	if n := l.count(`SELECT count(*) FROM audit_log WHERE action = 'tiers.sync' AND actor_id = 'tiers-sync'`); n != 1 {
		t.Fatalf("%d tiers.sync audit entries, want 1 (only the run that changed tiers)", n)
	}
}

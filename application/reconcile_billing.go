package application

import (
	"context"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// DefaultReconcileWindow is how far back the daily reconciliation looks.
const DefaultReconcileWindow = 72 * time.Hour

// reconcileChunk is how many listed events one inbox look-up covers.
const reconcileChunk = 1000

// RequeueSettings say which waiting events reconciliation queues again and
// when a deferred event gives up.
type RequeueSettings struct {
	ports.RequeuePolicy
	// ExpireAfter: an event deferred for longer expires with one alert.
	ExpireAfter time.Duration
}

// DefaultRequeue re-queues at most 1,000 events a run, 'received' ones
// stuck for 15 minutes, backing off from 15 minutes to 12 hours, and
// expires deferred events after 7 days.
var DefaultRequeue = RequeueSettings{
	RequeuePolicy: ports.RequeuePolicy{StuckAfter: 15 * time.Minute, Backoff: 15 * time.Minute, MaxBackoff: 12 * time.Hour, Limit: 1000},
	ExpireAfter:   7 * 24 * time.Hour,
}

// ReconcileBillingInput says how far back to look; DryRun only counts, and
// Progress, if set, is called after each event.
type ReconcileBillingInput struct {
	Since    time.Time
	DryRun   bool
	Progress func(ReconcileResult)
}

// ReconcileResult counts what a reconciliation saw.
type ReconcileResult struct {
	Seen     int
	Present  int
	Enqueued int
	// Requeued counts waiting events queued again: deferred ones (their
	// customer may be linked by now, or billing configured) and ones stuck
	// in 'received'.
	Requeued int
	// Expired counts deferred events that waited too long.
	Expired int
}

// ReconcileBilling pages through the provider's events and feeds every one
// missing from the inbox through the same path as a webhook, then queues
// the deferred events again.
type ReconcileBilling struct {
	billing ports.Billing
	inbox   ports.BillingInbox
	ingest  IngestBillingEvent
	waiting waitingEvents
}

// ReconcileBillingDeps are the ports ReconcileBilling uses and its
// re-queue settings.
type ReconcileBillingDeps struct {
	Billing ports.Billing
	Inbox   ports.BillingInbox
	Ingest  IngestBillingEvent
	UoW     ports.UnitOfWork[ports.BillingInboxTx]
	Alerter ports.Alerter
	Requeue RequeueSettings
}

// NewReconcileBilling refuses nil dependencies and unusable settings.
func NewReconcileBilling(d ReconcileBillingDeps) (ReconcileBilling, error) {
	if anyNil(d.Billing, d.Inbox, d.UoW, d.Alerter) {
		return ReconcileBilling{}, nilDependency("reconcile billing")
	}
	r := d.Requeue
	if r.Backoff <= 0 || r.MaxBackoff < r.Backoff || r.StuckAfter <= 0 || r.Limit < 1 || r.ExpireAfter <= 0 {
		return ReconcileBilling{}, fmt.Errorf("application: reconcile billing: requeue settings %+v: every duration and the limit must be positive, the max backoff at least the backoff", r)
	}
	return ReconcileBilling{billing: d.Billing, inbox: d.Inbox, ingest: d.Ingest, waiting: waitingEvents{uow: d.UoW, alerter: d.Alerter, settings: r}}, nil
}

// Handle reconciles; it returns ErrNotConfigured without billing. Listed
// events are looked up in the inbox 1,000 at a time; the missing ones go
// through the webhook's path. Then, in one transaction, the waiting events
// that are due are claimed and queued (two statements however many), and
// the deferred events past their limit expire, with one alert.
func (h ReconcileBilling) Handle(ctx context.Context, in ReconcileBillingInput) (ReconcileResult, error) {
	var res ReconcileResult
	if !h.billing.Configured() {
		return res, ports.ErrNotConfigured
	}
	chunk := make([]ports.BillingEvent, 0, reconcileChunk)
	flush := func() error {
		err := h.reconcileChunk(ctx, chunk, in.DryRun, &res)
		chunk = chunk[:0]
		if err == nil && in.Progress != nil {
			in.Progress(res)
		}
		return err
	}
	err := h.billing.ListEvents(ctx, in.Since, "", func(ev ports.BillingEvent) error {
		res.Seen++
		if chunk = append(chunk, ev); len(chunk) < reconcileChunk {
			return nil
		}
		return flush()
	})
	if err == nil && len(chunk) > 0 {
		err = flush()
	}
	if err != nil || in.DryRun {
		return res, err
	}
	if err := h.waiting.requeueDue(ctx, &res); err != nil {
		return res, err
	}
	return res, h.waiting.expire(ctx, &res)
}

// reconcileChunk looks the events up in one query and ingests the missing.
func (h ReconcileBilling) reconcileChunk(ctx context.Context, evs []ports.BillingEvent, dryRun bool, res *ReconcileResult) error {
	if len(evs) == 0 {
		return nil
	}
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	have, err := h.inbox.Has(ctx, ids)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		switch {
		case have[ev.ID]:
			res.Present++
		case dryRun:
			res.Enqueued++
		default:
			inserted, err := h.ingest.Handle(ctx, IngestBillingEventInput{Event: ev, Source: SourceReconcile})
			if err != nil {
				return err
			}
			if inserted {
				res.Enqueued++
			} else {
				res.Present++ // a webhook got there meanwhile
			}
			have[ev.ID] = true // listed twice: stored once
		}
	}
	return nil
}

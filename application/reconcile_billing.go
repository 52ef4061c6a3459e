package application

import (
	"context"
	"errors"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// DefaultReconcileWindow is how far back the daily reconciliation looks.
const DefaultReconcileWindow = 72 * time.Hour

// maxRequeue bounds the deferred events one reconciliation re-queues.
const maxRequeue = 1000

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
	// Requeued counts deferred events queued again (their customer may be
	// linked by now, or billing configured).
	Requeued int
}

// ReconcileBilling pages through the provider's events and feeds every one
// missing from the inbox through the same path as a webhook, then queues
// the deferred events again.
type ReconcileBilling struct {
	billing ports.Billing
	inbox   ports.BillingInbox
	ingest  IngestBillingEvent
	uow     ports.UnitOfWork[ports.BillingInboxTx]
}

// NewReconcileBilling refuses nil dependencies.
func NewReconcileBilling(billing ports.Billing, inbox ports.BillingInbox, ingest IngestBillingEvent, uow ports.UnitOfWork[ports.BillingInboxTx]) (ReconcileBilling, error) {
	if anyNil(billing, inbox, uow) {
		return ReconcileBilling{}, nilDependency("reconcile billing")
	}
	return ReconcileBilling{billing: billing, inbox: inbox, ingest: ingest, uow: uow}, nil
}

// Handle reconciles; it returns ErrNotConfigured without billing.
func (h ReconcileBilling) Handle(ctx context.Context, in ReconcileBillingInput) (ReconcileResult, error) {
	var res ReconcileResult
	if !h.billing.Configured() {
		return res, ports.ErrNotConfigured
	}
	err := h.billing.ListEvents(ctx, in.Since, func(ev ports.BillingEvent) error {
		res.Seen++
		if err := h.reconcileOne(ctx, ev, in.DryRun, &res); err != nil {
			return err
		}
		if in.Progress != nil {
			in.Progress(res)
		}
		return nil
	})
	if err != nil || in.DryRun {
		return res, err
	}
	return res, h.requeueDeferred(ctx, &res)
}

func (h ReconcileBilling) reconcileOne(ctx context.Context, ev ports.BillingEvent, dryRun bool, res *ReconcileResult) error {
	have, err := h.inbox.Has(ctx, []string{ev.ID})
	switch {
	case err != nil:
		return err
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
	}
	return nil
}

func (h ReconcileBilling) requeueDeferred(ctx context.Context, res *ReconcileResult) error {
	deferred, err := h.inbox.Deferred(ctx, maxRequeue)
	if err != nil {
		return err
	}
	for _, id := range deferred {
		msg, err := ports.NewMessage(ports.TopicBillingEvent, ports.BillingEventMessage{EventID: id})
		if err != nil {
			return err
		}
		err = h.uow.Do(ctx, func(ctx context.Context, tx ports.BillingInboxTx) error {
			return tx.Publisher().Publish(ctx, msg)
		})
		if err != nil {
			return err
		}
		res.Requeued++
	}
	return nil
}

// Job returns the runner of the daily reconciliation over
// DefaultReconcileWindow, with its counts as the run's summary; it is
// recorded as skipped without billing.
func (h ReconcileBilling) Job(clock ports.Clock) JobFunc {
	return func(ctx context.Context) (map[string]any, error) {
		res, err := h.Handle(ctx, ReconcileBillingInput{Since: clock.Now().Add(-DefaultReconcileWindow)})
		if errors.Is(err, ports.ErrNotConfigured) {
			return skipped("not configured"), nil
		}
		return map[string]any{"outcome": "reconciled", "seen": res.Seen, "present": res.Present, "enqueued": res.Enqueued, "requeued": res.Requeued}, err
	}
}

package application

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/womendefiningai/platform/ports"
)

// waitingEvents are the stored billing events that wait: deferred ones and
// ones stuck in 'received'. Reconciliation queues the due ones again and
// expires those deferred for too long.
type waitingEvents struct {
	uow      ports.UnitOfWork[ports.BillingInboxTx]
	alerter  ports.Alerter
	settings RequeueSettings
}

// requeueDue claims the due waiting events and queues them, in one
// transaction: a claimed event is queued if, and only if, its claim commits.
func (h waitingEvents) requeueDue(ctx context.Context, res *ReconcileResult) error {
	var n int
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.BillingInboxTx) error {
		ids, err := tx.BillingInbox().ClaimDue(ctx, h.settings.RequeuePolicy)
		if err != nil {
			return err
		}
		n = len(ids)
		return publishBillingEvents(ctx, tx.Publisher(), ids)
	})
	if err == nil {
		res.Requeued = n
	}
	return err
}

// publishBillingEvents queues the processing of stored events in one call.
func publishBillingEvents(ctx context.Context, pub ports.Publisher, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	msgs := make([]ports.Message, 0, len(ids))
	for _, id := range ids {
		msg, err := ports.NewMessage(ports.TopicBillingEvent, ports.BillingEventMessage{EventID: id})
		if err != nil {
			return err
		}
		msgs = append(msgs, msg)
	}
	return pub.Publish(ctx, msgs...)
}

// maxAlertIDs bounds the event ids one expiry alert names.
const maxAlertIDs = 10

// expire gives up on the events deferred past the limit and raises one
// alert for them, before the expiry commits: if the alert fails, nothing
// expires and the next run tries again.
func (h waitingEvents) expire(ctx context.Context, res *ReconcileResult) error {
	note := fmt.Sprintf("expired: still deferred after %v", h.settings.ExpireAfter)
	var expired int
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.BillingInboxTx) error {
		ids, err := tx.BillingInbox().Expire(ctx, h.settings.ExpireAfter, note)
		if err != nil || len(ids) == 0 {
			return err
		}
		named := ids[:min(len(ids), maxAlertIDs)]
		err = h.alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "Billing events expired unprocessed",
			Detail: fmt.Sprintf("%d billing events stayed deferred for more than %v (no person is linked to their customer) and will not be retried. "+
				"Link the customer to a person and replay them, or leave them.", len(ids), h.settings.ExpireAfter),
			Fields: map[string]string{"count": strconv.Itoa(len(ids)), "event_ids": strings.Join(named, ",")}})
		if err != nil {
			return fmt.Errorf("%d billing events would expire, but the alert failed: %w", len(ids), err)
		}
		expired = len(ids)
		return nil
	})
	if err == nil {
		res.Expired = expired
	}
	return err
}

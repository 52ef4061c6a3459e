package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// Billing event types we act on; everything else is recorded as ignored.
const (
	EventSubscriptionCreated = "customer.subscription.created"
	EventSubscriptionUpdated = "customer.subscription.updated"
	EventSubscriptionDeleted = "customer.subscription.deleted"
	EventCheckoutCompleted   = "checkout.session.completed"
	EventPaymentFailed       = "invoice.payment_failed"
)

// HandledBillingEvents lists the types the worker acts on (and that
// reconciliation fetches).
var HandledBillingEvents = []string{EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionDeleted, EventCheckoutCompleted, EventPaymentFailed}

// Reasons carried by member.changed.
const (
	ReasonSubscriptionSync = "subscription_sync"
	ReasonPaymentFailed    = "payment_failed"
	ReasonPeriodEnd        = "period_end"
	ReasonVisibility       = "visibility"
)

// MemberChanged is the body of a member.changed message: which person, why,
// and the domain events (by name) the change caused.
type MemberChanged struct {
	PersonID string   `json:"person_id"`
	Reason   string   `json:"reason"`
	Events   []string `json:"events"`
	Attempt  int      `json:"attempt,omitempty"`
}

// BillingEventMessage is the body of a stripe.event message.
type BillingEventMessage struct {
	EventID string `json:"event_id"`
}

// PeriodEndMessage is the body of a membership.period_end message.
type PeriodEndMessage struct {
	PersonID       string    `json:"person_id"`
	SubscriptionID string    `json:"subscription_id"`
	At             time.Time `json:"at"`
}

// BillingConfig holds the URLs checkout and the portal send people back to.
type BillingConfig struct {
	CheckoutSuccessURL string
	CheckoutCancelURL  string
	PortalReturnURL    string
}

// BillingHandler runs the membership lifecycle from billing: ingesting
// events, syncing subscriptions, checkout, the portal and reconciliation.
type BillingHandler struct {
	billing     ports.Billing // nil when billing is not configured
	uow         ports.UnitOfWork
	tiers       ports.TierCatalog
	people      ports.People
	memberships ports.Memberships
	inbox       ports.BillingInbox
	ingest      ports.BillingIngest
	alerter     ports.Alerter
	clock       ports.Clock
	cfg         BillingConfig
}

// BillingDeps are the BillingHandler's dependencies. Billing may be nil
// (not configured); the others are required.
type BillingDeps struct {
	Billing     ports.Billing
	UoW         ports.UnitOfWork
	Tiers       ports.TierCatalog
	People      ports.People
	Memberships ports.Memberships
	Inbox       ports.BillingInbox
	Ingest      ports.BillingIngest
	Alerter     ports.Alerter
	Clock       ports.Clock
	Config      BillingConfig
}

// NewBillingHandler refuses missing dependencies.
func NewBillingHandler(d BillingDeps) (BillingHandler, error) {
	if d.UoW == nil || d.Tiers == nil || d.People == nil || d.Memberships == nil || d.Inbox == nil || d.Ingest == nil || d.Alerter == nil || d.Clock == nil {
		return BillingHandler{}, errors.New("application: billing: nil dependency")
	}
	return BillingHandler{billing: d.Billing, uow: d.UoW, tiers: d.Tiers, people: d.People, memberships: d.Memberships,
		inbox: d.Inbox, ingest: d.Ingest, alerter: d.Alerter, clock: d.Clock, cfg: d.Config}, nil
}

// Ingest stores a verified event and queues its processing in one
// transaction. It reports false for an event id already stored.
func (h BillingHandler) Ingest(ctx context.Context, ev ports.BillingEvent, source string) (bool, error) {
	if ev.ID == "" || ev.Type == "" {
		return false, fmt.Errorf("%w: billing event without id or type", ErrInvalidInput)
	}
	body, _ := json.Marshal(BillingEventMessage{EventID: ev.ID})
	return h.ingest.Ingest(ctx, ev, source, ports.Message{Topic: ports.TopicStripeEvent, Payload: body})
}

// errDeferred says an event cannot be applied yet (no person is linked to
// its customer); it is recorded, acknowledged, and applied when the
// checkout links the customer (which re-syncs the subscription).
var errDeferred = errors.New("deferred")

// Process handles one stripe.event message.
func (h BillingHandler) Process(ctx context.Context, msg ports.Message) error {
	var body BillingEventMessage
	if err := json.Unmarshal(msg.Payload, &body); err != nil || body.EventID == "" {
		return ports.Permanent(fmt.Errorf("malformed stripe.event message: %w", err))
	}
	ev, err := h.inbox.Get(ctx, body.EventID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Permanent(fmt.Errorf("billing event %s is not in the inbox", body.EventID))
	}
	if err != nil {
		return err
	}
	if ev.Status == ports.InboxProcessed || ev.Status == ports.InboxIgnored {
		return nil // a redelivered message
	}
	if h.billing == nil {
		return h.inbox.Mark(ctx, ev.ID, ports.InboxDeferred, "billing not configured")
	}
	status, note := ports.InboxProcessed, ""
	switch ev.Type {
	case EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionDeleted:
		err = h.SyncSubscription(ctx, ev.SubscriptionID, "", ReasonSubscriptionSync)
	case EventCheckoutCompleted:
		err = h.completeCheckout(ctx, ev.BillingEvent)
	case EventPaymentFailed:
		err = h.paymentFailed(ctx, ev.BillingEvent)
	default:
		status, note = ports.InboxIgnored, "event type not handled"
	}
	if errors.Is(err, errDeferred) {
		status, note, err = ports.InboxDeferred, err.Error(), nil
	}
	if err != nil {
		return err
	}
	return h.inbox.Mark(ctx, ev.ID, status, note)
}

// SyncSubscription fetches the subscription from billing (the truth, at
// our pinned API version), locks the person's membership and applies it as
// a snapshot. Duplicates and out-of-order deliveries converge, because every
// sync applies the provider's current state, stamped with the time of the
// fetch, and a stale one is ignored.
func (h BillingHandler) SyncSubscription(ctx context.Context, subscriptionID, personHint, reason string) error {
	if subscriptionID == "" {
		return nil
	}
	if h.billing == nil {
		return ports.ErrNotConfigured
	}
	taken := h.clock.Now()
	sub, err := h.billing.GetSubscription(ctx, subscriptionID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Permanent(fmt.Errorf("subscription %s does not exist at the billing provider", subscriptionID))
	}
	if err != nil {
		return fmt.Errorf("fetch subscription: %w", err)
	}
	personID, err := h.personFor(ctx, sub, personHint)
	if err != nil {
		return err
	}
	tier, unknownPrice, err := h.tierFor(ctx, sub.PriceID)
	if err != nil {
		return err
	}
	snap, err := membership.NewSnapshot(membership.SnapshotParams{
		SubscriptionID: sub.ID, Status: sub.Status, Tier: tier, CancelAtPeriodEnd: sub.CancelAtPeriodEnd,
		CurrentPeriodEnd: sub.CurrentPeriodEnd, TakenAt: taken, PaymentAttempt: sub.LatestInvoiceAttempt,
	})
	if err != nil {
		return ports.Permanent(fmt.Errorf("subscription %s: %w", sub.ID, err))
	}
	var applied bool
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var events []membership.Event
		err := tx.Memberships().Update(ctx, personID, func(m *membership.Membership) error {
			var err error
			events, err = m.ApplySnapshot(snap)
			var stale membership.StaleSnapshotError
			if errors.As(err, &stale) {
				events = nil
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
		applied = len(events) > 0
		return h.publishChanges(ctx, tx, personID, reason, events, 0, map[string]any{"subscription_id": sub.ID, "status": sub.Status.String()})
	})
	if err != nil {
		return err
	}
	if unknownPrice && applied {
		_ = h.alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "Subscription price maps to no tier",
			Detail: "A membership was recorded with tier \"unknown\". Map the price to a tier in membership_tiers.",
			Fields: map[string]string{"subscription_id": sub.ID, "price_id": sub.PriceID, "person_id": personID}})
	}
	return nil
}

// publishChanges queues member.changed for the events, schedules the period
// end for a scheduled cancellation, and audits the change.
func (h BillingHandler) publishChanges(ctx context.Context, tx ports.Tx, personID, reason string, events []membership.Event, attempt int, details map[string]any) error {
	if len(events) == 0 {
		return nil
	}
	names := make([]string, 0, len(events))
	for _, e := range events {
		names = append(names, e.Name())
		if sched, ok := e.(membership.CancellationScheduled); ok {
			body, _ := json.Marshal(PeriodEndMessage{PersonID: personID, SubscriptionID: fmt.Sprint(details["subscription_id"]), At: sched.At})
			if err := tx.Scheduler().ScheduleAt(ctx, ports.TopicMembershipPeriodEnd, body, sched.At); err != nil {
				return err
			}
		}
	}
	body, _ := json.Marshal(MemberChanged{PersonID: personID, Reason: reason, Events: names, Attempt: attempt})
	if err := tx.Publisher().Publish(ctx, ports.Message{Topic: ports.TopicMemberChanged, Payload: body}); err != nil {
		return err
	}
	system, _ := access.NewSystem("billing")
	details["events"] = names
	details["reason"] = reason
	return tx.Audit().Record(ctx, actor(system, ports.AuditEntry{Action: "membership.change", SubjectKind: "person", SubjectID: personID,
		Outcome: ports.OutcomeSuccess, Details: details}))
}

func (h BillingHandler) personFor(ctx context.Context, sub ports.BillingSubscription, hint string) (string, error) {
	if hint != "" {
		return hint, nil
	}
	id, err := h.memberships.PersonForSubscription(ctx, sub.ID)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, ports.ErrNotFound) {
		return "", err
	}
	p, err := h.people.GetByBillingCustomer(ctx, sub.CustomerID)
	if errors.Is(err, ports.ErrNotFound) {
		return "", fmt.Errorf("%w: no person is linked to customer %s yet", errDeferred, sub.CustomerID)
	}
	return p.ID, err
}

func (h BillingHandler) tierFor(ctx context.Context, priceID string) (membership.Tier, bool, error) {
	t, err := h.tiers.TierForPrice(ctx, priceID)
	if errors.Is(err, ports.ErrNotFound) {
		return membership.UnknownTier(), true, nil
	}
	if err != nil {
		return membership.Tier{}, false, err
	}
	tier, err := membership.NewTier(t.ID)
	return tier, false, err
}

// completeCheckout links the person (our id travels in
// client_reference_id; matching by email is the audited fallback, and a
// person is created when none exists) to the customer, then syncs the
// subscription.
func (h BillingHandler) completeCheckout(ctx context.Context, ev ports.BillingEvent) error {
	var personID, conflict string
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		how := "client_reference_id"
		p, err := tx.People().Get(ctx, ev.ClientReferenceID)
		if errors.Is(err, ports.ErrNotFound) && ev.CustomerEmail != "" {
			how = "email"
			p, err = tx.People().GetByEmail(ctx, ev.CustomerEmail)
			if errors.Is(err, ports.ErrNotFound) {
				how = "created"
				first, last, _ := strings.Cut(strings.TrimSpace(ev.CustomerName), " ")
				p, err = tx.People().Create(ctx, ev.CustomerEmail, first, last)
			}
		}
		if errors.Is(err, ports.ErrNotFound) {
			return ports.Permanent(fmt.Errorf("checkout %s names no known person and carries no email", ev.ID))
		}
		if err != nil {
			return err
		}
		personID = p.ID
		if p.BillingCustomerID == ev.CustomerID || ev.CustomerID == "" {
			return nil // already linked: a redelivery
		}
		if p.BillingCustomerID != "" {
			// A second customer for one person (two checkouts at once): keep
			// the first link, so the portal still reaches the first
			// subscription, and tell an operator to refund one.
			conflict = p.BillingCustomerID
			return nil
		}
		if err := tx.People().SetBillingCustomer(ctx, p.ID, ev.CustomerID); err != nil {
			return err
		}
		system, _ := access.NewSystem("billing")
		return tx.Audit().Record(ctx, actor(system, ports.AuditEntry{Action: "billing.link_customer", SubjectKind: "person", SubjectID: p.ID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"customer_id": ev.CustomerID, "matched_by": how, "event_id": ev.ID}}))
	})
	if err != nil {
		return err
	}
	if conflict != "" {
		_ = h.alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "A person completed a checkout with a second billing customer",
			Detail: "The first customer stays linked. Refund and cancel one of the two subscriptions.",
			Fields: map[string]string{"person_id": personID, "linked_customer": conflict, "new_customer": ev.CustomerID, "event_id": ev.ID}})
	}
	return h.SyncSubscription(ctx, ev.SubscriptionID, personID, ReasonSubscriptionSync)
}

// paymentFailed syncs the subscription (past_due) and notifies the member
// once per (invoice, attempt).
func (h BillingHandler) paymentFailed(ctx context.Context, ev ports.BillingEvent) error {
	if err := h.SyncSubscription(ctx, ev.SubscriptionID, "", ReasonSubscriptionSync); err != nil {
		return err
	}
	personID, err := h.memberships.PersonForSubscription(ctx, ev.SubscriptionID)
	if errors.Is(err, ports.ErrNotFound) {
		p, perr := h.people.GetByBillingCustomer(ctx, ev.CustomerID)
		if errors.Is(perr, ports.ErrNotFound) {
			return fmt.Errorf("%w: no person is linked to customer %s yet", errDeferred, ev.CustomerID)
		}
		personID, err = p.ID, perr
	}
	if err != nil {
		return err
	}
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		first, err := tx.BillingInbox().NoteFailureNotice(ctx, ev.InvoiceID, ev.AttemptCount, personID)
		if err != nil || !first {
			return err
		}
		body, _ := json.Marshal(MemberChanged{PersonID: personID, Reason: ReasonPaymentFailed, Events: []string{membership.NamePaymentFailed}, Attempt: ev.AttemptCount})
		return tx.Publisher().Publish(ctx, ports.Message{Topic: ports.TopicMemberChanged, Payload: body})
	})
}

// ReachPeriodEnd handles membership.period_end: it re-syncs the
// subscription, then ends the membership if its scheduled cancellation is
// due. Whichever comes first, this or the provider's deletion, the end state
// is the same and Canceled is emitted once.
func (h BillingHandler) ReachPeriodEnd(ctx context.Context, msg ports.Message) error {
	var body PeriodEndMessage
	if err := json.Unmarshal(msg.Payload, &body); err != nil || body.PersonID == "" {
		return ports.Permanent(fmt.Errorf("malformed membership.period_end message: %w", err))
	}
	if h.billing != nil {
		if err := h.SyncSubscription(ctx, body.SubscriptionID, body.PersonID, ReasonPeriodEnd); err != nil && !errors.Is(err, errDeferred) {
			return err
		}
	}
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var events []membership.Event
		err := tx.Memberships().Update(ctx, body.PersonID, func(m *membership.Membership) error {
			var err error
			events, err = m.ReachPeriodEnd(h.clock.Now())
			if errors.Is(err, membership.ErrNoScheduledCancellation) || errors.Is(err, membership.ErrPeriodNotEnded) {
				events = nil
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
		return h.publishChanges(ctx, tx, body.PersonID, ReasonPeriodEnd, events, 0, map[string]any{"subscription_id": body.SubscriptionID})
	})
}

// StartCheckout returns a hosted checkout URL for the signed-in person to
// join a tier.
func (h BillingHandler) StartCheckout(ctx context.Context, tierID string) (string, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return "", err
	}
	if h.billing == nil {
		return "", ports.ErrNotConfigured
	}
	tier, err := h.tiers.GetTier(ctx, tierID)
	if err != nil {
		return "", err
	}
	if tier.StripePriceID == "" || strings.HasPrefix(tier.StripePriceID, "price_placeholder") {
		return "", fmt.Errorf("%w: tier %s has no price configured", ErrInvalidInput, tier.ID)
	}
	person, err := h.people.Get(ctx, p.ID())
	if err != nil {
		return "", err
	}
	return h.billing.CreateCheckoutSession(ctx, ports.CheckoutRequest{
		PriceID: tier.StripePriceID, CustomerID: person.BillingCustomerID, CustomerEmail: person.PrimaryEmail,
		ClientReferenceID: person.ID, SuccessURL: h.cfg.CheckoutSuccessURL, CancelURL: h.cfg.CheckoutCancelURL,
	})
}

// OpenBillingPortal returns a customer portal URL for the signed-in person.
func (h BillingHandler) OpenBillingPortal(ctx context.Context) (string, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return "", err
	}
	if h.billing == nil {
		return "", ports.ErrNotConfigured
	}
	person, err := h.people.Get(ctx, p.ID())
	if err != nil {
		return "", err
	}
	if person.BillingCustomerID == "" {
		return "", fmt.Errorf("%w: you have no billing account yet; join a tier first", ErrInvalidInput)
	}
	return h.billing.CreatePortalSession(ctx, person.BillingCustomerID, h.cfg.PortalReturnURL)
}

// DefaultReconcileWindow is how far back the daily reconciliation looks.
const DefaultReconcileWindow = 72 * time.Hour

// ReconcileResult counts what a reconciliation saw.
type ReconcileResult struct {
	Seen     int
	Present  int
	Enqueued int
	// Requeued counts deferred events queued again (their customer may be
	// linked by now, or billing configured).
	Requeued int
}

// maxRequeue bounds the deferred events one reconciliation re-queues.
const maxRequeue = 1000

// Reconcile pages through the provider's events since the given time and
// feeds every one missing from the inbox through the same path as a
// webhook. With dryRun it only counts. progress, if set, is called per event.
func (h BillingHandler) Reconcile(ctx context.Context, since time.Time, dryRun bool, progress func(ReconcileResult)) (ReconcileResult, error) {
	var res ReconcileResult
	if h.billing == nil {
		return res, ports.ErrNotConfigured
	}
	err := h.billing.ListEvents(ctx, since, HandledBillingEvents, func(ev ports.BillingEvent) error {
		res.Seen++
		have, err := h.inbox.Has(ctx, []string{ev.ID})
		if err != nil {
			return err
		}
		switch {
		case have[ev.ID]:
			res.Present++
		case dryRun:
			res.Enqueued++
		default:
			inserted, err := h.Ingest(ctx, ev, "reconcile")
			if err != nil {
				return err
			}
			if inserted {
				res.Enqueued++
			} else {
				res.Present++ // a webhook got there meanwhile
			}
		}
		if progress != nil {
			progress(res)
		}
		return nil
	})
	if err != nil || dryRun {
		return res, err
	}
	deferred, err := h.inbox.Deferred(ctx, maxRequeue)
	if err != nil {
		return res, err
	}
	for _, id := range deferred {
		body, _ := json.Marshal(BillingEventMessage{EventID: id})
		err := h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Publisher().Publish(ctx, ports.Message{Topic: ports.TopicStripeEvent, Payload: body})
		})
		if err != nil {
			return res, err
		}
		res.Requeued++
	}
	return res, nil
}

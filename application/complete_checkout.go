package application

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/womendefiningai/platform/ports"
)

// CompleteCheckout links the person who finished a checkout to the billing
// customer, then syncs the subscription. Our person id travels with the
// checkout; matching by email is the audited fallback, and a person is
// created when none exists.
type CompleteCheckout struct {
	uow     ports.UnitOfWork[ports.CustomerLinkTx]
	sync    SyncSubscription
	alerter ports.Alerter
}

// NewCompleteCheckout refuses nil dependencies.
func NewCompleteCheckout(uow ports.UnitOfWork[ports.CustomerLinkTx], sync SyncSubscription, alerter ports.Alerter) (CompleteCheckout, error) {
	if anyNil(uow, alerter) {
		return CompleteCheckout{}, nilDependency("complete checkout")
	}
	return CompleteCheckout{uow: uow, sync: sync, alerter: alerter}, nil
}

// Handle applies a checkout-completed event.
func (h CompleteCheckout) Handle(ctx context.Context, ev ports.BillingEvent) error {
	var personID, conflict string
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.CustomerLinkTx) error {
		p, how, err := checkoutPerson(ctx, tx.People(), ev)
		if err != nil {
			return err
		}
		personID = p.ID
		switch {
		case p.BillingCustomerID == ev.CustomerID || ev.CustomerID == "":
			return nil // already linked: a redelivery
		case p.BillingCustomerID != "":
			// A second customer for one person (two checkouts at once): keep
			// the first link, so the portal still reaches the first
			// subscription, and tell an operator to refund one.
			conflict = p.BillingCustomerID
			return nil
		}
		if err := tx.People().SetBillingCustomer(ctx, p.ID, ev.CustomerID); err != nil {
			return err
		}
		// The customer's events that waited for this link are queued again
		// with it: the link and their processing commit together.
		waiting, err := tx.BillingInbox().ClaimCustomer(ctx, ev.CustomerID, DefaultRequeue.RequeuePolicy)
		if err != nil {
			return err
		}
		if err := publishBillingEvents(ctx, tx.Publisher(), waiting); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(billingSystem, ports.AuditEntry{Action: "billing.link_customer", SubjectKind: "person", SubjectID: p.ID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"customer_id": ev.CustomerID, "matched_by": how, "event_id": ev.ID}}))
	})
	if err != nil {
		return err
	}
	if conflict != "" {
		err := h.alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "A person completed a checkout with a second billing customer",
			Detail: "The first customer stays linked. Refund and cancel one of the two subscriptions.",
			Fields: map[string]string{"person_id": personID, "linked_customer": conflict, "new_customer": ev.CustomerID, "event_id": ev.ID}})
		if err != nil {
			return fmt.Errorf("checkout %s: alert about a second customer: %w", ev.ID, err)
		}
	}
	return h.sync.Handle(ctx, SyncSubscriptionInput{SubscriptionID: ev.SubscriptionID, PersonID: personID, Reason: ports.ReasonSubscriptionSync})
}

// checkoutPerson finds the person a checkout is for, and says how.
func checkoutPerson(ctx context.Context, people ports.People, ev ports.BillingEvent) (ports.Person, string, error) {
	p, err := people.Get(ctx, ev.ClientReferenceID)
	how := "client_reference_id"
	if errors.Is(err, ports.ErrNotFound) && ev.CustomerEmail != "" {
		how = "email"
		p, err = people.GetByEmail(ctx, ev.CustomerEmail)
		if errors.Is(err, ports.ErrNotFound) {
			how = "created"
			first, last, _ := strings.Cut(strings.TrimSpace(ev.CustomerName), " ")
			p, err = people.Create(ctx, ev.CustomerEmail, first, last)
		}
	}
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return p, how, ports.Permanent(fmt.Errorf("checkout %s names no known person and carries no email", ev.ID))
	case errors.Is(err, ports.ErrAmbiguous):
		// Linking the customer to one of them would be a guess that hands
		// a paid membership to the wrong person: an operator decides.
		return p, how, ports.Permanent(fmt.Errorf("checkout %s: its email matches several people: %w", ev.ID, err))
	}
	return p, how, err
}

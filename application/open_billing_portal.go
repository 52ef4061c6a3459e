package application

import (
	"context"

	"github.com/womendefiningai/platform/ports"
)

// OpenBillingPortal returns a billing portal URL for the signed-in person.
type OpenBillingPortal struct {
	billing   ports.Billing
	people    ports.PersonReader
	returnURL string
}

// NewOpenBillingPortal refuses nil dependencies.
func NewOpenBillingPortal(billing ports.Billing, people ports.PersonReader, returnURL string) (OpenBillingPortal, error) {
	if anyNil(billing, people) {
		return OpenBillingPortal{}, nilDependency("open billing portal")
	}
	return OpenBillingPortal{billing: billing, people: people, returnURL: returnURL}, nil
}

// Handle opens the portal of the person's billing customer.
func (h OpenBillingPortal) Handle(ctx context.Context) (string, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return "", err
	}
	if !h.billing.Configured() {
		return "", notConfigured(h.billing)
	}
	person, err := h.people.Get(ctx, p.ID())
	if err != nil {
		return "", err
	}
	if person.BillingCustomerID == "" {
		return "", invalid("you have no billing account yet; join a tier first")
	}
	return h.billing.CreatePortalSession(ctx, person.BillingCustomerID, h.returnURL)
}

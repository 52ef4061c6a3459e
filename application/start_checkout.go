package application

import (
	"context"

	"github.com/womendefiningai/platform/ports"
)

// CheckoutURLs are where the hosted checkout sends people back to.
type CheckoutURLs struct {
	Success string
	Cancel  string
}

// StartCheckout returns a hosted checkout URL for the signed-in person to
// join a tier.
type StartCheckout struct {
	billing ports.Billing
	tiers   ports.TierCatalog
	people  ports.PersonReader
	urls    CheckoutURLs
}

// NewStartCheckout refuses nil dependencies.
func NewStartCheckout(billing ports.Billing, tiers ports.TierCatalog, people ports.PersonReader, urls CheckoutURLs) (StartCheckout, error) {
	if anyNil(billing, tiers, people) {
		return StartCheckout{}, nilDependency("start checkout")
	}
	return StartCheckout{billing: billing, tiers: tiers, people: people, urls: urls}, nil
}

// Handle starts a checkout of the tier with that id. The customer is reused
// when the person has one, and our person id travels with the checkout.
func (h StartCheckout) Handle(ctx context.Context, tierID string) (string, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return "", err
	}
	if !h.billing.Configured() {
		return "", ports.ErrNotConfigured
	}
	tier, err := h.tiers.GetTier(ctx, tierID)
	if err != nil {
		return "", err
	}
	if tier.PriceID == "" {
		return "", invalid("tier %s has no price configured", tier.ID)
	}
	person, err := h.people.Get(ctx, p.ID())
	if err != nil {
		return "", err
	}
	return h.billing.CreateCheckoutSession(ctx, ports.CheckoutRequest{
		PriceID: tier.PriceID, CustomerID: person.BillingCustomerID, CustomerEmail: person.PrimaryEmail,
		ClientReferenceID: person.ID, SuccessURL: h.urls.Success, CancelURL: h.urls.Cancel,
	})
}

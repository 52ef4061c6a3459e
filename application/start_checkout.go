package application

import (
	"context"
	"errors"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// CheckoutURLs are where the hosted checkout sends people back to.
type CheckoutURLs struct {
	Success string
	Cancel  string
}

// CheckoutLifetime is how long a started checkout stays open with the
// provider (providers allow up to a day).
const CheckoutLifetime = 23 * time.Hour

// CheckoutReuseMargin is the least time an open checkout must have left to
// be handed out again: enough for the person to fill in the page.
const CheckoutReuseMargin = time.Hour

// StartCheckoutDeps are the ports StartCheckout uses.
type StartCheckoutDeps struct {
	Billing ports.Billing
	Tiers   ports.TierCatalog
	People  ports.PersonReader
	// Checkouts remembers open checkouts for reuse.
	Checkouts ports.OpenCheckouts
	Clock     ports.Clock
	URLs      CheckoutURLs
}

// StartCheckout returns a hosted checkout URL for the signed-in person to
// join a tier. The person's open checkout of the tier is reused while they
// are the same billing customer, so asking again (or many times in one
// request) creates no new provider session.
type StartCheckout struct {
	d StartCheckoutDeps
}

// NewStartCheckout refuses nil dependencies.
func NewStartCheckout(d StartCheckoutDeps) (StartCheckout, error) {
	if anyNil(d.Billing, d.Tiers, d.People, d.Checkouts, d.Clock) {
		return StartCheckout{}, nilDependency("start checkout")
	}
	return StartCheckout{d: d}, nil
}

// Handle starts a checkout of the tier with that id, or hands out the
// person's open one. A new one reuses the person's customer when they have
// one, and our person id travels with it.
func (h StartCheckout) Handle(ctx context.Context, tierID string) (string, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return "", err
	}
	if !h.d.Billing.Configured() {
		return "", notConfigured(h.d.Billing)
	}
	tier, err := h.d.Tiers.GetTier(ctx, tierID)
	if err != nil {
		return "", err
	}
	if tier.PriceID == "" {
		return "", invalid("tier %s has no price configured", tier.ID)
	}
	person, err := h.d.People.Get(ctx, p.ID())
	if err != nil {
		return "", err
	}
	now := h.d.Clock.Now()
	// A checkout made before the person became a customer (typically the
	// one they completed) is not handed out again.
	open, err := h.d.Checkouts.OpenCheckout(ctx, person.ID, tier.ID, now.Add(CheckoutReuseMargin))
	switch {
	case err == nil && open.CustomerID == person.BillingCustomerID:
		return open.URL, nil
	case err != nil && !errors.Is(err, ports.ErrNotFound):
		return "", err
	}
	expires := now.Add(CheckoutLifetime).Truncate(time.Second)
	url, err := h.d.Billing.CreateCheckoutSession(ctx, ports.CheckoutRequest{
		PriceID: tier.PriceID, CustomerID: person.BillingCustomerID, CustomerEmail: person.PrimaryEmail,
		ClientReferenceID: person.ID, SuccessURL: h.d.URLs.Success, CancelURL: h.d.URLs.Cancel, ExpiresAt: expires,
	})
	if err != nil {
		return "", err
	}
	// The session exists now: failing to remember it only costs a new one
	// next time, so the person still gets the URL.
	_ = h.d.Checkouts.SaveOpenCheckout(ctx, ports.OpenCheckout{PersonID: person.ID, TierID: tier.ID, CustomerID: person.BillingCustomerID,
		URL: url, ExpiresAt: expires})
	return url, nil
}

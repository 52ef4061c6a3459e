package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/checkouts.go -package=mocks . OpenCheckouts

// OpenCheckout is a hosted checkout started for a person and a tier. It can
// be handed out again until it expires.
type OpenCheckout struct {
	PersonID string
	TierID   string
	// CustomerID is the person's billing customer the checkout was made
	// for, "" when they had none yet.
	CustomerID string
	URL        string
	ExpiresAt  time.Time
}

// OpenCheckouts remembers each person's latest checkout per tier, so that
// asking again reuses it instead of creating another with the provider.
type OpenCheckouts interface {
	// OpenCheckout returns the person's checkout of the tier that is still
	// open at the given time, or ErrNotFound.
	OpenCheckout(ctx context.Context, personID, tierID string, at time.Time) (OpenCheckout, error)
	// SaveOpenCheckout records a started checkout, replacing the person's
	// previous one for the tier.
	SaveOpenCheckout(ctx context.Context, c OpenCheckout) error
}

package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/duplicates.go -package=mocks . DuplicateSubscriptions

// DuplicateSubscription is a set of current subscriptions one person holds
// at once (a double checkout): an operator refunds and cancels all but one.
type DuplicateSubscription struct {
	PersonID        string
	SubscriptionIDs []string // sorted
	DetectedAt      time.Time
	AlertedAt       time.Time // zero until the alert was claimed
}

// DuplicateSubscriptions records duplicate sets so that each is alerted
// once and listed for the operators.
type DuplicateSubscriptions interface {
	// Record records the set; recording the same set again changes nothing.
	Record(ctx context.Context, personID string, subscriptionIDs []string) error
	// ClaimUnalerted marks the person's sets not yet alerted as alerted and
	// returns them: of concurrent callers, one gets each set.
	ClaimUnalerted(ctx context.Context, personID string) ([]DuplicateSubscription, error)
	// Unclaim clears the mark of a set whose alert could not be sent.
	Unclaim(ctx context.Context, personID string, subscriptionIDs []string) error
	// List returns the newest sets first, at most limit.
	List(ctx context.Context, limit int) ([]DuplicateSubscription, error)
}

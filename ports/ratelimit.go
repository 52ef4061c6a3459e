package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/ratelimit.go -package=mocks . RateLimiter

// Rate is an allowance: Limit units per Period, of which all may be spent at
// once (the burst equals the limit) and which refills evenly.
type Rate struct {
	Limit  int
	Period time.Duration
}

// RateDecision is the answer to one Take.
type RateDecision struct {
	Allowed bool
	// RetryAfter is, when not allowed, how long until the units asked for
	// would be granted.
	RetryAfter time.Duration
}

// RateLimiter spends units of a caller's allowance. The state is shared by
// every replica, so a limit holds for the whole deployment, not per process.
type RateLimiter interface {
	// Take spends n units of key's allowance under rate, or none when they
	// are not all available.
	Take(ctx context.Context, key string, n int, rate Rate) (RateDecision, error)
}

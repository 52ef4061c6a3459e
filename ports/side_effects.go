package ports

import "context"

//go:generate go tool mockgen -destination=mocks/side_effects.go -package=mocks . SideEffects

// SideEffects records, under a unique key, provider calls that must happen
// at most once. Intend runs in the transaction of the decision that calls
// for the effect, before the call; a retry uses the same key.
type SideEffects interface {
	// Intend records the intent of key and reports true, or reports false
	// when the key is already recorded (an earlier or concurrent attempt
	// decided it): then the call must not be made.
	Intend(ctx context.Context, key, kind string) (bool, error)
	// Sent records that the provider accepted the call.
	Sent(ctx context.Context, key string) error
	// Release forgets the intent of a call the provider refused, so that a
	// retry may make it.
	Release(ctx context.Context, key string) error
}

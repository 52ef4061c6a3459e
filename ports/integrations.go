package ports

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

//go:generate go tool mockgen -destination=mocks/integrations.go -package=mocks . Integrations

// IntegrationState is what we last synced for a person at a provider.
type IntegrationState struct {
	PersonID   string
	Provider   string
	ExternalID string
	Status     string
	State      json.RawMessage // the provider-specific synced state
	Note       string
	SyncedAt   time.Time
	// Version is what Get returned (0: nothing stored yet). Put succeeds
	// only if the stored version is still this one.
	Version int64
}

// ErrStaleState is returned by Put when another writer changed the state
// since it was read: read again and redo the work (it is retryable).
var ErrStaleState = errors.New("integration state changed since it was read")

// Integrations stores IntegrationState per person and provider.
type Integrations interface {
	// Get returns ErrNotFound when nothing was synced yet.
	Get(ctx context.Context, personID, provider string) (IntegrationState, error)
	// GetMany returns the provider's states of the given people (a page),
	// by person id; people with nothing synced are absent.
	GetMany(ctx context.Context, provider string, personIDs []string) (map[string]IntegrationState, error)
	// Put stores s if the stored version is still s.Version, and returns
	// the new version; otherwise ErrStaleState.
	Put(ctx context.Context, s IntegrationState) (int64, error)
}

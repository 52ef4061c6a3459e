package ports

import (
	"context"
	"encoding/json"
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
}

// Integrations stores IntegrationState per person and provider.
type Integrations interface {
	// Get returns ErrNotFound when nothing was synced yet.
	Get(ctx context.Context, personID, provider string) (IntegrationState, error)
	// GetAll returns every state of the provider, by person id.
	GetAll(ctx context.Context, provider string) (map[string]IntegrationState, error)
	Put(ctx context.Context, s IntegrationState) error
}

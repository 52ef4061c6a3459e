package ports

import (
	"context"
	"errors"
	"time"
)

// ErrAgentKeyNameTaken means an active key already has that name.
var ErrAgentKeyNameTaken = errors.New("an active agent key already has that name")

//go:generate go tool mockgen -destination=mocks/agent_keys.go -package=mocks . AgentKeys,AgentKeyTx

// AgentKey is a stored agent key: everything but its secret, of which only
// SecretHash (SHA-256) is kept.
type AgentKey struct {
	Prefix         string
	SecretHash     []byte
	Name           string
	Scopes         []string
	AllowMutations bool
	RatePerMinute  int
	ExpiresAt      *time.Time
	CreatedBy      string
	CreatedAt      time.Time
	RevokedAt      *time.Time
	LastUsedAt     *time.Time
}

// AgentKeys stores agent keys. Get answers ErrNotFound for an unknown
// prefix; Create answers ErrAgentKeyNameTaken when an active key has that name.
type AgentKeys interface {
	Create(ctx context.Context, k AgentKey) (AgentKey, error)
	Get(ctx context.Context, prefix string) (AgentKey, error)
	// List returns every key, newest first, revoked ones included.
	List(ctx context.Context) ([]AgentKey, error)
	// Revoke marks the key revoked by whom; ErrNotFound when it is unknown
	// or already revoked.
	Revoke(ctx context.Context, prefix, by string) (AgentKey, error)
	// Touch sets last_used_at of the keys to at (only moving it forward).
	Touch(ctx context.Context, prefixes []string, at time.Time) error
}

// AgentKeyTx creates and revokes keys and audits it.
type AgentKeyTx interface {
	Audited
	AgentKeys() AgentKeys
}

package ports

import (
	"context"
	"errors"
	"time"
)

//go:generate go tool mockgen -destination=mocks/identity.go -package=mocks . SessionVerifier,IdentityDirectory

// ErrInvalidToken is returned (wrapped, with the reason) for a session token
// that is malformed, forged, expired, not yet valid, from the wrong issuer or
// signed by an unknown key.
var ErrInvalidToken = errors.New("invalid session token")

// Session is a verified sign-in.
type Session struct {
	UserID    string // the identity provider's user id
	SessionID string
	ExpiresAt time.Time
}

// SessionVerifier checks a bearer token from the frontend. Unconfigured,
// Verify returns ErrNotConfigured.
type SessionVerifier interface {
	Configurable
	Verify(ctx context.Context, token string) (Session, error)
}

// IdentityEmail is one address of an identity-provider user.
type IdentityEmail struct {
	Address  string
	Verified bool
}

// IdentityUser is a user as the identity provider knows them.
type IdentityUser struct {
	ID           string
	Emails       []IdentityEmail
	PrimaryEmail string // one of Emails, or ""
	FirstName    string
	LastName     string
}

// IdentityDirectory looks users up at the identity provider. Unconfigured,
// GetUser returns ErrNotConfigured.
type IdentityDirectory interface {
	Configurable
	// GetUser returns ErrNotFound for an unknown id.
	GetUser(ctx context.Context, id string) (IdentityUser, error)
}

// IdentityEventType is what happened to a user at the identity provider.
type IdentityEventType string

// The identity events we act on.
const (
	IdentityUserCreated IdentityEventType = "user.created"
	IdentityUserUpdated IdentityEventType = "user.updated"
	IdentityUserDeleted IdentityEventType = "user.deleted"
)

// IdentityEvent is one verified webhook delivery. ID is stable across
// redeliveries (the deduplication key). Deleted events carry only User.ID.
type IdentityEvent struct {
	ID   string
	Type IdentityEventType // may be a type we ignore
	User IdentityUser
}

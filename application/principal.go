package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// ErrInvalidInput marks input a caller must correct (400-class).
var ErrInvalidInput = errors.New("invalid input")

type principalKey struct{}

// WithPrincipal returns ctx acting as p. Driving adapters (HTTP auth, the
// CLI, the worker) set it once; use cases read it with PrincipalFrom.
func WithPrincipal(ctx context.Context, p access.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx acts as, or the anonymous one.
func PrincipalFrom(ctx context.Context) access.Principal {
	p, ok := ctx.Value(principalKey{}).(access.Principal)
	if !ok {
		return access.Anonymous()
	}
	return p
}

// actor fills the audit entry's who from the principal.
func actor(p access.Principal, e ports.AuditEntry) ports.AuditEntry {
	e.ActorKind, e.ActorID = "anonymous", ""
	if !p.IsAnonymous() {
		e.ActorKind, e.ActorID = p.Kind().String(), p.ID()
	}
	return e
}

package application

import (
	"context"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

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

// SignedInUser returns the principal of ctx if it is a signed-in person (a
// user principal), or an error wrapping access.ErrForbidden.
func SignedInUser(ctx context.Context) (access.Principal, error) {
	p := PrincipalFrom(ctx)
	if p.IsAnonymous() || p.Kind() != access.KindUser {
		return p, fmt.Errorf("%w: sign in first", access.ErrForbidden)
	}
	return p, nil
}

// actor fills the audit entry's who from the principal.
func actor(p access.Principal, e ports.AuditEntry) ports.AuditEntry {
	e.ActorKind, e.ActorID = "anonymous", ""
	if !p.IsAnonymous() {
		e.ActorKind, e.ActorID = p.Kind().String(), p.ID()
	}
	return e
}

// systemPrincipal is the principal of work the system does on its own. The
// names are constants, so a failure is a programming error caught by the
// first test that builds the package.
func systemPrincipal(name string) access.Principal {
	p, err := access.NewSystem(name)
	if err != nil {
		panic(fmt.Sprintf("application: system principal %q: %v", name, err))
	}
	return p
}

var (
	billingSystem  = systemPrincipal("billing")
	identitySystem = systemPrincipal("identity-webhook")
)

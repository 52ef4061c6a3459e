package graph

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/womendefiningai/platform/ports"
)

// CodeProviderUnavailable says the provider behind the field (billing, the
// events platform) is down, slow past the deadline, or its circuit breaker
// is open. Retrying later may succeed: the answer is 503 with Retry-After
// and the error carries retryAfterSeconds.
const CodeProviderUnavailable = "PROVIDER_UNAVAILABLE"

// DefaultProviderCallTimeout bounds a provider call made for a request
// when ProviderCallDeadline is given no duration.
const DefaultProviderCallTimeout = 10 * time.Second

// providerRetry is the Retry-After of an unavailable provider that named
// no wait of its own.
const providerRetry = 5 * time.Second

// ProviderCallDeadline is the gqlgen extension that gives every call of a
// ProviderMutations field at most d (DefaultProviderCallTimeout when d is
// not positive): the resolver's context ends then, the provider client
// stops waiting, and the caller gets PROVIDER_UNAVAILABLE instead of
// holding a connection for the client library's own timeout (80 s for
// stripe-go).
func ProviderCallDeadline(d time.Duration) graphql.HandlerExtension {
	if d <= 0 {
		d = DefaultProviderCallTimeout
	}
	return providerDeadline{d: d}
}

type providerDeadline struct{ d time.Duration }

var (
	_ graphql.HandlerExtension     = providerDeadline{}
	_ graphql.RootFieldInterceptor = providerDeadline{}
)

func (providerDeadline) ExtensionName() string                   { return "ProviderCallDeadline" }
func (providerDeadline) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptRootField: gqlgen resolves a root field and its selection
// before this returns, so the deadline ends with the field.
func (p providerDeadline) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if !isProviderMutation(ctx) {
		return next(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, p.d)
	defer cancel()
	return next(ctx)
}

// isProviderMutation reports whether the root field of ctx is one of
// ProviderMutations in a mutation. gqlgen names the field, not its type, in
// RootFieldContext.Object; the operation says whether this is a mutation.
func isProviderMutation(ctx context.Context) bool {
	fc := graphql.GetRootFieldContext(ctx)
	return fc != nil && ProviderMutations[fc.Field.Name] && graphql.HasOperationContext(ctx) &&
		graphql.GetOperationContext(ctx).Operation != nil && graphql.GetOperationContext(ctx).Operation.Operation == ast.Mutation
}

// providerUnavailable presents a transient provider failure (or a call cut
// by its deadline) as PROVIDER_UNAVAILABLE with the wait to retry after,
// and marks the request so that its answer is 503 with Retry-After. It is
// logged as a WARN line: the provider's outage is not the server's fault,
// and the breaker and its metric already tell operators.
func providerUnavailable(ctx context.Context, logger *slog.Logger, cause error, out *gqlerror.Error) (*gqlerror.Error, bool) {
	t, transient := ports.AsTransient(cause)
	if !transient && !errors.Is(cause, context.DeadlineExceeded) {
		return nil, false
	}
	after, provider, open := providerRetry, "", false
	if transient {
		provider, open = t.Provider, t.CircuitOpen
		if t.RetryAfter > 0 {
			after = t.RetryAfter
		}
	}
	if st, _ := ctx.Value(callStateKey{}).(*callState); st != nil {
		st.unavailable(after)
	}
	logger.WarnContext(ctx, "graphql: provider unavailable", "path", out.Path.String(), "provider", provider,
		"circuit_open", open, "retry_after", after.String(), "error", cause.Error())
	out.Message = "the service behind this field is unavailable: retry after the time in Retry-After"
	out.Extensions = map[string]any{"code": CodeProviderUnavailable, "retryAfterSeconds": retrySeconds(after)}
	return out, true
}

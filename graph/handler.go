package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph/generated"
)

// Options configure the GraphQL server.
type Options struct {
	// ComplexityLimit caps the cost of one operation: its fields once every
	// fragment is expanded, a list field's selection counted once per item
	// of its page. 0 means Limits.MaxCost, else DefaultComplexityLimit.
	ComplexityLimit int
	// Limits bound the work of a request before any resolver runs; zero
	// fields take DefaultLimits.
	Limits Limits
	// Introspection enables schema introspection (development only).
	Introspection bool
	// Suggestions lets validation errors suggest field, argument, type and
	// enum names ("Did you mean ...?"): development only, they leak the schema.
	Suggestions bool
	Logger      *slog.Logger

	// Hooks for other edge concerns. Extensions are gqlgen extensions added
	// before the edge limits, so an OperationParameterMutator among them
	// (trusted documents) sees the request first; the limits still apply to
	// the document it leaves. Middleware wraps the GraphQL server inside
	// the body cap, outermost first (rate limits that answer 429).
	Extensions []graphql.HandlerExtension
	Middleware []func(http.Handler) http.Handler
}

// DefaultComplexityLimit is used when Options.ComplexityLimit is zero. A
// list field's selection counts once per item of its page, so the project's
// costliest operation (DeadLetters at its largest page of 500: 4,001) fits,
// and 30 aliased members(first: 100) pages (9,030 and up) do not.
const DefaultComplexityLimit = 5000

// Error codes in the "extensions.code" of GraphQL errors.
const (
	CodeInternal     = "INTERNAL"
	CodeForbidden    = "FORBIDDEN"
	CodeNotFound     = "NOT_FOUND"
	CodeConflict     = "CONFLICT"
	CodeBadUserInput = "BAD_USER_INPUT"
	// CodeNotConfigured: the integration behind the field has no credentials.
	CodeNotConfigured = "NOT_CONFIGURED"
	// CodeClientClosed: the client left before the answer was ready.
	CodeClientClosed = "CLIENT_CLOSED_REQUEST"
)

// NewHandler builds the GraphQL edge: the body cap, then any middleware,
// then gqlgen with explicit transports, the edge limits (checked on the
// parsed document before validation), a query cache bounded in bytes that
// holds only accepted documents, and one error presenter.
func NewHandler(app *application.App, opts Options) http.Handler {
	h, _ := newHandler(app, opts)
	return h
}

// newHandler is NewHandler that also returns the query cache (tests).
func newHandler(app *application.App, opts Options) (http.Handler, *queryCache) {
	limits := opts.Limits
	if opts.ComplexityLimit > 0 {
		limits.MaxCost = opts.ComplexityLimit
	}
	limits = limits.withDefaults()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{App: app}, Directives: NewDirectiveRoot()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	cache := newQueryCache(limits.QueryCacheBytes)
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(limits.MaxTokens)
	if !opts.Suggestions {
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	for _, ext := range opts.Extensions {
		srv.Use(ext)
	}
	srv.Use(edgeLimits{limits: limits, introspection: opts.Introspection, cache: cache})
	srv.Use(textArguments{})
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, app))
	})
	srv.SetErrorPresenter(presenter(logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		logger.ErrorContext(ctx, "graphql: panic in resolver", "panic", fmt.Sprint(v))
		return errors.New("internal error")
	})
	var h http.Handler = srv
	for i := len(opts.Middleware) - 1; i >= 0; i-- {
		h = opts.Middleware[i](h)
	}
	return limitBody(limits.MaxBodyBytes, requireJSON(h)), cache
}

// rulesWithoutSuggestions is gqlparser's default rule set with every rule
// that can suggest a name swapped for its variant that does not. gqlgen's
// own switch covers only fields and scalar leaves.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range []struct {
		old  string
		rule core.Rule
	}{
		{"FieldsOnCorrectType", rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{"ScalarLeafs", rules.ScalarLeafsRuleWithoutSuggestions},
		{"KnownArgumentNames", rules.KnownArgumentNamesRuleWithoutSuggestions},
		{"KnownTypeNames", rules.KnownTypeNamesRuleWithoutSuggestions},
		{"ValuesOfCorrectType", rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.old)
		r.AddRule(swap.rule.Name, swap.rule.RuleFunc)
	}
	return r
}

// presenter turns errors into GraphQL errors with a code. Errors that are
// already GraphQL errors (parsing, validation, complexity, or ones a resolver
// built with a code) pass through. Anything else is logged and shown as
// INTERNAL without its text, which may carry details that are not the
// caller's business.
func presenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := graphql.DefaultErrorPresenter(ctx, err)
		cause := out.Err
		var coded *gqlerror.Error
		if cause == nil || errors.As(cause, &coded) {
			return withoutEcho(out) // built by gqlgen or by a resolver, with its own code
		}
		if code, ok := codeFor(cause); ok {
			out.Message = cause.Error()
			out.Extensions = map[string]any{"code": code}
			return out
		}
		if unavailable, ok := providerUnavailable(ctx, logger, cause, out); ok {
			return unavailable // WARN: the provider's outage, not the server's fault
		}
		if errors.Is(cause, context.Canceled) && ctx.Err() != nil {
			// The client hung up: nobody reads this answer, and it is not a fault.
			logger.InfoContext(ctx, "graphql: client went away", "path", out.Path.String())
			out.Message = "request canceled"
			out.Extensions = map[string]any{"code": CodeClientClosed}
			return out
		}
		logger.ErrorContext(ctx, "graphql: resolver failed", "path", out.Path.String(), "error", cause.Error())
		out.Message = "internal error"
		out.Extensions = map[string]any{"code": CodeInternal}
		return out
	}
}

// gqlgen's POST transport puts the whole body that failed to decode into
// its message; the caller sent it, so it only costs bandwidth and log
// space. The edge answers without it.
const undecodablePrefix = "json request body could not be decoded"

func withoutEcho(e *gqlerror.Error) *gqlerror.Error {
	if strings.HasPrefix(e.Message, undecodablePrefix) || strings.HasPrefix(e.Message, "could not read request body") {
		return &gqlerror.Error{Message: "the body is not a JSON GraphQL request ({\"query\": \"...\", \"variables\": {...}})",
			Extensions: map[string]any{"code": CodeBadRequest}}
	}
	return e
}

// codeFor maps the errors callers can act on to GraphQL error codes.
func codeFor(err error) (string, bool) {
	switch {
	case errors.Is(err, access.ErrForbidden):
		return CodeForbidden, true
	case errors.Is(err, application.ErrNotFound):
		return CodeNotFound, true
	case errors.Is(err, application.ErrDeadLetterResolved):
		return CodeConflict, true
	case errors.Is(err, application.ErrInvalidInput):
		return CodeBadUserInput, true
	case errors.Is(err, application.ErrNotConfigured):
		return CodeNotConfigured, true
	default:
		return "", false
	}
}

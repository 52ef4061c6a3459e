package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph/generated"
)

// Options configure the GraphQL server.
type Options struct {
	// ComplexityLimit caps the cost of one operation; 0 means the default.
	ComplexityLimit int
	// Introspection enables schema introspection (development only).
	Introspection bool
	Logger        *slog.Logger
}

// DefaultComplexityLimit is used when Options.ComplexityLimit is zero.
const DefaultComplexityLimit = 500

// Error codes in the "extensions.code" of GraphQL errors.
const (
	CodeInternal     = "INTERNAL"
	CodeForbidden    = "FORBIDDEN"
	CodeNotFound     = "NOT_FOUND"
	CodeConflict     = "CONFLICT"
	CodeBadUserInput = "BAD_USER_INPUT"
	// CodeNotConfigured: the integration behind the field has no credentials.
	CodeNotConfigured = "NOT_CONFIGURED"
)

// NewHandler builds the gqlgen server with explicit transports, a parsed
// query cache and a complexity limit.
func NewHandler(app *application.App, opts Options) *handler.Server {
	if opts.ComplexityLimit == 0 {
		opts.ComplexityLimit = DefaultComplexityLimit
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{App: app}, Directives: NewDirectiveRoot()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, app))
	})
	srv.SetErrorPresenter(presenter(logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		logger.ErrorContext(ctx, "graphql: panic in resolver", "panic", v)
		return errors.New("internal error")
	})
	return srv
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
			return out // built by gqlgen or by a resolver, with its own code
		}
		if code, ok := codeFor(cause); ok {
			out.Message = cause.Error()
			out.Extensions = map[string]any{"code": code}
			return out
		}
		logger.ErrorContext(ctx, "graphql: resolver failed", "path", out.Path.String(), "error", cause.Error())
		out.Message = "internal error"
		out.Extensions = map[string]any{"code": CodeInternal}
		return out
	}
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

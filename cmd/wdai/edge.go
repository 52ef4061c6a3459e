package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/operations"
	"github.com/womendefiningai/platform/ports"
)

// operationsFS holds the trusted documents the binary serves: the embedded
// operations/ folder. Only a test of the start replaces it.
var operationsFS fs.FS = operations.FS

// loadTrustedDocuments builds the manifest and validates every operation
// against the schema; an invalid one is an error naming its file.
func loadTrustedDocuments(fsys fs.FS) (*graph.TrustedDocuments, error) {
	docs, err := graph.LoadTrustedDocuments(fsys, graph.Schema())
	if err != nil {
		return nil, fmt.Errorf("operations/: %w", err)
	}
	return docs, nil
}

// graphEdge is what /graphql runs around gqlgen, inside the body cap and
// after authentication: the agent gate, the per-caller request limit, then trusted
// documents; and, as a gqlgen extension, the per-call limit of mutations
// that reach a provider.
type graphEdge struct {
	docs       *graph.TrustedDocuments
	middleware []func(http.Handler) http.Handler
	extensions []graphql.HandlerExtension
	// refuseFailedAuth spends the client address's anonymous allowance for
	// a refused token and answers 429 once it is gone.
	refuseFailedAuth func(http.ResponseWriter, *http.Request) bool
}

func buildGraphEdge(sys *system) (graphEdge, error) {
	docs, err := loadTrustedDocuments(operationsFS)
	if err != nil {
		return graphEdge{}, err
	}
	cfg := sys.cfg
	limits := graph.RateLimits{
		Limiter:       postgres.NewRateLimiter(sys.pool),
		SignedIn:      perMinute(cfg.RateLimitPerMinute),
		Anonymous:     perMinute(cfg.RateLimitAnonymousPerMinute),
		ProviderCalls: perMinute(cfg.RateLimitProviderCallsPerMinute),
		ProxyHops:     cfg.RateLimitProxyHops,
		Logger:        sys.logger,
	}
	return graphEdge{
		docs: docs,
		middleware: []func(http.Handler) http.Handler{
			// Agents: the document, its scopes and mutations are checked
			// (403) before the key's own allowance is spent (429).
			graph.AgentGate(docs, sys.app.Commands.RecordAgentCall.Handle, sys.logger),
			limits.Middleware(),
			graph.TrustedDocumentsMiddleware(docs, graph.TrustedOptions{Only: cfg.GraphQLTrustedDocumentsOnly}),
		},
		extensions:       []graphql.HandlerExtension{limits.ProviderCallLimit(), graph.ProviderCallDeadline(cfg.ProviderCallTimeout)},
		refuseFailedAuth: limits.RefuseFailedAuthentication,
	}, nil
}

// with adds the edge to the GraphQL options, before any middleware and
// extensions they already hold.
func (e graphEdge) with(o graph.Options) graph.Options {
	o.Middleware = append(append([]func(http.Handler) http.Handler(nil), e.middleware...), o.Middleware...)
	o.Extensions = append(append([]graphql.HandlerExtension(nil), e.extensions...), o.Extensions...)
	return o
}

func perMinute(n int) ports.Rate { return ports.Rate{Limit: n, Period: time.Minute} }

// Package httpapi is the driving HTTP adapter: it mounts GraphQL, health
// and readiness on one mux, and wraps every route in one middleware chain
// (request id, JSON access log, Prometheus metrics, panic recovery). The
// metrics themselves are served by MetricsHandler on a separate listener.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/womendefiningai/platform/adapters/httpapi/graphiql"
)

// Check is one readiness condition, such as "the database answers".
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Config is everything the HTTP surface needs. GraphQL is built by the
// caller (cmd/wdai) so that this adapter does not depend on graph/.
type Config struct {
	GraphQL http.Handler
	// GraphiQL serves the GraphiQL IDE on GET / (development only), its
	// assets embedded (package graphiql).
	GraphiQL bool
	// GraphiQLHeaders prefill GraphiQL's headers editor (development sign-in).
	GraphiQLHeaders map[string]string
	// Ready lists the checks behind /readyz.
	Ready []Check
	// ReadyTimeout bounds all checks of one /readyz call.
	ReadyTimeout time.Duration
	Logger       *slog.Logger
	// Registry receives the HTTP metrics. It is not served here: serve it
	// with MetricsHandler on a separate listener.
	Registry *prometheus.Registry
	// Routes mounts extra routes (webhooks, jobs) on the same mux and chain.
	Routes map[string]http.Handler
}

// NewHandler returns the root handler.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.GraphQL == nil {
		return nil, errors.New("httpapi: nil GraphQL handler")
	}
	if cfg.Registry == nil {
		return nil, errors.New("httpapi: nil metrics registry")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = slog.New(ContextLogHandler(cfg.Logger.Handler()))
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	metrics, err := newHTTPMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/graphql", cfg.GraphQL)
	if cfg.GraphiQL {
		page, err := graphiql.Page(graphiql.Options{Title: "WDAI GraphQL", Endpoint: "/graphql", Headers: cfg.GraphiQLHeaders})
		if err != nil {
			return nil, err
		}
		mux.Handle("GET /{$}", page)
		mux.Handle("GET "+graphiql.AssetPrefix, graphiql.Assets())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /readyz", readyHandler(cfg.Ready, cfg.ReadyTimeout, cfg.Logger))
	for pattern, h := range cfg.Routes {
		mux.Handle(pattern, h)
	}
	return chain(mux, cfg.Logger, metrics), nil
}

func readyHandler(checks []Check, timeout time.Duration, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		status := http.StatusOK
		results := make(map[string]string, len(checks))
		var failed []string
		for _, c := range checks {
			if err := c.Func(ctx); err != nil {
				// The raw error (hosts, versions, credentials in a DSN) goes
				// to the log only; the caller learns which check failed.
				status = http.StatusServiceUnavailable
				results[c.Name] = "failed"
				failed = append(failed, c.Name)
				logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "error", err.Error())
				continue
			}
			results[c.Name] = "ok"
		}
		body := map[string]any{"status": "ready", "checks": results}
		if status != http.StatusOK {
			body["status"] = "not ready"
			body["failing"] = failed
		}
		writeJSON(w, status, body)
	})
}

// MetricsHandler serves reg on GET /metrics. It belongs on its own
// listener (METRICS_ADDR), reachable by the scraper and not the public.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

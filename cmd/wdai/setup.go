package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/internal/config"
)

// environment is what every subcommand starts from.
type environment struct {
	cfg    config.Config
	logger *slog.Logger
	// graphiqlHeaders and onReady are `wdai dev`'s: GraphiQL's prefilled
	// headers, and what to run once the server listens (its base URL).
	graphiqlHeaders map[string]string
	onReady         func(sys *system, baseURL string)
}

// setup reads and validates the configuration and builds the logger
// (LOG_FORMAT: text in development, JSON in production).
func setup() (environment, error) {
	cfg, err := config.Load()
	if err != nil {
		return environment{}, err
	}
	return environment{cfg: cfg, logger: newLogger(os.Stderr, cfg)}, nil
}

// newLogger writes text or JSON records at cfg.LogLevel. Durations are
// written as text ("612ms"), not as nanoseconds, in both formats.
func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: durationText}
	// Any record logged with a request's context carries its request id.
	if cfg.LogFormat == config.LogJSON {
		return slog.New(httpapi.ContextLogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(httpapi.ContextLogHandler(slog.NewTextHandler(w, opts)))
}

func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

package main

import (
	"log/slog"
	"os"

	"github.com/womendefiningai/platform/internal/config"
)

// environment is what every subcommand starts from.
type environment struct {
	cfg    config.Config
	logger *slog.Logger
}

// setup reads and validates the configuration and builds the JSON logger.
func setup() (environment, error) {
	cfg, err := config.Load()
	if err != nil {
		return environment{}, err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	return environment{cfg: cfg, logger: logger}, nil
}

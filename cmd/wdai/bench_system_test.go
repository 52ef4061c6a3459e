package main

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/ports"
)

// benchSystem builds the whole system, as the HTTP benchmarks measure it,
// over the database at dbURL with settings (DATABASE_URL is added): an
// 8-connection pool, the system, and its HTTP handler. Everything is closed
// when the benchmark ends.
func benchSystem(b *testing.B, dbURL string, settings map[string]string) (*pgxpool.Pool, *system, http.Handler) {
	b.Helper()
	env := maps.Clone(settings)
	env["DATABASE_URL"] = dbURL
	cfg, err := config.LoadFrom(env)
	if err != nil {
		b.Fatal(err)
	}
	pool, err := postgres.Open(context.Background(), dbURL, postgres.PoolConfig{MaxConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	sys, err := buildSystemWith(cfg, pool, slog.New(slog.DiscardHandler), ports.SystemClock{})
	if err != nil {
		b.Fatal(err)
	}
	migrator, err := postgres.NewMigrator(pool)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = migrator.Close() })
	handler, err := buildHTTP(sys, migrator)
	if err != nil {
		b.Fatal(err)
	}
	return pool, sys, handler
}

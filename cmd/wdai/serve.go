package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/config"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the HTTP API (GraphQL, health, metrics)",
		Action: func(ctx context.Context, _ *cli.Command) error {
			env, err := setup()
			if err != nil {
				return err
			}
			return serve(ctx, env)
		},
	}
}

func serve(ctx context.Context, env environment) error {
	cfg, logger := env.cfg, env.logger
	// Listen first: a taken port is reported before the database starts.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	defer func() { _ = ln.Close() }()

	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	migrator, err := postgres.NewMigrator(db.Pool)
	if err != nil {
		return err
	}
	defer func() { _ = migrator.Close() }()
	if err := prepareSchema(ctx, cfg, migrator, logger); err != nil {
		return err
	}

	handler, err := buildHTTP(cfg, db.Pool, migrator, logger)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("wdai serving", "addr", ln.Addr().String(), "env", string(cfg.Env))

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	logger.Info("stopped")
	return nil // deferred: pools close, then the embedded cluster stops
}

// prepareSchema migrates up in development; production refuses to serve
// on a database that is behind.
func prepareSchema(ctx context.Context, cfg config.Config, m *postgres.Migrator, logger *slog.Logger) error {
	if cfg.Dev() {
		applied, err := m.Up(ctx)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			logger.Info("migrated", "versions", applied)
		}
		return nil
	}
	return m.CheckAtHead(ctx)
}

func buildApp(pool *pgxpool.Pool) (*application.App, error) {
	tiers, err := application.NewMembershipTiersHandler(postgres.NewTierStore(pool))
	if err != nil {
		return nil, err
	}
	return &application.App{
		Queries: application.Queries{MembershipTiers: tiers},
	}, nil
}

func buildHTTP(cfg config.Config, pool *pgxpool.Pool, migrator *postgres.Migrator, logger *slog.Logger) (http.Handler, error) {
	app, err := buildApp(pool)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gql := graph.NewHandler(app, graph.Options{
		ComplexityLimit: cfg.GraphQLComplexityLimit,
		Introspection:   cfg.Dev(),
		Logger:          logger,
	})
	return httpapi.NewHandler(httpapi.Config{
		GraphQL:  gql,
		GraphiQL: cfg.Dev(),
		Logger:   logger,
		Registry: reg,
		Ready: []httpapi.Check{
			{Name: "database", Func: pool.Ping},
			{Name: "migrations", Func: migrator.CheckAtHead},
		},
	})
}

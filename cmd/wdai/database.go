package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/pgembed"
)

// devDatabase is the database wdai creates in the embedded cluster.
const devDatabase = "wdai"

// database is an open pool and how to release everything behind it.
type database struct {
	Pool    *pgxpool.Pool
	cluster *pgembed.Cluster
	logger  *slog.Logger
}

// openDatabase connects to DATABASE_URL, or in development without one starts
// the embedded cluster under WDAI_DATA_DIR and creates the wdai database.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*database, error) {
	db := &database{logger: logger}
	url := cfg.DatabaseURL
	if url == "" {
		if !cfg.Dev() {
			return nil, errors.New("DATABASE_URL is required in production")
		}
		startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		cluster, err := pgembed.Start(startCtx, pgembed.Options{
			Dir:    filepath.Join(cfg.DataDir, "postgres"),
			Logger: logger,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded postgres: %w", err)
		}
		db.cluster = cluster
		if err := ensureDatabase(startCtx, cluster.URL("postgres"), devDatabase); err != nil {
			db.CloseContext(ctx)
			return nil, err
		}
		url = cluster.URL(devDatabase)
		logger.Info("embedded postgres ready", "data_dir", cluster.DataDir())
	}
	pool, err := postgres.Open(ctx, url, postgres.PoolConfig{MaxConns: cfg.DBMaxConns})
	if err != nil {
		db.CloseContext(ctx)
		return nil, err
	}
	db.Pool = pool
	return db, nil
}

// CloseContext closes the pool, then stops the embedded cluster if wdai
// started it, within 30 seconds even when ctx is already cancelled (as it is
// at shutdown): ctx lends its values, not its deadline.
func (d *database) CloseContext(ctx context.Context) {
	if d.Pool != nil {
		d.Pool.Close()
	}
	if d.cluster != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := d.cluster.Stop(stopCtx); err != nil {
			d.logger.Error("stop embedded postgres", "error", err.Error())
		}
	}
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("embedded postgres: connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: reused cluster
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded postgres: create database %s: %w", name, err)
	}
	return nil
}

// Package postgres implements the store ports on PostgreSQL with pgx/v5, and
// owns the schema migrations (goose, embedded from migrations/).
package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolConfig tunes the connection pool. Zero values keep pgx's defaults.
type PoolConfig struct {
	MaxConns int32
}

// Open connects a pool to url and checks that the database answers.
func Open(ctx context.Context, url string, cfg PoolConfig) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database url: %w", redactURLError(err))
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	return pool, nil
}

// redactURLError keeps a malformed URL (which may hold a password) out of
// error messages and therefore out of logs.
func redactURLError(err error) error {
	return fmt.Errorf("invalid connection string (%T)", err)
}

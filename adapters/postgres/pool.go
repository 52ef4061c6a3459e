// Package postgres implements the store ports on PostgreSQL with pgx/v5, and
// owns the schema migrations (goose, embedded from migrations/).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
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
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", dedupLines{err})
	}
	return pool, nil
}

// urlExample is what a database URL looks like, for the error about a
// malformed one.
const urlExample = "postgres://USER:PASSWORD@HOST:5432/DBNAME?sslmode=require, or host=HOST dbname=DBNAME user=USER" //nolint:gosec // the form to follow, not a credential

// redactURLError keeps a malformed URL (which may hold a password) out of
// error messages and therefore out of logs: it says what is wrong without
// quoting the URL, and shows the expected form.
func redactURLError(err error) error {
	reason := "it is not a URL or key=value list PostgreSQL understands"
	var ue *url.Error
	var num *strconv.NumError
	var pce *pgconn.ParseConfigError
	switch {
	case errors.As(err, &pce):
		// "cannot parse `<URL, password masked>`: <reason>": keep the reason.
		if i := strings.LastIndex(pce.Error(), "`: "); i >= 0 {
			reason = pce.Error()[i+3:]
		}
		if inner := errors.Unwrap(pce); inner != nil && errors.As(inner, &ue) {
			reason = ue.Err.Error() // the url.Error itself quotes the whole URL
		}
		if strings.Contains(reason, "@") { // never risk quoting credentials
			reason = "it is not a URL or key=value list PostgreSQL understands"
		}
	case errors.As(err, &ue):
		reason = ue.Err.Error() // the url.Error itself quotes the whole URL
	case errors.As(err, &num):
		reason = fmt.Sprintf("%q is not a number", num.Num)
	}
	return fmt.Errorf("invalid connection string: %s; expected %s", reason, urlExample)
}

// dedupLines drops repeated lines from an error's text: pgx lists each
// connection attempt, and with sslmode=prefer the same refusal twice.
type dedupLines struct{ err error }

func (d dedupLines) Unwrap() error { return d.err }

func (d dedupLines) Error() string {
	var out []string
	for _, l := range strings.Split(d.err.Error(), "\n") {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

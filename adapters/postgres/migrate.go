package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/womendefiningai/platform/migrations"
)

// Migrator applies the embedded goose migrations to one database.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Version int64
	Source  string
	Applied bool
}

// NewMigrator builds a migrator over the pool. Close it when done; the pool
// stays open.
func NewMigrator(pool *pgxpool.Pool) (*Migrator, error) {
	return newMigrator(pool, migrations.FS)
}

func newMigrator(pool *pgxpool.Pool, fsys fs.FS) (*Migrator, error) {
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

// Close releases the database/sql handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Up applies every pending migration and returns the versions applied.
func (m *Migrator) Up(ctx context.Context) ([]int64, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate up: %w", err)
	}
	return versions(res), nil
}

// Down rolls back the newest applied migration.
func (m *Migrator) Down(ctx context.Context) (int64, error) {
	res, err := m.provider.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate down: %w", err)
	}
	return res.Source.Version, nil
}

// Status lists every migration the binary carries and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version: s.Source.Version,
			Source:  s.Source.Path,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// Versions reports the database's current version and the newest version
// the binary carries.
func (m *Migrator) Versions(ctx context.Context) (current, head int64, err error) {
	current, err = m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	srcs := m.provider.ListSources()
	if len(srcs) > 0 {
		head = srcs[len(srcs)-1].Version
	}
	return current, head, nil
}

// CheckAtHead returns an error that names the fix when the database is
// behind (or ahead of) the binary.
func (m *Migrator) CheckAtHead(ctx context.Context) error {
	pending, err := m.provider.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("postgres: check migrations: %w", err)
	}
	current, head, err := m.Versions(ctx)
	if err != nil {
		return err
	}
	if pending || current < head {
		return &SchemaBehindError{Current: current, Head: head}
	}
	return nil
}

// SchemaBehindError says the database needs `wdai migrate up`.
type SchemaBehindError struct{ Current, Head int64 }

func (e *SchemaBehindError) Error() string {
	return fmt.Sprintf("database schema is at version %d but this binary needs %d: run `wdai migrate up`", e.Current, e.Head)
}

func versions(res []*goose.MigrationResult) []int64 {
	out := make([]int64, 0, len(res))
	for _, r := range res {
		out = append(out, r.Source.Version)
	}
	return out
}

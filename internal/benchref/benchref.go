// Package benchref is the reference the signed-in read is measured
// against in the same run: the smallest gqlgen server that answers
// `person(id) { id email firstName status }` with one pgx primary-key read,
// nothing else (no sign-in, no limits, no logging). Only benchmarks use it.
package benchref

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vektah/gqlparser/v2/ast"
)

// ReadQuery is the read the reference serves; PersonID is the row Setup writes.
const (
	PersonID  = "p_bench"
	ReadQuery = `{ person(id: "` + PersonID + `") { id email firstName status } }`
)

// Setup creates the reference's one table (its own, beside the
// platform's) and its one row.
func Setup(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS benchref_person (
  id text PRIMARY KEY, email text NOT NULL, first_name text NOT NULL, status text NOT NULL);
INSERT INTO benchref_person VALUES ('`+PersonID+`', 'ada@example.test', 'Ada', 'active') ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("benchref setup: %w", err)
	}
	return nil
}

// NewHandler is the reference server: gqlgen over POST with a parsed-query
// cache, one resolver, one statement.
func NewHandler(pool *pgxpool.Pool) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &resolver{pool: pool}}))
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	return srv
}

type resolver struct{ pool *pgxpool.Pool }

func (r *resolver) Query() QueryResolver { return r }

func (r *resolver) Person(ctx context.Context, id string) (*Person, error) {
	var p Person
	err := r.pool.QueryRow(ctx, `SELECT id, email, first_name, status FROM benchref_person WHERE id = $1`, id).
		Scan(&p.ID, &p.Email, &p.FirstName, &p.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil //nolint:nilnil // GraphQL null: no such person
	}
	if err != nil {
		return nil, fmt.Errorf("person: %w", err)
	}
	return &p, nil
}

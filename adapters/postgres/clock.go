package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// DatabaseClock implements ports.SharedClock with PostgreSQL's clock: every
// replica that asks gets the same clock, whatever its own says.
type DatabaseClock struct{ q Querier }

var _ ports.SharedClock = DatabaseClock{}

// NewDatabaseClock returns the clock of the database behind q.
func NewDatabaseClock(q Querier) DatabaseClock { return DatabaseClock{q: q} }

// Now returns the database's current time (clock_timestamp, not the start
// of a transaction), in UTC.
func (c DatabaseClock) Now(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := c.q.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("postgres: read the database clock: %w", err)
	}
	return t.UTC(), nil
}

package testdb

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// grantSeededMembers gives members seeded straight into memberships (as
// billing would have left them) the grants billing would have made: an open
// subscription grant for the active ones (ending at the period end of a
// scheduled cancellation) and a seven-day grace grant for the past_due
// ones, the same backfill as the migration that brought the access ledger.
const grantSeededMembers = `
INSERT INTO access_grants (person_id, source, tier, starts_at, ends_at, granted_by, reason)
SELECT m.person_id, CASE m.status WHEN 'active' THEN 'subscription' ELSE 'grace' END, m.tier, now() - interval '1 minute',
       CASE WHEN m.status = 'past_due' THEN now() + interval '7 days'
            WHEN m.cancel_at_period_end THEN greatest(m.current_period_end, now()) END,
       'billing', 'seeded by a test'
FROM memberships m
WHERE m.status IN ('active', 'past_due')
  AND NOT EXISTS (SELECT 1 FROM access_grants g WHERE g.person_id = m.person_id);
UPDATE memberships SET access_active = true WHERE status IN ('active', 'past_due') AND NOT access_active`

// GrantSeededMembers runs grantSeededMembers on the test's database: call
// it after seeding memberships with SQL or the membership store, which do
// not go through billing and so make no grants of access.
func GrantSeededMembers(tb testing.TB, pool interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}) {
	tb.Helper()
	if _, err := pool.Exec(context.Background(), grantSeededMembers); err != nil {
		tb.Fatalf("grant seeded members: %v", err)
	}
}

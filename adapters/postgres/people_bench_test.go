package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
)

// BenchmarkSignInRead measures what every signed-in request reads:
// GetByIdentityID, the person with their membership's summary in one
// statement (the directory needs a current membership). The baseline,
// measured in the same run on the same rows, is the person-only statement
// it replaced. Both run on a table of 2,000 people, half of them members.
func BenchmarkSignInRead(b *testing.B) {
	pool := testdb.New(b)
	people := postgres.NewPeopleStore(pool)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO people (identity_user_id, primary_email, emails)
		SELECT 'user_' || g, 'p' || g || '@example.test', ARRAY['p' || g || '@example.test'] FROM generate_series(1, 2000) g`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO memberships (person_id, status, tier, subscription_id, ever_active)
		SELECT id, 'active', 'community', 'sub_' || id, true FROM people WHERE identity_user_id = 'user_1000' OR random() < 0.5`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE people; ANALYZE memberships`); err != nil {
		b.Fatal(err)
	}

	b.Run("baseline=person only", func(b *testing.B) {
		for b.Loop() {
			var id string
			if err := pool.QueryRow(ctx, `SELECT id::text, coalesce(identity_user_id, ''), coalesce(primary_email, ''), emails,
				first_name, last_name, role, coalesce(billing_customer_id, ''), created_at, erased_at IS NOT NULL
				FROM people WHERE identity_user_id = $1`, "user_1000").Scan(&id, new(string), new(string), new([]string), new(string), new(string),
				new(string), new(string), new(time.Time), new(bool)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("person and membership status", func(b *testing.B) {
		for b.Loop() {
			p, err := people.GetByIdentityID(ctx, "user_1000", time.Now())
			if err != nil || p.Membership == nil || !p.Membership.Status.IsMember() {
				b.Fatalf("%+v, %v", p, err)
			}
		}
	})
}

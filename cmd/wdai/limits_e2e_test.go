package main_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

const limitsMailchimpKey = "0123456789abcdef0123456789abcdef-us6"

// TestTwoServeProcessesShareTheMailchimpConnectionLimit: two `wdai serve`
// processes (each with its worker: 2 consumers of member changes, and its
// own in-process semaphore of 10) sync 40 members to a Mailchimp stand-in
// that answers each call after 100 ms, with MAILCHIMP_MAX_CONNECTIONS=2.
// Four handlers compete, yet the stand-in never has more than 2
// connections open: the limit is held in the database, across processes
// (the default of 10 takes more consumers than a test database's
// connections allow; TestTwoReplicasHoldMailchimpToTenConnections loads it
// in-process). Every member arrives.
func TestTwoServeProcessesShareTheMailchimpConnectionLimit(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, limitsMailchimpKey, "L1")
	fake.SetDelay(100 * time.Millisecond)
	dbURL := testdb.NewURL(t)
	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	env := map[string]string{"DATABASE_URL": dbURL, "DB_MAX_CONNS": "2", "MAILCHIMP_API_KEY": limitsMailchimpKey, "MAILCHIMP_LIST_ID": "L1",
		"MAILCHIMP_API_URL": fake.URL(), "MAILCHIMP_MAX_CONNECTIONS": "2", "PROVIDER_BREAKER_FAILURES": "1000"}
	for range 2 {
		start(t, env, "serve").waitReady(t, 60*time.Second)
	}
	const n = 40
	rows, err := pool.Query(t.Context(), `
		WITH p AS (
			INSERT INTO people (primary_email, emails, first_name, last_name)
			SELECT 'limit' || g || '@example.test', ARRAY['limit' || g || '@example.test'], 'M' || g, 'L' FROM generate_series(1, $1) g
			RETURNING id
		)
		INSERT INTO memberships (person_id, status, tier, ever_active, subscription_id, current_period_end)
		SELECT id, 'active', 'community', true, 'sub_' || id, now() + interval '30 days' FROM p RETURNING person_id::text`, n)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []ports.Message
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(ports.MemberChangedMessage{PersonID: id, Reason: ports.ReasonSubscriptionSync})
		msgs = append(msgs, ports.Message{Topic: ports.TopicMemberChanged, Payload: body})
	}
	rows.Close()
	testdb.GrantSeededMembers(t, pool)
	if err := messaging.NewPublisher(pool).Publish(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	for len(fake.Members()) < n && time.Since(started) < 90*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	most := fake.MaxInFlight()
	t.Logf("two serve processes, %d members: %d at the stand-in after %s, at most %d connections at once, %d calls",
		n, len(fake.Members()), time.Since(started).Round(time.Millisecond), most, fake.CallCount())
	if len(fake.Members()) != n {
		t.Fatalf("%d of %d members reached the stand-in", len(fake.Members()), n)
	}
	if most != 2 {
		t.Fatalf("the stand-in saw at most %d connections at once; want exactly the shared limit, 2", most)
	}
	fake.AssertNoViolations(t)
}

package main_test

import (
	"context"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/internal/testdb"
)

// TestSlackSyncThroughTheBinary: `wdai job run slack_sync` queues a run and
// the worker binary, configured with SLACK_BOT_TOKEN and SLACK_API_URL
// (slacktest with its users.list handler), syncs three visible members in
// one users.list call: one active, one restricted (inactive), one not found.
func TestSlackSyncThroughTheBinary(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `
		WITH p AS (INSERT INTO people (primary_email, emails)
			SELECT 's' || g || '@example.test', ARRAY['s' || g || '@example.test'] FROM generate_series(1, 3) g RETURNING id)
		INSERT INTO memberships (person_id, status, visible) SELECT id, 'active', true FROM p`); err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, pool)
	fake := slackfake.New(
		slackfake.Account{ID: "USLACKBOT", Bot: true},
		slackfake.Account{ID: "U1", Email: "S1@example.test"},
		slackfake.Account{ID: "U2", Email: "s2@example.test", Restricted: true},
	)
	t.Cleanup(fake.Close)
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	env := map[string]string{"DATABASE_URL": dbURL, "SLACK_BOT_TOKEN": slackfake.Token, "SLACK_API_URL": fake.URL(),
		"CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far, "CRON_MAILCHIMP_RESYNC": far, "CRON_STRIPE_RECONCILE": far}
	worker := start(t, env, "worker")

	out, err := runCLI(t, dbURL, "job", "run", "slack_sync")
	m := regexp.MustCompile(`run ([0-9a-f-]{36})`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("job run: %v\n%s", err, out)
	}
	r := waitRun(t, pool, m[1], 60*time.Second)
	want := map[string]float64{"active": 1, "inactive": 1, "not_found": 1, "changes": 4, "list_calls": 1, "lookups": 0}
	for k, v := range want {
		if r.summary[k] != v {
			t.Errorf("summary[%s] = %v, want %v (summary %v)", k, r.summary[k], v, r.summary)
		}
	}
	if r.summary["outcome"] != "synced" || fake.Calls("") != 1 {
		t.Errorf("outcome %v, %d calls at the server; want synced in 1", r.summary["outcome"], fake.Calls(""))
	}
	var links int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM integrations WHERE provider = 'chat'`).Scan(&links); err != nil || links != 3 {
		t.Errorf("chat links = %d, %v; want 3", links, err)
	}
	worker.stop(t, syscall.SIGTERM)
}

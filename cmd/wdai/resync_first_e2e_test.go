package main_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/internal/testdb"
)

// seedNeverSyncedPeople inserts n active members with addresses and no
// list state at all: a first resync must update every one's tags.
func seedNeverSyncedPeople(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		WITH p AS (
			INSERT INTO people (primary_email, emails, first_name, last_name)
			SELECT 'first' || lpad(g::text, 5, '0') || '@example.test', ARRAY['first' || lpad(g::text, 5, '0') || '@example.test'], 'First' || g, 'Last'
			FROM generate_series(1, $1) g RETURNING id
		), m AS (
			INSERT INTO memberships (person_id, status, tier, ever_active, subscription_id, current_period_end)
			SELECT id, 'active', 'community', true, 'sub_' || id, now() + interval '30 days' FROM p RETURNING person_id
		)
		INSERT INTO membership_subscriptions (subscription_id, person_id, status, tier, current_period_end, snapshot_at)
		SELECT 'sub_' || person_id, person_id, 'active', 'community', now() + interval '30 days', now() FROM m`, n)
	if err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, pool)
}

// resyncDatabase is a new test database and a pool on it, closed at the
// end of the test.
func resyncDatabase(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	dbURL := testdb.NewURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return dbURL, pool
}

func resyncEnv(dbURL string, mc *mailchimpfake.Server, extra map[string]string) map[string]string {
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	env := map[string]string{
		"DATABASE_URL": dbURL, "MAILCHIMP_API_KEY": resumeMailchimpKey, "MAILCHIMP_LIST_ID": resumeListID, "MAILCHIMP_API_URL": mc.URL(),
		"CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far, "CRON_MAILCHIMP_RESYNC": far, "CRON_STRIPE_RECONCILE": far,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestFirstResyncOfNeverSyncedPeopleFitsItsPageBudget: 600 people who were
// never synced, so every one needs a tag update besides the batch call,
// against a list stand-in that takes 300 ms a call. Before, a page of 500
// needed 150 s of calls for its 15 s budget: every attempt timed out and
// sent its batch again, and the page ended dead-lettered. Now a page holds
// at most 120 tag updates, sent 8 at a time: the run completes with no
// dead letter, no page's batch sent twice, every person tagged once, and
// never more than 10 connections at the stand-in.
func TestFirstResyncOfNeverSyncedPeopleFitsItsPageBudget(t *testing.T) {
	t.Parallel()
	const people = 600
	dbURL, pool := resyncDatabase(t)
	ctx := context.Background()
	seedNeverSyncedPeople(t, pool, people)
	mc := mailchimpfake.New(t, resumeMailchimpKey, resumeListID)
	mc.SetDelay(300 * time.Millisecond)
	worker := start(t, resyncEnv(dbURL, mc, nil), "worker")
	began := time.Now()
	run := enqueueResync(t, dbURL)
	r := waitRun(t, pool, run, 100*time.Second)
	took := time.Since(began)

	calls := mc.Calls()
	batches, members, tags := map[string]int{}, 0, map[string]int{}
	for first, sends := range batchPages(t, calls) {
		batches[first] = len(sends)
		for _, n := range sends {
			members += n
		}
	}
	for _, c := range calls {
		if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/tags") {
			tags[c.Path]++
		}
	}
	t.Logf("%d never-synced people: %d pages in %v (%v a page), %d batch calls carrying %d members, %d tag calls, at most %d in flight; summary %v",
		people, r.pages, took.Round(time.Millisecond), (took / time.Duration(max(r.pages, 1))).Round(time.Millisecond), len(batches), members, len(tags), mc.MaxInFlight(), r.summary)
	for first, n := range batches {
		if n != 1 {
			t.Errorf("the page starting at %s was sent %d times", first, n)
		}
	}
	if members != people || len(tags) != people || r.summary["tag_calls"] != float64(people) || r.summary["people"] != float64(people) {
		t.Errorf("%d members batched, %d people tagged, summary %v; want %d each", members, len(tags), r.summary, people)
	}
	for path, n := range tags {
		if n != 1 {
			t.Errorf("%s tagged %d times", path, n)
		}
	}
	var dead int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters`).Scan(&dead); err != nil || dead != 0 {
		t.Fatalf("dead letters = %d (%v), want 0", dead, err)
	}
	if mc.MaxInFlight() > 10 {
		t.Errorf("%d calls in flight at once, over Mailchimp's 10 connections", mc.MaxInFlight())
	}
	mc.AssertNoViolations(t)
	worker.stop(t, syscall.SIGTERM)
}

// TestDeadLetteredPageMarksItsRunDeadLetter: a page that fails transiently
// (the list answers 500) until the retry budget (1 s here) runs out is
// dead-lettered, and its run then reads dead_letter in job_runs and in
// `wdai job list`, not retrying for ever. Its error never says "attempt N
// of M" with N over M.
func TestDeadLetteredPageMarksItsRunDeadLetter(t *testing.T) {
	t.Parallel()
	dbURL, pool := resyncDatabase(t)
	ctx := context.Background()
	seedNeverSyncedPeople(t, pool, 3)
	mc := mailchimpfake.New(t, resumeMailchimpKey, resumeListID)
	mc.SetFaultRate(1, mailchimpfake.Fault500)
	worker := start(t, resyncEnv(dbURL, mc, map[string]string{"WORKER_RETRY_BUDGET": "1s", "WORKER_TRANSIENT_RETRY_INITIAL": "50ms",
		"WORKER_TRANSIENT_RETRY_MAX": "200ms", "PROVIDER_BREAKER_FAILURES": "1000"}), "worker")
	run := enqueueResync(t, dbURL)
	var status, errText string
	var attempts int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := pool.QueryRow(ctx, `SELECT status, coalesce(error, ''), attempts FROM job_runs WHERE id = $1`, run).Scan(&status, &errText, &attempts); err != nil {
			t.Fatal(err)
		}
		if status == "dead_letter" {
			break
		}
	}
	var dead int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE topic = 'job.run'`).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	t.Logf("run %s: %s after %d attempts, %d dead letter(s); error %q", run, status, attempts, dead, errText)
	if status != "dead_letter" || dead != 1 {
		t.Fatalf("run is %s with %d dead letters, want dead_letter with its page's message dead-lettered\n%s", status, dead, worker.output())
	}
	for _, m := range regexp.MustCompile(`attempt (\d+) of (\d+)`).FindAllStringSubmatch(errText, -1) {
		if len(m[1]) > len(m[2]) || len(m[1]) == len(m[2]) && m[1] > m[2] {
			t.Errorf("error says %q", m[0])
		}
	}
	out, err := runCLI(t, dbURL, "job", "list", "--job", "mailchimp_resync")
	if err != nil || !regexp.MustCompile(`(?m)^`+run+`\s+mailchimp_resync\s+dead_letter\s`).MatchString(out) {
		t.Fatalf("job list does not show the run as dead_letter: %v\n%s", err, out)
	}
	worker.stop(t, syscall.SIGTERM)
}

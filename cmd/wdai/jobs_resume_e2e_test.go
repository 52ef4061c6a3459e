package main_test

import (
	"context"
	"encoding/json"
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

const (
	resumeMailchimpKey = "0123456789abcdef-us1"
	resumeListID       = "list1"
	resumePeople       = 10000
	resumePages        = resumePeople / 500
)

// TestLongResyncRunsInPagesAndResumesAfterSIGKILL: a resync of 10,000
// people runs as a paged job through the real worker binary against a list
// stand-in that takes 300 ms per call. It completes in 20 pages with no dead
// letter. A second run is killed (SIGKILL) after some pages and a new worker
// finishes it: the stand-in received no page twice, and the only page not
// sent is the one that was in flight at the kill, which the run reports.
func TestLongResyncRunsInPagesAndResumesAfterSIGKILL(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	seedSyncedPeople(t, pool, resumePeople)
	mc := mailchimpfake.New(t, resumeMailchimpKey, resumeListID)
	mc.SetDelay(300 * time.Millisecond)
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	env := map[string]string{
		"DATABASE_URL": dbURL, "MAILCHIMP_API_KEY": resumeMailchimpKey, "MAILCHIMP_LIST_ID": resumeListID, "MAILCHIMP_API_URL": mc.URL(),
		"CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far, "CRON_MAILCHIMP_RESYNC": far, "CRON_STRIPE_RECONCILE": far,
	}

	// Run 1: undisturbed.
	worker := start(t, env, "worker")
	began := time.Now()
	run1 := enqueueResync(t, dbURL)
	r1 := waitRun(t, pool, run1, 90*time.Second)
	t.Logf("run 1: %d pages in %v, summary %v", r1.pages, time.Since(began).Round(time.Millisecond), r1.summary)
	pages1 := batchPages(t, mc.Calls())
	if r1.pages != resumePages || len(pages1) != resumePages || r1.summary["people"] != float64(resumePeople) || r1.summary["batch_calls"] != float64(resumePages) {
		t.Fatalf("run 1: %d pages saved, %d batch calls, summary %v; want %d pages of 500 people", r1.pages, len(pages1), r1.summary, resumePages)
	}
	assertEachPageOnce(t, pages1, 0)
	worker.stop(t, syscall.SIGTERM)

	// Run 2: the worker is killed mid-run and a new one finishes it.
	before := len(mc.Calls())
	worker = start(t, env, "worker")
	run2 := enqueueResync(t, dbURL)
	// Kill while a page's call is in flight: its intent is recorded.
	waitPages(t, pool, run2, 5, 60*time.Second)
	worker.kill(t)
	var atKill int
	if err := pool.QueryRow(ctx, `SELECT pages FROM job_runs WHERE id = $1`, run2).Scan(&atKill); err != nil {
		t.Fatal(err)
	}
	start(t, env, "worker")
	r2 := waitRun(t, pool, run2, 90*time.Second)
	pages2 := batchPages(t, mc.Calls()[before:])
	notResent, _ := r2.summary["pages_not_resent"].(float64)
	t.Logf("run 2: killed after %d pages; %d pages saved, %d batch calls, %v not sent again; summary %v", atKill, r2.pages, len(pages2), notResent, r2.summary)
	if atKill >= resumePages {
		t.Fatalf("the kill came after the last page (%d): nothing was resumed", atKill)
	}
	// The page in flight at the kill may or may not have reached the
	// stand-in before the kill; it is never sent a second time.
	if r2.pages != resumePages || notResent > 1 {
		t.Fatalf("run 2: %d pages saved, %v not sent again; want %d pages, at most the one in flight at the kill not sent again",
			r2.pages, notResent, resumePages)
	}
	assertEachPageOnce(t, pages2, int(notResent))
	if sent := r2.summary["people"].(float64) + 500*notResent; sent != resumePeople {
		t.Errorf("run 2 counted %v people plus %v pages not resent, want %d in all", r2.summary["people"], notResent, resumePeople)
	}
	var dead int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters`).Scan(&dead); err != nil || dead != 0 {
		t.Fatalf("dead letters = %d (%v), want 0", dead, err)
	}
	out, err := runCLI(t, dbURL, "job", "status", run2)
	if err != nil || !strings.Contains(out, "completed") || !regexp.MustCompile(`pages done\s+20`).MatchString(out) {
		t.Fatalf("job status: %v\n%s", err, out)
	}
	out, err = runCLI(t, dbURL, "job", "list", "--job", "mailchimp_resync")
	if err != nil || !strings.Contains(out, run1) || !strings.Contains(out, run2) || !strings.Contains(out, "people=10000") {
		t.Fatalf("job list: %v\n%s", err, out)
	}
	mc.AssertNoViolations(t)
}

// seedSyncedPeople inserts n active members whose list state is already
// recorded as synced, so that a resync costs one batch call per 500 people.
func seedSyncedPeople(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		WITH p AS (
			INSERT INTO people (primary_email, emails, first_name, last_name)
			SELECT 'resume' || g || '@example.test', ARRAY['resume' || g || '@example.test'], 'First' || g, 'Last'
			FROM generate_series(1, $1) g RETURNING id, primary_email, first_name
		), m AS (
			INSERT INTO memberships (person_id, status, tier, ever_active, subscription_id, current_period_end)
			SELECT id, 'active', 'community', true, 'sub_' || id, now() + interval '30 days' FROM p RETURNING person_id
		), s AS (
			INSERT INTO membership_subscriptions (subscription_id, person_id, status, tier, current_period_end, snapshot_at)
			SELECT 'sub_' || person_id, person_id, 'active', 'community', now() + interval '30 days', now() FROM m
		)
		INSERT INTO integrations (person_id, provider, external_id, status, state)
		SELECT id, 'email_list', primary_email, 'subscribed', jsonb_build_object(
			'email', primary_email, 'first_name', first_name, 'last_name', 'Last', 'tier', 'community',
			'tags', '{"member": true, "active": true, "past_due": false, "alumni": false, "community": true}'::jsonb)
		FROM p`, n)
	if err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, pool)
}

func enqueueResync(t *testing.T, dbURL string) string {
	t.Helper()
	out, err := runCLI(t, dbURL, "job", "run", "mailchimp_resync")
	if err != nil {
		t.Fatalf("job run: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`run ([0-9a-f-]{36})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("job run printed no run id:\n%s", out)
	}
	return m[1]
}

type runState struct {
	status  string
	pages   int
	summary map[string]any
}

func readRun(t *testing.T, pool *pgxpool.Pool, id string) runState {
	t.Helper()
	var r runState
	if err := pool.QueryRow(context.Background(), `SELECT status, pages, summary FROM job_runs WHERE id = $1`, id).Scan(&r.status, &r.pages, &r.summary); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitPages waits until the run has done pages pages and the next one is in
// flight (its intent recorded before its call).
func waitPages(t *testing.T, pool *pgxpool.Pool, id string, pages int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var inFlight bool
		if err := pool.QueryRow(context.Background(), `SELECT pages >= $2 AND page_token IS NOT NULL FROM job_runs WHERE id = $1`, id, pages).Scan(&inFlight); err != nil {
			t.Fatal(err)
		}
		if inFlight {
			return
		}
	}
	t.Fatalf("run %s did not reach %d pages within %v: %+v", id, pages, within, readRun(t, pool, id))
}

func waitRun(t *testing.T, pool *pgxpool.Pool, id string, within time.Duration) runState {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r := readRun(t, pool, id); r.status == "completed" {
			return r
		}
	}
	t.Fatalf("run %s not completed within %v: %+v", id, within, readRun(t, pool, id))
	return runState{}
}

// batchPages returns, for each batch-subscribe call, the first address it
// carried (a page's identity) and how many members.
func batchPages(t *testing.T, calls []mailchimpfake.Call) map[string][]int {
	t.Helper()
	pages := map[string][]int{}
	for _, c := range calls {
		if c.Method != http.MethodPost || c.Path != "/lists/"+resumeListID {
			continue
		}
		var body struct {
			Members []struct {
				Email string `json:"email_address"`
			} `json:"members"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil || len(body.Members) == 0 {
			t.Fatalf("batch call body: %v (%d members)", err, len(body.Members))
		}
		first := body.Members[0].Email
		pages[first] = append(pages[first], len(body.Members))
	}
	return pages
}

// assertEachPageOnce fails when a page was sent more than once, or more
// pages are missing than were in flight at a kill (notResent).
func assertEachPageOnce(t *testing.T, pages map[string][]int, notResent int) {
	t.Helper()
	for first, sends := range pages {
		if len(sends) != 1 || sends[0] != 500 {
			t.Errorf("page starting at %s was sent %d times (%v members), want once with 500", first, len(sends), sends)
		}
	}
	if len(pages) < resumePages-notResent || len(pages) > resumePages {
		t.Errorf("%d distinct pages sent, want %d to %d", len(pages), resumePages-notResent, resumePages)
	}
}

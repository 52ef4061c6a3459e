package main

// The chat status sync wired as wdai wires it: slack_sync's runs driven
// page by page through RunJob, against slackfake (slacktest with a
// users.list handler) and a real PostgreSQL.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

type chatHarness struct {
	pool       *pgxpool.Pool
	sys        *system
	slot       time.Time
	statements *statementCounter
}

// newChatHarness wires wdai on a fresh database, with extra variables;
// fake nil leaves Slack unconfigured.
func newChatHarness(t *testing.T, fake *slackfake.Server, extra ...string) *chatHarness {
	t.Helper()
	dbURL := testdb.NewURL(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	if fake != nil {
		vars["SLACK_BOT_TOKEN"], vars["SLACK_API_URL"] = slackfake.Token, fake.URL()
	}
	cfg, err := config.LoadFrom(vars)
	if err != nil {
		t.Fatal(err)
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	counter := &statementCounter{}
	pcfg.MaxConns, pcfg.ConnConfig.Tracer = 8, counter
	pool, err := pgxpool.NewWithConfig(t.Context(), pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sys, err := buildSystemWith(cfg, pool, slog.New(slog.DiscardHandler), ports.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	return &chatHarness{pool: pool, sys: sys, slot: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), statements: counter}
}

// enqueue creates a run of slack_sync in the next slot (09:00, 21:00, ...).
func (h *chatHarness) enqueue(t *testing.T) ports.JobRun {
	t.Helper()
	run, err := h.sys.app.Commands.EnqueueJob.Handle(t.Context(), application.EnqueueJobInput{Job: jobChatSync, Slot: h.slot, Trigger: ports.TriggerCron})
	if err != nil {
		t.Fatal(err)
	}
	h.slot = h.slot.Add(12 * time.Hour)
	return run
}

// drive delivers the run's page messages as the worker would, until the
// run completes or an attempt fails (returned with the run as it is then).
func (h *chatHarness) drive(ctx context.Context, runID string) (ports.JobRun, error) {
	runs := postgres.NewJobRuns(h.pool)
	for range 1000 {
		run, err := runs.Get(ctx, runID)
		if err != nil || run.Status == ports.JobCompleted {
			return run, err
		}
		if err := h.sys.app.Commands.RunJob.Handle(ctx, application.RunJobInput{MessageID: "m", RunID: runID, Page: run.Pages}); err != nil {
			run, _ = runs.Get(ctx, runID)
			return run, err
		}
	}
	return ports.JobRun{}, errors.New("the run did not end in 1000 pages")
}

func (h *chatHarness) run(t *testing.T) ports.JobRun {
	t.Helper()
	run, err := h.drive(t.Context(), h.enqueue(t).ID)
	if err != nil || run.Status != ports.JobCompleted {
		t.Fatalf("run %s: %s, %v (summary %v)", run.ID, run.Status, err, run.Summary)
	}
	return run
}

func (h *chatHarness) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := h.pool.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// workspace is n active accounts U<i> with the addresses of seedMembers.
func workspace(n int) []slackfake.Account {
	out := make([]slackfake.Account, 0, n)
	for i := range n {
		out = append(out, slackfake.Account{ID: fmt.Sprintf("U%05d", i), Email: fmt.Sprintf("m%d@example.org", i)})
	}
	return out
}

// hiddenWorkspace is a workspace of n accounts whose addresses users.list
// does not show (a token without users:read.email), and n members with
// those addresses.
func hiddenWorkspace(t *testing.T, n int) (*slackfake.Server, *chatHarness) {
	t.Helper()
	accounts := workspace(n)
	for i := range accounts {
		accounts[i].HideEmail = true
	}
	return chatWorkspace(t, n, accounts...)
}

// chatWorkspace serves the accounts and seeds members visible members.
func chatWorkspace(t *testing.T, members int, accounts ...slackfake.Account) (*slackfake.Server, *chatHarness) {
	t.Helper()
	return pacedWorkspace(t, accounts, members)
}

// seedMembers inserts n visible members m<i>@example.org (i from 0).
func (h *chatHarness) seedMembers(t *testing.T, n int) {
	t.Helper()
	_, err := h.pool.Exec(t.Context(), `
		WITH p AS (INSERT INTO people (primary_email, emails)
			SELECT 'm' || i || '@example.org', ARRAY['m' || i || '@example.org'] FROM generate_series(0, $1 - 1) i RETURNING id)
		INSERT INTO memberships (person_id, status, visible) SELECT id, 'active', true FROM p`, n)
	if err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, h.pool)
}

func member(t *testing.T, h *chatHarness, visible bool, emails ...string) string {
	t.Helper()
	var id string
	err := h.pool.QueryRow(t.Context(), `INSERT INTO people (primary_email, emails) VALUES ($1, $2) RETURNING id::text`, emails[0], emails).Scan(&id)
	if err == nil {
		_, err = h.pool.Exec(t.Context(), `INSERT INTO memberships (person_id, status, visible) VALUES ($1, 'active', $2)`, id, visible)
	}
	if err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, h.pool)
	return id
}

func (h *chatHarness) status(t *testing.T, personID string) string {
	t.Helper()
	var st string
	err := h.pool.QueryRow(t.Context(), `SELECT status FROM integrations WHERE provider = 'chat' AND person_id = $1`, personID).Scan(&st)
	if err != nil {
		return "none"
	}
	return st
}

// TestChatSyncTenThousandMembersInAHandfulOfCalls: 10,000 visible members,
// 9,000 of them in the workspace (whose addresses Slack shows in upper
// case), plus Slackbot. The whole sync takes ten users.list calls, counted
// at the server, and no look-up.
func TestChatSyncTenThousandMembersInAHandfulOfCalls(t *testing.T) {
	t.Parallel()
	accounts := []slackfake.Account{{ID: "USLACKBOT", Bot: true}}
	for i := range 9000 {
		a := slackfake.Account{ID: fmt.Sprintf("U%05d", i), Email: fmt.Sprintf("M%d@EXAMPLE.org", i)}
		switch i % 100 {
		case 1:
			a.Restricted = true
		case 2:
			a.Deleted = true
		}
		accounts = append(accounts, a)
	}
	fake := slackfake.New(accounts...)
	t.Cleanup(fake.Close)
	h := newChatHarness(t, fake)
	h.seedMembers(t, 10000)

	began := time.Now()
	run := h.run(t)
	calls := fake.Calls("")
	t.Logf("10,000 members, 9,000 in the workspace: %d API calls (%d users.list, %d users.lookupByEmail), %d pages, %v; summary %v",
		calls, fake.Calls("users.list"), fake.Calls("users.lookupByEmail"), run.Pages, time.Since(began).Round(time.Millisecond), run.Summary)
	if calls > 12 || calls != 10 {
		t.Fatalf("API calls = %d, want 10 (at most 12)", calls)
	}
	want := map[string]float64{"active": 8820, "inactive": 90, "deactivated": 90, "not_found": 1000, "changes": 9000 + 90*2 + 1000,
		"list_calls": 10, "lookups": 0, "accounts": 9001}
	for k, v := range want {
		if run.Summary[k] != v {
			t.Errorf("summary[%s] = %v, want %v", k, run.Summary[k], v)
		}
	}
	if n := h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat'`); n != 10000 {
		t.Errorf("chat links = %d, want 10,000", n)
	}
	if n := h.count(t, `SELECT count(*) FROM audit_log WHERE action = 'chat_status.change'`); n != 10180 {
		t.Errorf("audited changes = %d, want 10,180", n)
	}
}

// TestChatSyncStates walks members through the seed's states over four
// runs: deleted stays deactivated, restricted goes inactive and back,
// a new account moves not-found to active, addresses match in any case and
// through any verified address, and hidden members are left alone.
func TestChatSyncStates(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(
		slackfake.Account{ID: "UADA", Email: "Ada@Example.ORG"},
		slackfake.Account{ID: "UBEA", Email: "bea@work.example"},
	)
	t.Cleanup(fake.Close)
	h := newChatHarness(t, fake)
	ada := member(t, h, true, "ada@example.org")
	bea := member(t, h, true, "bea@example.org", "bea@work.example")
	cy := member(t, h, true, "cy@example.org")
	hidden := member(t, h, false, "hidden@example.org")
	fake.Put(slackfake.Account{ID: "UHID", Email: "hidden@example.org"})

	steps := []struct {
		name   string
		change func()
		want   map[string]string
	}{
		{"first sync", func() {}, map[string]string{ada: "active", bea: "active", cy: "not_found"}},
		{"ada deleted, bea restricted, cy joins", func() {
			fake.Put(slackfake.Account{ID: "UADA", Email: "ada@example.org", Deleted: true},
				slackfake.Account{ID: "UBEA", Email: "bea@work.example", Restricted: true},
				slackfake.Account{ID: "UCY", Email: "CY@example.org"})
		}, map[string]string{ada: "deactivated", bea: "inactive", cy: "active"}},
		{"ada active again, bea unrestricted", func() {
			fake.Put(slackfake.Account{ID: "UADA", Email: "ada@example.org"}, slackfake.Account{ID: "UBEA", Email: "bea@work.example"})
		}, map[string]string{ada: "deactivated", bea: "active", cy: "active"}},
		{"nothing changes", func() {}, map[string]string{ada: "deactivated", bea: "active", cy: "active"}},
	}
	for _, s := range steps {
		s.change()
		run := h.run(t)
		for id, want := range s.want {
			if got := h.status(t, id); got != want {
				t.Errorf("%s: %s = %s, want %s (summary %v)", s.name, id, got, want, run.Summary)
			}
		}
		if got := h.status(t, hidden); got != "none" {
			t.Errorf("%s: a hidden member was synced (%s)", s.name, got)
		}
	}
	// Each change audited once, in order.
	rows, err := h.pool.Query(t.Context(), `SELECT subject_id, details->>'from', details->>'to' FROM audit_log WHERE action = 'chat_status.change' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for rows.Next() {
		var id, from, to string
		if err := rows.Scan(&id, &from, &to); err != nil {
			t.Fatal(err)
		}
		got[id] = append(got[id], from+"→"+to)
	}
	want := map[string][]string{
		ada: {"new→active", "active→deactivated"},
		bea: {"new→active", "active→inactive", "inactive→active"},
		cy:  {"new→not_found", "not_found→active"},
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("audit of %s = %v, want %v", id, got[id], w)
		}
	}
	var user string
	if err := h.pool.QueryRow(t.Context(), `SELECT external_id FROM integrations WHERE provider = 'chat' AND person_id = $1`, cy).Scan(&user); err != nil || user != "UCY" {
		t.Errorf("cy's user id = %q, %v; want UCY", user, err)
	}
}

// TestChatSyncRateLimitDefersAndResumes: a 429 with Retry-After: 120 on the
// second of three users.list pages ends the attempt with a transient error
// carrying the wait, leaves the run retrying (not failed), and the next
// attempt completes it without asking for any page twice. A short wait is
// sat out inside the page.
func TestChatSyncRateLimitDefersAndResumes(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(workspace(2500)...)
	t.Cleanup(fake.Close)
	// The breaker would open after 5 answers of 429 in a row (also a
	// deferral: an open breaker is transient); here each 429 reaches the job.
	h := newChatHarness(t, fake, "PROVIDER_BREAKER_FAILURES", "100")
	h.seedMembers(t, 2500)

	fake.RateLimit("users.list", slackfake.CursorAt(1000), 120)
	run := h.enqueue(t)
	deferred, err := h.drive(t.Context(), run.ID)
	te, ok := ports.AsTransient(err)
	if !ok || te.RetryAfter != 120*time.Second {
		t.Fatalf("attempt at the limited page: %v; want a transient error with a 2m wait", err)
	}
	if deferred.Status != ports.JobRetrying || deferred.Pages != 1 {
		t.Fatalf("run after the 429: %s with %d pages; want retrying after 1 page", deferred.Status, deferred.Pages)
	}
	done, err := h.drive(t.Context(), run.ID)
	if err != nil || done.Status != ports.JobCompleted {
		t.Fatalf("next attempt: %s, %v", done.Status, err)
	}
	pages := fake.Pages()
	t.Logf("pages asked for: %q; users.list calls %d; summary %v", pages, fake.Calls("users.list"), done.Summary)
	if !slices.Equal(pages, []string{"", slackfake.CursorAt(1000), slackfake.CursorAt(2000)}) || fake.Calls("users.list") != 4 {
		t.Fatalf("pages answered %q in %d calls; want each of the 3 once, plus the limited call", pages, fake.Calls("users.list"))
	}
	if done.Summary["active"] != float64(2500) || h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat' AND status = 'active'`) != 2500 {
		t.Errorf("summary %v; want 2,500 active", done.Summary)
	}

	// Rate limited on every attempt, many more times than a failure may be
	// retried: the run never fails, and completes once the limit lifts.
	for range routerMaxRetries + 3 {
		fake.RateLimit("users.list", slackfake.CursorAt(1000), 120)
	}
	again := h.enqueue(t)
	for i := range routerMaxRetries + 3 {
		r, err := h.drive(t.Context(), again.ID)
		if !ports.IsTransient(err) || r.Status != ports.JobRetrying {
			t.Fatalf("limited attempt %d: %s, %v; want retrying with a transient error", i+1, r.Status, err)
		}
	}
	if r, err := h.drive(t.Context(), again.ID); err != nil || r.Status != ports.JobCompleted {
		t.Fatalf("after the limit lifted: %s, %v", r.Status, err)
	}

	fake.RateLimit("users.list", "", 1)
	short := h.run(t)
	if short.Summary["rate_limit_waits"] != float64(1) || short.Summary["changes"] != float64(0) {
		t.Errorf("short wait: summary %v; want one wait sat out and no change", short.Summary)
	}
}

// TestChatSyncRacingRunsWriteOnce: two runs (two slots) driven at the same
// time leave one link per member and audit each change once.
func TestChatSyncRacingRunsWriteOnce(t *testing.T) {
	t.Parallel()
	_, h := chatWorkspace(t, 2000, workspace(1500)...)
	a, b := h.enqueue(t), h.enqueue(t)
	var wg sync.WaitGroup
	for _, run := range []ports.JobRun{a, b} {
		wg.Go(func() {
			if r, err := h.drive(t.Context(), run.ID); err != nil || r.Status != ports.JobCompleted {
				t.Errorf("run %s: %s, %v", run.ID, r.Status, err)
			}
		})
	}
	wg.Wait()
	if n := h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat'`); n != 2000 {
		t.Errorf("links = %d, want 2,000", n)
	}
	if n := h.count(t, `SELECT count(*) FROM audit_log WHERE action = 'chat_status.change'`); n != 2000 {
		t.Errorf("audited changes = %d, want 2,000 (each member's first status once)", n)
	}
	if n := h.count(t, `SELECT count(DISTINCT subject_id) FROM audit_log WHERE action = 'chat_status.change'`); n != 2000 {
		t.Errorf("members audited = %d, want 2,000", n)
	}
}

// TestChatSyncUnconfiguredIsSkipped replaces the stub's tests: without
// SLACK_BOT_TOKEN a run completes as skipped, reason "not configured", and
// writes nothing.
func TestChatSyncUnconfiguredIsSkipped(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t, nil)
	h.seedMembers(t, 3)
	run := h.run(t)
	if run.Summary["outcome"] != "skipped" || run.Summary["reason"] != "not configured" || run.Pages != 1 {
		t.Fatalf("unconfigured run: %d pages, summary %v; want skipped: not configured", run.Pages, run.Summary)
	}
	if n := h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat'`); n != 0 {
		t.Errorf("links = %d, want none", n)
	}
}

// TestChatSyncLooksUpWithinTheBudgetAndReachesEveryoneOverRuns: a token
// that may not read addresses lists 50 accounts without them, so members
// are looked up one by one, 40 a run (the budget); the 10 left for the next
// run are looked up first then, so two runs reach all 50.
func TestChatSyncLooksUpWithinTheBudgetAndReachesEveryoneOverRuns(t *testing.T) {
	t.Parallel()
	fake, h := hiddenWorkspace(t, 50)

	first := h.run(t)
	if first.Summary["lookups"] != float64(40) || first.Summary["lookups_deferred"] != float64(10) || first.Summary["active"] != float64(40) ||
		fake.Calls("users.lookupByEmail") != 40 || fake.Calls("users.list") != 1 {
		t.Fatalf("run 1: summary %v, %d look-ups and %d list calls at the server; want 40 look-ups, 10 deferred",
			first.Summary, fake.Calls("users.lookupByEmail"), fake.Calls("users.list"))
	}
	if n := h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat'`); n != 40 {
		t.Fatalf("links after run 1 = %d, want 40", n)
	}
	second := h.run(t)
	if second.Summary["lookups"] != float64(40) || second.Summary["changes"] != float64(10) {
		t.Fatalf("run 2: summary %v; want 40 look-ups that reach the 10 left over", second.Summary)
	}
	if n := h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat' AND status = 'active'`); n != 50 {
		t.Fatalf("active links after run 2 = %d, want all 50", n)
	}
}

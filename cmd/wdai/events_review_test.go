package main

// The events review's findings, on a real database and the Luma stand-in,
// wired as the binary wires them: an event Luma no longer knows or whose
// guest list cannot be paged is skipped, recorded and alerted once; a lost
// answer to createEvent never leads to a second event; a certain failure
// frees the key with a retryable code; a key reused for another event is a
// conflict; leaders read only the event and RSVP part of the audit log.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
)

// alertCounter is a slog handler that counts the records of each message
// (the log alerter writes "alert: <title>").
type alertCounter struct {
	mu *sync.Mutex
	n  map[string]int
}

func (a alertCounter) Enabled(context.Context, slog.Level) bool { return true }
func (a alertCounter) WithAttrs([]slog.Attr) slog.Handler       { return a }
func (a alertCounter) WithGroup(string) slog.Handler            { return a }
func (a alertCounter) Handle(_ context.Context, r slog.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n[r.Message]++
	return nil
}

func (a alertCounter) count(title string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n["alert: "+title]
}

type reviewFixture struct {
	eventsFixture
	alerts alertCounter
}

// newReviewFixture is newEventsFixture with more settings and the log
// (where alerts go) kept.
func newReviewFixture(t *testing.T, env map[string]string) reviewFixture {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testdb.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := lumafake.New()
	t.Cleanup(srv.Close)
	vars := map[string]string{"LUMA_API_KEY": lumafake.DefaultKey, "LUMA_API_URL": srv.URL}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.LoadFrom(vars)
	if err != nil {
		t.Fatal(err)
	}
	alerts := alertCounter{mu: &sync.Mutex{}, n: map[string]int{}}
	sys, err := buildSystem(cfg, pool, slog.New(alerts))
	if err != nil {
		t.Fatal(err)
	}
	return reviewFixture{eventsFixture: eventsFixture{sys: sys, pool: pool, luma: srv, gql: client.New(graph.NewHandler(sys.app, graph.Options{}))}, alerts: alerts}
}

var reviewLeader, _ = access.NewUser("7d3c1a52-0000-4000-8000-0000000000a1", access.RoleLeader, true)

// createEvents creates one event per name, an hour apart from tomorrow
// (so they are walked in this order), and returns their ids here and at
// the stand-in.
func (f reviewFixture) createEvents(t *testing.T, names ...string) (ids, platformIDs []string) {
	t.Helper()
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	for i, name := range names {
		var resp struct{ CreateEvent map[string]any }
		f.gql.MustPost(createEventMutation, &resp, client.Var("input", eventInput("k-"+name, name, start.Add(time.Duration(i)*time.Hour))), as(reviewLeader))
		ids = append(ids, resp.CreateEvent["id"].(string))
		evs := f.luma.Events()
		platformIDs = append(platformIDs, evs[len(evs)-1].ID)
	}
	return ids, platformIDs
}

// runApproval drives one approval run in-process until its last page and
// returns its summary; a page error fails the test (the worker would retry
// it and, in the end, dead-letter the run).
func (f reviewFixture) runApproval(t *testing.T) map[string]any {
	t.Helper()
	run := f.sys.app.Commands.ApproveRSVPs
	cursor := ""
	for pages := 0; pages < 100; pages++ {
		var next string
		var last bool
		summary, err := run.Handle(context.Background(), cursor, func(n string, l bool) error { next, last = n, l; return nil })
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if last {
			return summary
		}
		cursor = next
	}
	t.Fatal("the run does not end")
	return nil
}

func (f reviewFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// seedMembers adds n active members m<i>@example.test and registers each
// as a guest pending approval of the event at the stand-in.
func (f reviewFixture) seedGuests(t *testing.T, platformID string, from, n int) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), `
		WITH p AS (INSERT INTO people (primary_email, emails) SELECT 'm' || g || '@example.test', ARRAY['m' || g || '@example.test']
		           FROM generate_series($1::int, $2::int) g RETURNING id)
		INSERT INTO memberships (person_id, status, subscription_id) SELECT id, 'active', 'sub_' || id FROM p`, from, from+n-1); err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, f.pool)
	for i := from; i < from+n; i++ {
		f.luma.AddGuest(platformID, fmt.Sprintf("m%d@example.test", i), "G")
	}
}

// TestApprovalSkipsEventsWhoseGuestsCannotBeRead: of four events, soonest
// first, Luma no longer knows the first (deleted there: 404), answers 26
// guests for a page of 25 on the second, and a next_cursor equal to the
// one sent, with has_more, on the third. Each run passes over the three,
// approves the fourth's guests and never fails; each of the three is
// recorded (an event.unavailable audit entry) and alerted once over two
// runs.
func TestApprovalSkipsEventsWhoseGuestsCannotBeRead(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t, nil)
	ids, pids := f.createEvents(t, "gone", "oversize", "looping", "fine")
	f.seedGuests(t, pids[3], 1, 30)
	f.luma.RemoveEvent(pids[0])
	oversize := make([]map[string]any, 26)
	for i := range oversize {
		oversize[i] = map[string]any{"id": fmt.Sprintf("gst-x%d", i), "user_email": "x@example.test", "approval_status": "pending_approval"}
	}
	f.luma.Inject(func(_ int, r *http.Request) *lumafake.Fault {
		if r.URL.Path != luma.PathListGuests {
			return nil
		}
		switch q := r.URL.Query(); q.Get("event_id") {
		case pids[1]:
			return &lumafake.Fault{Body: map[string]any{"entries": oversize, "has_more": false, "next_cursor": ""}}
		case pids[2]:
			cursor := q.Get("pagination_cursor")
			if cursor == "" {
				cursor = "c1"
			}
			return &lumafake.Fault{Body: map[string]any{"entries": []any{}, "has_more": true, "next_cursor": cursor}}
		}
		return nil
	})
	for run := 1; run <= 2; run++ {
		summary := f.runApproval(t)
		if total := summary["rsvps"].(map[string]any); run == 1 && total["approved"] != 30 {
			t.Errorf("run %d: summary %v, want the fourth event's 30 guests approved", run, total)
		}
	}
	for i, why := range []string{"does not know the event", "cannot be paged", "cannot be paged"} {
		n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'event.unavailable' AND subject_id = $1 AND details->>'reason' LIKE '%' || $2 || '%'`, ids[i], why)
		if n != 1 {
			t.Errorf("event %d: %d event.unavailable entries saying %q, want 1", i, n, why)
		}
	}
	if n := f.alerts.count("RSVP approval skips an event"); n != 3 {
		t.Errorf("%d alerts about skipped events over two runs, want 3 (one per event)", n)
	}
	if n := f.count(t, `SELECT count(*) FROM rsvp_decisions WHERE event_id = $1 AND state = 'applied' AND outcome = 'approve'`, ids[3]); n != 30 {
		t.Errorf("%d approved guests on the fourth event, want 30", n)
	}
}

// TestCreateEventLostAnswerNeverCreatesTwice: Luma creates the event but
// its answer comes after the client's timeout. The request answers
// CONFLICT (uncertain, an operator is alerted); the row stays blocked, so
// retries with the key, even long after the lease, create nothing; once
// the operator records Luma's id, a retry completes the one event.
func TestCreateEventLostAnswerNeverCreatesTwice(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t, map[string]string{"LUMA_TIMEOUT": "300ms"})
	f.luma.Inject(func(_ int, r *http.Request) *lumafake.Fault {
		if r.URL.Path == luma.PathCreateEvent {
			return &lumafake.Fault{Lost: time.Second}
		}
		return nil
	})
	in := eventInput("k-lost", "AI night", time.Now().Add(72*time.Hour).UTC().Truncate(time.Second))
	var raw json.RawMessage
	for attempt := 1; attempt <= 3; attempt++ {
		err := f.gql.Post(createEventMutation, &raw, client.Var("input", in), as(reviewLeader))
		if err == nil || !strings.Contains(err.Error(), graph.CodeConflict) || !strings.Contains(err.Error(), "may exist") {
			t.Fatalf("attempt %d: %v, want CONFLICT saying the event may exist", attempt, err)
		}
		// Even after the lease would have run out, the row stays held.
		if _, err := f.pool.Exec(context.Background(), `UPDATE events SET updated_at = now() - interval '1 hour'`); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.luma.Events()); n != 1 {
		t.Fatalf("%d events at the stand-in after three attempts, want 1", n)
	}
	if n := f.alerts.count("An event creation is uncertain"); n != 1 {
		t.Errorf("%d alerts about the uncertain creation, want 1", n)
	}
	f.luma.Inject(nil)
	// The operator finds the event at Luma and records its id (runbook).
	if _, err := f.pool.Exec(context.Background(), `UPDATE events SET platform_id = $1 WHERE idempotency_key = 'k-lost'`, f.luma.Events()[0].ID); err != nil {
		t.Fatal(err)
	}
	var resp struct{ CreateEvent map[string]any }
	f.gql.MustPost(createEventMutation, &resp, client.Var("input", in), as(reviewLeader))
	if len(f.luma.Events()) != 1 || !strings.HasSuffix(resp.CreateEvent["url"].(string), f.luma.Events()[0].ID) {
		t.Errorf("after the operator settled it: %v, %d events at the stand-in", resp.CreateEvent, len(f.luma.Events()))
	}
}

// TestCreateEventCertainFailureFreesTheKey: a 503 with Retry-After (Luma
// certainly created nothing) answers PROVIDER_UNAVAILABLE with
// retryAfterSeconds, and an immediate retry with the same key creates the
// event, once; a 429 likewise.
func TestCreateEventCertainFailureFreesTheKey(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t, nil)
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		key := fmt.Sprintf("k-%d", status)
		refused := false
		f.luma.Inject(func(_ int, r *http.Request) *lumafake.Fault {
			if r.URL.Path == luma.PathCreateEvent && !refused {
				refused = true
				return &lumafake.Fault{Status: status, RetryAfter: 7}
			}
			return nil
		})
		in := eventInput(key, "AI night", time.Now().Add(72*time.Hour).UTC().Truncate(time.Second))
		var raw json.RawMessage
		err := f.gql.Post(createEventMutation, &raw, client.Var("input", in), as(reviewLeader))
		if err == nil || !strings.Contains(err.Error(), "PROVIDER_UNAVAILABLE") || !strings.Contains(err.Error(), `"retryAfterSeconds":7`) {
			t.Fatalf("%d: %v, want PROVIDER_UNAVAILABLE with retryAfterSeconds 7", status, err)
		}
		var resp struct{ CreateEvent map[string]any }
		if err := f.gql.Post(createEventMutation, &resp, client.Var("input", in), as(reviewLeader)); err != nil {
			t.Fatalf("%d: the retry at once: %v, want the event", status, err)
		}
	}
	if n := len(f.luma.Events()); n != 2 || f.rows(t) != 2 {
		t.Errorf("%d events at the stand-in, %d here; want 2 and 2", n, f.rows(t))
	}
}

// TestCreateEventKeyReusedForAnotherEventConflicts: the same key with
// another name or start is CONFLICT and creates nothing; the same input
// returns the first event.
func TestCreateEventKeyReusedForAnotherEventConflicts(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t, nil)
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	var resp struct{ CreateEvent map[string]any }
	f.gql.MustPost(createEventMutation, &resp, client.Var("input", eventInput("k", "AI night", start)), as(reviewLeader))
	for _, other := range []map[string]any{eventInput("k", "Another night", start), eventInput("k", "AI night", start.Add(time.Hour))} {
		var raw json.RawMessage
		err := f.gql.Post(createEventMutation, &raw, client.Var("input", other), as(reviewLeader))
		if err == nil || !strings.Contains(err.Error(), graph.CodeConflict) || !strings.Contains(err.Error(), "another event") {
			t.Errorf("key reused for %v: %v, want CONFLICT", other, err)
		}
	}
	first := resp.CreateEvent["id"]
	f.gql.MustPost(createEventMutation, &resp, client.Var("input", eventInput("k", "AI night", start)), as(reviewLeader))
	if resp.CreateEvent["id"] != first || len(f.luma.Events()) != 1 || f.rows(t) != 1 {
		t.Errorf("same input again: %v (first %v); %d events at the stand-in, %d here", resp.CreateEvent, first, len(f.luma.Events()), f.rows(t))
	}
}

// TestLeadersReadOnlyEventAndRSVPAudit: the audit log holds a chat status
// change (a Slack user id), a role change and a subscription change next
// to an event's creation. A leader reads the creation only, even asking
// for the others by action; an admin reads all four.
func TestLeadersReadOnlyEventAndRSVPAudit(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t, nil)
	f.createEvents(t, "AI night")
	if _, err := f.pool.Exec(context.Background(), `INSERT INTO audit_log (actor_kind, action, subject_kind, subject_id, outcome, details) VALUES
		('system', 'chat_status.change', 'person', 'p1', 'success', '{"user_id": "U0123SLACK"}'),
		('user', 'person.set_role', 'person', 'p1', 'success', '{"role": "admin"}'),
		('system', 'membership.change', 'person', 'p1', 'success', '{"subscription_id": "sub_123"}')`); err != nil {
		t.Fatal(err)
	}
	admin, _ := access.NewUser("7d3c1a52-0000-4000-8000-0000000000a2", access.RoleAdmin, false)
	read := func(p access.Principal, action string) []string {
		var resp struct {
			AuditLog struct {
				Edges []struct {
					Node struct{ Action, Details string }
				}
			}
		}
		f.gql.MustPost(`query($a: String) { auditLog(first: 50, filter: {action: $a}) { edges { node { action details } } } }`, &resp, client.Var("a", action), as(p))
		var out []string
		for _, e := range resp.AuditLog.Edges {
			out = append(out, e.Node.Action+" "+e.Node.Details)
		}
		return out
	}
	got := read(reviewLeader, "")
	if len(got) != 1 || !strings.HasPrefix(got[0], "event.create") {
		t.Errorf("leader reads %v, want the event's creation only", got)
	}
	for _, a := range []string{"chat_status.change", "person.", "membership.change"} {
		if got := read(reviewLeader, a); len(got) != 0 {
			t.Errorf("leader asking for %s reads %v, want nothing", a, got)
		}
	}
	if got := read(admin, ""); len(got) != 4 || !strings.Contains(strings.Join(got, " "), "U0123SLACK") {
		t.Errorf("admin reads %v, want all four", got)
	}
}

// TestEventInputAndReadEdges: a Markdown description over several lines is
// accepted and reaches Luma as written, while a NUL in it is refused; a
// start in year 9999 is a field error; events(first: 0) is BAD_USER_INPUT,
// not the default page; an unknown event is NOT_FOUND without the store's
// words.
func TestEventInputAndReadEdges(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t, nil)
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	md := "# Agenda\n\n- talks\n\t- demos\r\n"
	in := eventInput("k-md", "AI night", start)
	in["description"] = md
	var resp struct{ CreateEvent map[string]any }
	f.gql.MustPost(createEventMutation, &resp, client.Var("input", in), as(reviewLeader))
	if evs := f.luma.Events(); len(evs) != 1 || evs[0].Description != strings.TrimSpace(md) {
		t.Errorf("stand-in holds %+v, want the description with its lines", evs)
	}
	var raw json.RawMessage
	bad := eventInput("k-nul", "AI night", start)
	bad["description"] = "a\x00b"
	if err := f.gql.Post(createEventMutation, &raw, client.Var("input", bad), as(reviewLeader)); err == nil || !strings.Contains(err.Error(), graph.CodeBadUserInput) {
		t.Errorf("a NUL in the description: %v, want BAD_USER_INPUT", err)
	}
	far := eventInput("k-far", "AI night", time.Date(9999, 1, 1, 18, 0, 0, 0, time.UTC))
	if err := f.gql.Post(createEventMutation, &raw, client.Var("input", far), as(reviewLeader)); err == nil || !strings.Contains(err.Error(), `"field":"input.startAt"`) {
		t.Errorf("a start in 9999: %v, want BAD_USER_INPUT on input.startAt", err)
	}
	if err := f.gql.Post(`{ events(first: 0) { edges { node { id } } } }`, &raw, as(reviewLeader)); err == nil || !strings.Contains(err.Error(), graph.CodeBadUserInput) {
		t.Errorf("events(first: 0): %v, want BAD_USER_INPUT", err)
	}
	err := f.gql.Post(`{ event(id: "7d3c1a52-0000-4000-8000-00000000ffff") { id } }`, &raw, as(reviewLeader))
	if err == nil || !strings.Contains(err.Error(), graph.CodeNotFound) || strings.Contains(err.Error(), "postgres") {
		t.Errorf("an unknown event: %v, want NOT_FOUND without the store's words", err)
	}
	if len(f.luma.Events()) != 1 || f.rows(t) != 1 {
		t.Errorf("%d events at the stand-in, %d here; want 1 and 1", len(f.luma.Events()), f.rows(t))
	}
}

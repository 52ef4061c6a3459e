package main

// Community events over GraphQL on a real database and the Luma stand-in,
// wired as the binary wires them: creation (who may, invalid input, a
// retried key), the events query, and the approval job's summary against
// the counts the events show.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
)

type eventsFixture struct {
	sys  *system
	pool *pgxpool.Pool
	luma *lumafake.Server
	gql  *client.Client
}

func newEventsFixture(t *testing.T) eventsFixture {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := lumafake.New()
	t.Cleanup(srv.Close)
	cfg, err := config.LoadFrom(map[string]string{"LUMA_API_KEY": lumafake.DefaultKey, "LUMA_API_URL": srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sys, err := buildSystem(cfg, pool, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return eventsFixture{sys: sys, pool: pool, luma: srv, gql: client.New(graph.NewHandler(sys.app, graph.Options{}))}
}

const createEventMutation = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id url creatorKind creatorId startAt rsvps { approved } } }`

func eventInput(key, name string, start time.Time) map[string]any {
	return map[string]any{"idempotencyKey": key, "name": name, "startAt": start.Format(time.RFC3339),
		"endAt": start.Add(2 * time.Hour).Format(time.RFC3339), "timeZone": "Europe/Berlin", "capacity": 40}
}

func (f eventsFixture) rows(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateEventOnTheStandInAndPostgres(t *testing.T) {
	t.Parallel()
	f := newEventsFixture(t)
	leader, _ := access.NewUser("7d3c1a52-0000-4000-8000-000000000001", access.RoleLeader, true)
	member, _ := access.NewUser("7d3c1a52-0000-4000-8000-000000000002", access.RoleMember, true)
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)

	var resp struct{ CreateEvent map[string]any }
	f.gql.MustPost(createEventMutation, &resp, client.Var("input", eventInput("k-1", "AI night", start)), as(leader))
	first := resp.CreateEvent
	if first["creatorId"] != leader.ID() || first["creatorKind"] != "user" || !strings.HasPrefix(first["url"].(string), "https://lu.ma/evt-") {
		t.Fatalf("created %v", first)
	}
	// The client retries (say its connection dropped): one event, here and there.
	f.gql.MustPost(createEventMutation, &resp, client.Var("input", eventInput("k-1", "AI night", start)), as(leader))
	if resp.CreateEvent["id"] != first["id"] || len(f.luma.Events()) != 1 || f.rows(t) != 1 {
		t.Fatalf("retry: %v; %d events at the stand-in, %d here; want the first and one each", resp.CreateEvent, len(f.luma.Events()), f.rows(t))
	}
	var audited int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'event.create' AND subject_id = $1 AND actor_id = $2`,
		first["id"], leader.ID()).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("audit entries for the creation: %d (%v), want 1", audited, err)
	}

	var raw json.RawMessage
	err := f.gql.Post(createEventMutation, &raw, client.Var("input", eventInput("k-2", "Member's night", start)), as(member))
	if err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) {
		t.Errorf("member: %v, want FORBIDDEN", err)
	}
	bad := eventInput("k-3", " ", start)
	bad["endAt"], bad["timeZone"], bad["capacity"] = start.Add(-time.Hour).Format(time.RFC3339), "Europe/Atlantis", -1
	err = f.gql.Post(createEventMutation, &raw, client.Var("input", bad), as(leader))
	for _, field := range []string{"input.name", "input.endAt", "input.timeZone", "input.capacity"} {
		if err == nil || !strings.Contains(err.Error(), `"field":"`+field+`"`) || !strings.Contains(err.Error(), graph.CodeBadUserInput) {
			t.Errorf("invalid input: %v; want BAD_USER_INPUT on %s", err, field)
		}
	}
	if n := len(f.luma.Events()); n != 1 || f.rows(t) != 1 {
		t.Errorf("after refused requests: %d events at the stand-in, %d here; want 1 and 1", n, f.rows(t))
	}
}

// TestApprovalSummaryMatchesTheEventCounts runs the approval job's pages
// in-process until the last, and compares its summary with the decisions
// stored and the counts the events query shows.
func TestApprovalSummaryMatchesTheEventCounts(t *testing.T) {
	t.Parallel()
	f := newEventsFixture(t)
	ctx := context.Background()
	leader, _ := access.NewUser("7d3c1a52-0000-4000-8000-000000000001", access.RoleLeader, false)
	var resp struct{ CreateEvent map[string]any }
	f.gql.MustPost(createEventMutation, &resp, client.Var("input", eventInput("k", "AI night", time.Now().Add(24*time.Hour).UTC().Truncate(time.Second))), as(leader))
	platformID := f.luma.Events()[0].ID
	if _, err := f.pool.Exec(ctx, `
		WITH p AS (INSERT INTO people (primary_email, emails) SELECT 'm' || g || '@example.test', ARRAY['m' || g || '@example.test']
		           FROM generate_series(1, 30) g RETURNING id, primary_email)
		INSERT INTO memberships (person_id, status, subscription_id) SELECT id, 'active', 'sub_' || id FROM p`); err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, f.pool)
	for i := 1; i <= 40; i++ { // 30 members, 10 strangers
		f.luma.AddGuest(platformID, strings.ToUpper(func() string {
			if i <= 30 {
				return fmt.Sprintf("m%d@example.test", i)
			}
			return fmt.Sprintf("x%d@example.test", i)
		}()), "G")
	}
	run := f.sys.app.Commands.ApproveRSVPs
	cursor, summary := "", map[string]any(nil)
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("the job does not end")
		}
		var next string
		var last bool
		page, err := run.Handle(ctx, cursor, func(n string, l bool) error { next, last = n, l; return nil })
		if err != nil {
			t.Fatal(err)
		}
		summary = page
		if last {
			break
		}
		cursor = next
	}
	var events struct {
		Events struct {
			Edges []struct {
				Node struct {
					ID    string
					Rsvps struct{ Approved, Declined, LeftPending int }
				}
			}
		}
	}
	f.gql.MustPost(`{ events { edges { node { id rsvps { approved declined leftPending } } } } }`, &events, as(leader))
	total := summary["rsvps"].(map[string]any)
	got := events.Events.Edges[0].Node.Rsvps
	if got.Approved != 30 || got.LeftPending != 10 || total["approved"] != 30 || total["left_pending"] != 10 || total["declined"] != 0 {
		t.Errorf("events show %+v, the run's summary %v; want 30 approved and 10 left pending in both", got, total)
	}
	per := summary["events"].(map[string]any)[resp.CreateEvent["id"].(string)].(map[string]any)
	if per["approved"] != 30 || per["left_pending"] != 10 {
		t.Errorf("per-event summary %v", per)
	}
}

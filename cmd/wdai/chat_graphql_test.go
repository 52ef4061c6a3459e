package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
)

type slackPage struct {
	Members struct {
		Edges []struct {
			Node struct {
				ID    string
				Email *string
				Slack *struct {
					Status   string
					UserID   *string
					SyncedAt string
				}
			}
		}
	}
}

const slackDirectoryQuery = `query($first: Int) { members(first: $first) { edges { node { id email slack { status userId syncedAt } } } } }`

// TestSlackStatusOverGraphQL: after a sync, Person.slack shows every
// member's status to members:read, the Slack user id only on your own
// record or with members:read:pii, costs the same number of statements for
// a page of 5 as for 50, and slackSummary counts by status for ops:read.
func TestSlackStatusOverGraphQL(t *testing.T) {
	t.Parallel()
	accounts := workspace(60)
	accounts[1].Restricted = true
	fake := slackfake.New(accounts...)
	t.Cleanup(fake.Close)
	h := newChatHarness(t, fake)
	h.seedMembers(t, 61)
	h.run(t)
	c := client.New(graph.NewHandler(h.sys.app, graph.Options{ComplexityLimit: 5000}))

	var self string
	if err := h.pool.QueryRow(t.Context(), `SELECT id::text FROM people WHERE primary_email = 'm0@example.org'`).Scan(&self); err != nil {
		t.Fatal(err)
	}
	member, _ := access.NewUser(self, access.RoleMember, true)
	admin, _ := access.NewUser("00000000-0000-0000-0000-000000000001", access.RoleAdmin, false)

	statements := func(first int, p access.Principal) (int64, slackPage) {
		var resp slackPage
		before := h.statements.n.Load()
		c.MustPost(slackDirectoryQuery, &resp, client.Var("first", first), as(p))
		return h.statements.n.Load() - before, resp
	}
	five, _ := statements(5, member)
	fifty, page := statements(50, member)
	t.Logf("statements per page with slack selected: %d (5 members), %d (50 members)", five, fifty)
	if five != fifty {
		t.Errorf("a page of 5 ran %d statements, a page of 50 ran %d; want the same", five, fifty)
	}
	statuses := map[string]int{}
	for _, e := range page.Members.Edges {
		n := e.Node
		if n.Slack == nil || n.Slack.SyncedAt == "" {
			t.Fatalf("member %s has no slack link", n.ID)
		}
		statuses[n.Slack.Status]++
		own := n.ID == self
		if own != (n.Slack.UserID != nil) || own && *n.Slack.UserID != "U00000" {
			t.Errorf("member %s: userId %v (own %v); want it only on the caller's own record", n.ID, n.Slack.UserID, own)
		}
	}
	if len(page.Members.Edges) != 50 || statuses["INACTIVE"] > 1 || statuses["ACTIVE"]+statuses["INACTIVE"]+statuses["NOT_FOUND"] != 50 {
		t.Errorf("statuses on the page = %v", statuses)
	}
	_, all := statements(50, admin)
	for _, e := range all.Members.Edges {
		if e.Node.Slack.Status != "NOT_FOUND" && e.Node.Slack.UserID == nil {
			t.Errorf("admin does not see the user id of %s", e.Node.ID)
		}
	}

	var denied json.RawMessage
	if err := c.Post(`{ slackSummary { active } }`, &denied, as(member)); err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) {
		t.Fatalf("member asking for slackSummary: %v, want FORBIDDEN", err)
	}
	ops, _ := access.NewAgent("ops-agent", []access.Scope{access.ScopeOpsRead})
	var sum struct {
		SlackSummary struct{ NotFound, Active, Inactive, Deactivated int }
	}
	c.MustPost(`{ slackSummary { notFound active inactive deactivated } }`, &sum, as(ops))
	if got := sum.SlackSummary; got.Active != 59 || got.Inactive != 1 || got.NotFound != 1 || got.Deactivated != 0 {
		t.Fatalf("slackSummary = %+v, want 59 active, 1 inactive, 1 not found", got)
	}
}

package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/internal/testdb"
)

// mcpClientDir installs the official MCP TypeScript SDK from npm (the
// versions of testdata/mcp-client/package-lock.json) once per lock file into
// the user's cache, and returns the directory holding client.mjs. Without
// node the test is skipped, saying so.
func mcpClientDir(t *testing.T) string {
	t.Helper()
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("the MCP client test needs %s (Node.js 18 or later) on PATH to run the official TypeScript SDK: %v", bin, err)
		}
	}
	src := filepath.Join("testdata", "mcp-client")
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "wdai-mcp-client-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "package-lock.json", "client.mjs"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		cmd := exec.CommandContext(t.Context(), "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci of the MCP TypeScript SDK: %v\n%s", err, out)
		}
	}
	return dir
}

type mcpTool struct {
	Name        string
	Description string
	InputSchema struct {
		Type       string
		Properties map[string]map[string]any
		Required   []string
	}
	Annotations struct {
		ReadOnlyHint bool
	}
}

type mcpRun struct {
	Server struct{ Name string }
	Tools  []mcpTool
	Call   struct {
		IsError bool
		Content []struct{ Type, Text string }
	}
	Refused *struct {
		Error   string
		IsError bool
	}
}

func (r mcpRun) tool(name string) (mcpTool, bool) {
	for _, t := range r.Tools {
		if t.Name == name {
			return t, true
		}
	}
	return mcpTool{}, false
}

// runMCPClient runs the TypeScript client against addr with key.
func runMCPClient(t *testing.T, dir, addr, key, tool, args, refused string) mcpRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs", "http://"+addr+"/mcp", key, tool, args, refused)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("MCP client: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var out mcpRun
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("MCP client printed %q: %v", stdout.String(), err)
	}
	return out
}

// TestMCPWithTheOfficialTypeScriptSDK: the official MCP TypeScript SDK
// (from npm) connects to /mcp of the built binary with an agent key, lists
// the tools the key's scopes allow (each with the operation's description
// and an input schema from its variables, queries read-only), calls one and
// gets the GraphQL answer; a tool outside the key's scopes is not listed
// and a call to it is refused. Mutations are tools only for a key granted
// them. A request without a key is 401, and every tool call is audited as
// an agent call over MCP.
func TestMCPWithTheOfficialTypeScriptSDK(t *testing.T) {
	t.Parallel()
	dir := mcpClientDir(t)
	dbURL := testdb.NewURL(t)
	p := start(t, map[string]string{"DATABASE_URL": dbURL}, "serve", "--no-worker")
	p.waitReady(t, 30*time.Second)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	member := seedActiveMember(t, pool, "grace@example.test")

	finance := createAgentKey(t, dbURL, "--name", "finance", "--scopes", "finance")
	run := runMCPClient(t, dir, p.addr, finance, "FinanceMembershipSummary", `{}`, "EngagementUpcomingEvents")
	if run.Server.Name != "wdai" {
		t.Errorf("server %+v", run.Server)
	}
	summary, ok := run.tool("FinanceMembershipSummary")
	if !ok || !strings.HasPrefix(summary.Description, "Finance agent: how many memberships") || !summary.Annotations.ReadOnlyHint || summary.InputSchema.Type != "object" {
		t.Errorf("FinanceMembershipSummary tool: %+v (listed %v)", summary, ok)
	}
	pastDue, _ := run.tool("FinancePastDueMembers")
	if typ := pastDue.InputSchema.Properties["first"]["type"]; typ == nil || !strings.Contains(jsonText(t, typ), "integer") || pastDue.InputSchema.Properties["first"]["default"] != float64(50) {
		t.Errorf("FinancePastDueMembers input schema: %+v", pastDue.InputSchema)
	}
	member1, _ := run.tool("Member")
	if len(member1.InputSchema.Required) != 1 || member1.InputSchema.Required[0] != "id" {
		t.Errorf("Member input schema: %+v", member1.InputSchema)
	}
	for _, hidden := range []string{"EngagementUpcomingEvents", "SupportMemberByEmail", "AuditLog", "ReplayDeadLetter", "CreateAgentKey", "Me"} {
		if _, listed := run.tool(hidden); listed {
			t.Errorf("finance key sees tool %s", hidden)
		}
	}
	if run.Call.IsError || len(run.Call.Content) != 1 || !strings.Contains(run.Call.Content[0].Text, `"total":1`) {
		t.Errorf("FinanceMembershipSummary call: %+v", run.Call)
	}
	if run.Refused == nil || (run.Refused.Error == "" && !run.Refused.IsError) {
		t.Errorf("a tool the key lacks the scope for was not refused: %+v", run.Refused)
	}

	// The support key runs a tool with arguments and sees the address.
	support := createAgentKey(t, dbURL, "--name", "support", "--scopes", "support")
	run = runMCPClient(t, dir, p.addr, support, "SupportMemberByEmail", `{"email":"grace@example.test"}`, "")
	if run.Call.IsError || !strings.Contains(run.Call.Content[0].Text, member.ID) || !strings.Contains(run.Call.Content[0].Text, "grace@example.test") {
		t.Errorf("SupportMemberByEmail call: %+v", run.Call)
	}

	// Mutations: tools only with the grant.
	ops := createAgentKey(t, dbURL, "--name", "ops", "--scopes", "ops:read,ops:write")
	run = runMCPClient(t, dir, p.addr, ops, "DeadLetters", `{}`, "ReplayDeadLetter")
	if _, listed := run.tool("ReplayDeadLetter"); listed || run.Refused == nil {
		t.Errorf("a key without the mutation grant: ReplayDeadLetter listed %v, refused %+v", listed, run.Refused)
	}
	granted := createAgentKey(t, dbURL, "--name", "ops writer", "--scopes", "ops:read,ops:write", "--allow-mutations")
	run = runMCPClient(t, dir, p.addr, granted, "DeadLetters", `{}`, "")
	if replay, listed := run.tool("ReplayDeadLetter"); !listed || replay.Annotations.ReadOnlyHint {
		t.Errorf("a key granted mutations: ReplayDeadLetter %+v listed %v", replay, listed)
	}

	// No key: 401.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+p.addr+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/mcp without a key: %d", resp.StatusCode)
	}

	// Every tool call is an audited agent call over MCP (the refused one
	// never reached the API: it is not a tool of that key).
	var calls int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'agent.call' AND details->>'transport' = 'mcp'`).Scan(&calls); err != nil || calls != 4 {
		t.Errorf("%d audited MCP calls (%v), want 4", calls, err)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

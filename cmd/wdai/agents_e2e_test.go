package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// agentKeyCLI runs `wdai agent-key ...` on dbURL and returns stdout and
// stderr; it fails the test when the command fails.
func agentKeyCLI(t *testing.T, dbURL string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), wdaiBin, append([]string{"agent-key"}, args...)...)
	cmd.Env = append(baseEnv(), "DATABASE_URL="+dbURL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("agent-key %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// createAgentKey creates a key with the CLI and returns its plaintext.
func createAgentKey(t *testing.T, dbURL string, args ...string) string {
	t.Helper()
	out, _ := agentKeyCLI(t, dbURL, append([]string{"create"}, args...)...)
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, "wdai_") || strings.Count(key, "\n") != 0 {
		t.Fatalf("agent-key create printed %q, want one wdai_ key", out)
	}
	return key
}

// seedActiveMember adds a visible member with an active membership.
func seedActiveMember(t *testing.T, pool *pgxpool.Pool, email string) ports.Person {
	t.Helper()
	ctx := context.Background()
	p, err := postgres.NewPeopleStore(pool).Create(ctx, email, "Grace", "Hopper")
	if err != nil {
		t.Fatal(err)
	}
	tier, _ := membership.NewTier("community")
	snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_" + p.ID, Status: membership.ProviderActive, Tier: tier,
		CurrentPeriodEnd: time.Now().Add(720 * time.Hour), TakenAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	err = postgres.NewMembershipStore(pool).Update(ctx, p.ID, func(m *membership.Membership) error {
		if _, err := m.ApplySnapshot(snap); err != nil {
			return err
		}
		return m.SetVisible(true, true)
	})
	if err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, pool)
	return p
}

// agentPost sends body to /graphql with the key and returns the response
// and its WWW-Authenticate header.
func agentPost(t *testing.T, addr, key string, body any) (edgeResponse, string) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := edgeResponse{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("status %d, body is not JSON: %s", resp.StatusCode, b)
	}
	return out, resp.Header.Get("WWW-Authenticate")
}

// TestAgentRequestsOverTheBinary: every answer the agent API gives, over
// the built binary: 200 for a trusted document named by documentId, Apollo
// hash or operation name, redacted by the key's scopes; 401 for a
// malformed, unknown, wrong, expired and revoked key; 403
// TRUSTED_DOCUMENT_REQUIRED for a query text; 400 PERSISTED_QUERY_NOT_FOUND
// for an unknown id; 403 INSUFFICIENT_SCOPE with WWW-Authenticate; 403
// MUTATIONS_NOT_GRANTED; 403 SIGNED_IN_ONLY; 429 with Retry-After. Every call with a valid key
// is in the audit log with its outcome and the hash of its variables, and
// no variable value is; no plaintext key is in the database dump or any
// output of the server or the CLI beyond the one line create prints.
func TestAgentRequestsOverTheBinary(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	p := start(t, map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "debug"}, "serve", "--no-worker")
	p.waitReady(t, 30*time.Second)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	member := seedActiveMember(t, pool, "grace@example.test")
	ids := operationsList(t)

	finance := createAgentKey(t, dbURL, "--name", "finance bot", "--scopes", "finance")
	support := createAgentKey(t, dbURL, "--name", "support bot", "--scopes", "support")
	events := createAgentKey(t, dbURL, "--name", "events bot", "--scopes", "events:read")
	limited := createAgentKey(t, dbURL, "--name", "limited", "--scopes", "members:read", "--rate-limit", "3/min")
	revoked := createAgentKey(t, dbURL, "--name", "revoked", "--scopes", "members:read")
	expiring := createAgentKey(t, dbURL, "--name", "expiring", "--scopes", "members:read", "--expires", "1s")
	keys := []string{finance, support, events, limited, revoked, expiring}
	prefix := func(key string) string { return strings.Split(key, "_")[1] }
	out, _ := agentKeyCLI(t, dbURL, "revoke", prefix(revoked))
	if !strings.Contains(out, "revoked "+prefix(revoked)) {
		t.Fatalf("revoke printed %q", out)
	}
	var revokeAudits int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'agent_key.revoke' AND subject_id = $1`, prefix(revoked)).Scan(&revokeAudits); err != nil || revokeAudits != 1 {
		t.Fatalf("revoke audited %d times (%v)", revokeAudits, err)
	}

	// 200: by documentId, by Apollo hash, by operation name; redacted by scope.
	secretMarker := "variable-value-" + prefix(finance) // must never reach the audit log
	membersID := ids["Members"][0]
	byID, _ := agentPost(t, p.addr, finance, map[string]any{"documentId": membersID, "variables": map[string]any{"first": 5}})
	byHash, _ := agentPost(t, p.addr, support, map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{
		"version": 1, "sha256Hash": strings.TrimPrefix(membersID, "sha256:")}}})
	byName, _ := agentPost(t, p.addr, finance, map[string]any{"operationName": "Member", "variables": map[string]any{"id": member.ID}})
	for name, got := range map[string]edgeResponse{"documentId": byID, "hash": byHash, "name": byName} {
		if got.Status != http.StatusOK || len(got.Errors) != 0 || got.Data == nil {
			t.Fatalf("by %s: %+v", name, got)
		}
	}
	emailOf := func(r edgeResponse) any {
		edges := r.Data["members"].(map[string]any)["edges"].([]any)
		if len(edges) != 1 {
			t.Fatalf("members: %+v", r.Data)
		}
		return edges[0].(map[string]any)["node"].(map[string]any)["email"]
	}
	if emailOf(byID) != nil || emailOf(byHash) != "grace@example.test" {
		t.Fatalf("redaction: finance sees %v, support sees %v (want null and the address)", emailOf(byID), emailOf(byHash))
	}

	// 401.
	for name, key := range map[string]string{
		"malformed": "wdai_nonsense", "unknown": "wdai_aaaaaaaa_" + strings.Repeat("a", 32),
		"wrong secret": finance[:len(finance)-4] + "aaaa", "revoked": revoked,
	} {
		if got, _ := agentPost(t, p.addr, key, map[string]any{"documentId": membersID}); got.Status != http.StatusUnauthorized || got.codes()["UNAUTHENTICATED"] != 1 {
			t.Errorf("%s key: %+v, want 401 UNAUTHENTICATED", name, got)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	if got, _ := agentPost(t, p.addr, expiring, map[string]any{"documentId": membersID}); got.Status != http.StatusUnauthorized {
		t.Errorf("expired key: %+v, want 401", got)
	}

	// 403 TRUSTED_DOCUMENT_REQUIRED, even for a trusted document's own text.
	membersText, err := os.ReadFile(filepath.Join("..", "..", "operations", "Members.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"{ members { edges { node { id } } } }", string(membersText)} {
		if got, _ := agentPost(t, p.addr, finance, map[string]any{"query": q}); got.Status != http.StatusForbidden || got.codes()["TRUSTED_DOCUMENT_REQUIRED"] != 1 {
			t.Errorf("query text: %+v, want 403 TRUSTED_DOCUMENT_REQUIRED", got)
		}
	}
	// 400 PERSISTED_QUERY_NOT_FOUND, with a variable value that must not be audited.
	unknown, _ := agentPost(t, p.addr, finance, map[string]any{"documentId": "sha256:" + strings.Repeat("0", 64),
		"variables": map[string]any{"after": secretMarker}})
	if unknown.Status != http.StatusBadRequest || unknown.codes()["PERSISTED_QUERY_NOT_FOUND"] != 1 {
		t.Errorf("unknown id: %+v", unknown)
	}
	// 403 INSUFFICIENT_SCOPE before anything runs, with WWW-Authenticate.
	got, www := agentPost(t, p.addr, events, map[string]any{"documentId": membersID, "variables": map[string]any{"after": secretMarker}})
	if got.Status != http.StatusForbidden || got.codes()["INSUFFICIENT_SCOPE"] != 1 || got.Data != nil ||
		www != `Bearer error="insufficient_scope", scope="members:read"` {
		t.Errorf("missing scope: %+v, WWW-Authenticate %q", got, www)
	}
	// 403 MUTATIONS_NOT_GRANTED: a mutation the scopes would allow needs the grant.
	admin := createAgentKey(t, dbURL, "--name", "ops", "--scopes", "ops:write,ops:read")
	keys = append(keys, admin)
	got, _ = agentPost(t, p.addr, admin, map[string]any{"operationName": "ReplayDeadLetter", "variables": map[string]any{"id": secretMarker}})
	if got.Status != http.StatusForbidden || got.codes()["MUTATIONS_NOT_GRANTED"] != 1 {
		t.Errorf("mutation without the grant: %+v", got)
	}
	// 403 SIGNED_IN_ONLY: an operation for signed-in people is never an agent's.
	if got, _ := agentPost(t, p.addr, admin, map[string]any{"documentId": ids["Me"][0]}); got.Status != http.StatusForbidden || got.codes()["SIGNED_IN_ONLY"] != 1 {
		t.Errorf("Me as an agent: %+v", got)
	}
	// 429 with Retry-After past the key's own allowance.
	var statuses []int
	for range 5 {
		r, _ := agentPost(t, p.addr, limited, map[string]any{"operationName": "Members"})
		statuses = append(statuses, r.Status)
		if r.Status == http.StatusTooManyRequests && (r.RetryAfter == "" || r.codes()["RATE_LIMITED"] != 1) {
			t.Errorf("429 without Retry-After or code: %+v", r)
		}
	}
	if fmt.Sprint(statuses) != "[200 200 200 429 429]" {
		t.Errorf("a 3/min key sent 5 requests: %v", statuses)
	}

	// The audit log: one entry per call with a valid key (the 401s have
	// no key to name), with outcome and the variables' hash only.
	rows, err := pool.Query(t.Context(), `SELECT actor_id, subject_id, outcome, details::text FROM audit_log WHERE action = 'agent.call' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ key, op, outcome, details string }
	var entries []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.key, &e.op, &e.outcome, &e.details); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	outcomes := map[string]int{}
	for _, e := range entries {
		outcomes[e.outcome]++
		if strings.Contains(e.details, secretMarker) || strings.Contains(e.details, member.ID) {
			t.Errorf("a variable value is in the audit log: %+v", e)
		}
		if !strings.Contains(e.details, `"duration_ms"`) || !strings.Contains(e.details, `"status"`) {
			t.Errorf("entry without duration or status: %+v", e)
		}
	}
	// 3 successes + 3 admitted of the limited key; denied: 2 query texts,
	// scope, mutation, signed-in only, 2 over the limit; failure: the unknown id.
	if len(entries) != 14 || outcomes["success"] != 6 || outcomes["denied"] != 7 || outcomes["failure"] != 1 {
		t.Fatalf("audit: %d entries %v, want 14 (6 success, 7 denied, 1 failure): %+v", len(entries), outcomes, entries)
	}
	if !strings.Contains(entries[0].details, `"variables_sha256"`) || entries[0].op != "Members" || entries[0].key != prefix(finance) {
		t.Errorf("first entry %+v", entries[0])
	}

	// last_used_at is set, and `agent-key list` shows it with the creator.
	list, _ := agentKeyCLI(t, dbURL, "list")
	if !strings.Contains(list, prefix(finance)) || !strings.Contains(list, "finance bot") || !strings.Contains(list, "system:cli:") {
		t.Errorf("agent-key list:\n%s", list)
	}
	var lastUsed *time.Time
	if err := pool.QueryRow(t.Context(), `SELECT last_used_at FROM agent_keys WHERE prefix = $1`, prefix(finance)).Scan(&lastUsed); err != nil || lastUsed == nil {
		t.Errorf("last_used_at of a used key: %v (%v)", lastUsed, err)
	}

	// No plaintext key anywhere: the dump of the database, the server's log
	// (at debug level) and the CLI's other output.
	dump := pgDump(t, dbURL)
	if !strings.Contains(dump, prefix(finance)) {
		t.Fatal("the dump does not even hold the key prefixes: wrong database?")
	}
	for _, key := range keys {
		secret := key[strings.LastIndex(key, "_")+1:]
		if strings.Contains(dump, secret) || strings.Contains(p.output(), secret) || strings.Contains(list, secret) {
			t.Errorf("the secret of %s is in the dump or a log", prefix(key))
		}
	}
}

// pgDump dumps the whole database as SQL with the pg_dump of the installed
// PostgreSQL.
func pgDump(t *testing.T, dbURL string) string {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	bin := "pg_dump"
	if len(bins) > 0 {
		bin = bins[len(bins)-1]
	}
	cmd := exec.CommandContext(t.Context(), bin, "--no-owner", "--dbname", dbURL)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, stderr.String())
	}
	return out.String()
}

// TestTwoReplicasHoldOneAgentKeyLimit: two wdai serve processes on one
// database hold one key's allowance. The key sends twice its allowance,
// alternating between them; the admitted calls are the allowance plus its
// refill during the run, within 5%.
func TestTwoReplicasHoldOneAgentKeyLimit(t *testing.T) {
	t.Parallel()
	const perMinute = 300
	dbURL := testdb.NewURL(t)
	env := map[string]string{"DATABASE_URL": dbURL}
	a := start(t, env, "serve", "--no-worker")
	a.waitReady(t, 30*time.Second)
	b := start(t, env, "serve", "--no-worker")
	b.waitReady(t, 30*time.Second)
	key := createAgentKey(t, dbURL, "--name", "busy", "--scopes", "members:read", "--rate-limit", fmt.Sprint(perMinute))
	replicas := []*process{a, b}

	holdsOneLimit(t, replicas, perMinute, func(p *process) edgeResponse {
		got, _ := agentPost(t, p.addr, key, map[string]any{"operationName": "Members", "variables": map[string]any{"first": 1}})
		return got
	})
}

// holdsOneLimit sends twice an allowance of perMinute from 8 clients,
// alternating between the replicas, and checks that the admitted requests
// are the allowance plus its refill during the run, within 5%, that both
// replicas admitted some, and that every refusal is 429 RATE_LIMITED with a
// Retry-After of 1 to 60 seconds.
func holdsOneLimit(t *testing.T, replicas []*process, perMinute int, send func(*process) edgeResponse) {
	t.Helper()
	var mu sync.Mutex
	admitted := map[string]int{}
	refused, badRetry := 0, 0
	jobs := make(chan int)
	var wg sync.WaitGroup
	begin := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				p := replicas[i%len(replicas)]
				got := send(p)
				mu.Lock()
				switch got.Status {
				case http.StatusOK:
					admitted[p.addr]++
				case http.StatusTooManyRequests:
					refused++
					if n, err := strconv.Atoi(got.RetryAfter); err != nil || n < 1 || n > 60 || got.codes()["RATE_LIMITED"] != 1 {
						badRetry++
					}
				default:
					t.Errorf("status %d: %+v", got.Status, got)
				}
				mu.Unlock()
			}
		})
	}
	for i := range 2 * perMinute {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(begin)
	total := 0
	for _, n := range admitted {
		total += n
	}
	// The allowance refills evenly: perMinute per minute, on top of the
	// burst of perMinute.
	expected := float64(perMinute) * (1 + elapsed.Minutes())
	deviation := math.Abs(float64(total)-expected) / expected
	t.Logf("admitted %d %v, refused %d in %s; expected %.1f; deviation %.2f%%",
		total, admitted, refused, elapsed.Round(time.Millisecond), expected, 100*deviation)
	if deviation > 0.05 {
		t.Fatalf("admitted %d, expected %.1f: off by %.1f%% (a limit per replica would admit about %d)",
			total, expected, 100*deviation, len(replicas)*perMinute)
	}
	if len(admitted) != len(replicas) || refused == 0 || badRetry != 0 {
		t.Fatalf("admitted by replica %v, %d refused, %d refusals without a RATE_LIMITED code and a Retry-After of 1..60s",
			admitted, refused, badRetry)
	}
}

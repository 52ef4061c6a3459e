package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// operationsList runs `wdai operations list` and returns its rows by name:
// id, kind, access.
func operationsList(t *testing.T) map[string][3]string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), wdaiBin, "operations", "list")
	cmd.Env = baseEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("operations list: %v\n%s", err, out)
	}
	rows := map[string][3]string{}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "REQUIRES") {
		t.Fatalf("operations list printed:\n%s", out)
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 5 {
			t.Fatalf("row %q: want id, name, kind, access, file", line)
		}
		rows[f[1]] = [3]string{f[0], f[2], f[3]}
	}
	return rows
}

// TestOperationsListShowsDerivedScopes: every .graphql file of operations/
// is listed with the sha256 of its bytes, and the access each needs is the
// one the schema's directives give the fields it selects.
func TestOperationsListShowsDerivedScopes(t *testing.T) {
	t.Parallel()
	rows := operationsList(t)
	files, err := filepath.Glob("../../operations/*.graphql")
	if err != nil || len(files) == 0 {
		t.Fatalf("operations files: %v %v", files, err)
	}
	if len(rows) != len(files) {
		t.Fatalf("%d rows for %d files", len(rows), len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		if rows[name][0] != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("%s: id %s is not the sha256 of the file", name, rows[name][0])
		}
	}
	// Members selects members (@requires MEMBERS_READ) and, through a
	// fragment, nothing else protected; Me selects me (@authenticated);
	// the dead-letter mutations need OPS_WRITE.
	for name, want := range map[string][2]string{
		"MembershipTiers":   {"query", "public"},
		"Me":                {"query", "signed-in"},
		"Members":           {"query", "members:read"},
		"DeadLetters":       {"query", "ops:read"},
		"StartCheckout":     {"mutation", "signed-in"},
		"SetPersonRole":     {"mutation", "members:write"},
		"AbandonDeadLetter": {"mutation", "ops:write"},
	} {
		if got := rows[name]; got[1] != want[0] || got[2] != want[1] {
			t.Errorf("%s: kind %q access %q, want %q %q", name, got[1], got[2], want[0], want[1])
		}
	}
}

type edgeResponse struct {
	Status     int
	RetryAfter string
	Data       map[string]any
	Errors     []struct {
		Message    string
		Extensions map[string]any
	}
}

func (r edgeResponse) codes() map[string]int {
	out := map[string]int{}
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out[c]++
	}
	return out
}

func postGraphQL(t *testing.T, addr, token string, body any) edgeResponse {
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
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
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
	return out
}

// TestTrustedDocumentsOnlyOverTheBinary: with
// GRAPHQL_TRUSTED_DOCUMENTS_ONLY=true the served binary answers a document
// outside the manifest with 403 TRUSTED_DOCUMENT_REQUIRED, and runs a
// trusted one named by its documentId.
func TestTrustedDocumentsOnlyOverTheBinary(t *testing.T) {
	t.Parallel()
	ids := operationsList(t)
	p := start(t, map[string]string{"DATABASE_URL": pricedTiersURL(t, testdb.NewURL(t)), "GRAPHQL_TRUSTED_DOCUMENTS_ONLY": "true"}, "serve", "--no-worker")
	p.waitReady(t, 30*time.Second)

	got := postGraphQL(t, p.addr, "", map[string]string{"query": "{ membershipTiers { id name } }"})
	if got.Status != http.StatusForbidden || got.codes()["TRUSTED_DOCUMENT_REQUIRED"] != 1 || got.Data != nil {
		t.Fatalf("ad-hoc query: %+v, want 403 TRUSTED_DOCUMENT_REQUIRED", got)
	}
	got = postGraphQL(t, p.addr, "", map[string]string{"documentId": "sha256:" + strings.Repeat("ab", 32)})
	if got.Status != http.StatusBadRequest || got.codes()["PERSISTED_QUERY_NOT_FOUND"] != 1 {
		t.Fatalf("unknown id: %+v, want 400 PERSISTED_QUERY_NOT_FOUND", got)
	}
	got = postGraphQL(t, p.addr, "", map[string]string{"documentId": ids["MembershipTiers"][0]})
	tiers, _ := got.Data["membershipTiers"].([]any)
	if got.Status != http.StatusOK || len(got.Errors) != 0 || len(tiers) == 0 {
		t.Fatalf("trusted document: %+v, want the tiers", got)
	}
	p.stop(t, syscall.SIGTERM)
}

// TestTwoReplicasShareOneRateLimit: two wdai serve processes on one
// database hold one allowance for one caller. An anonymous client sends
// twice its allowance, alternating between them; the requests admitted are
// the allowance plus what refilled while the test ran, within 5%.
func TestTwoReplicasShareOneRateLimit(t *testing.T) {
	t.Parallel()
	const perMinute = 300
	env := map[string]string{"DATABASE_URL": testdb.NewURL(t), "RATE_LIMIT_ANONYMOUS_PER_MINUTE": strconv.Itoa(perMinute)}
	a := start(t, env, "serve", "--no-worker")
	a.waitReady(t, 30*time.Second) // migrates; the second starts on a migrated database
	b := start(t, env, "serve", "--no-worker")
	b.waitReady(t, 30*time.Second)
	holdsOneLimit(t, []*process{a, b}, perMinute, func(p *process) edgeResponse {
		return postGraphQL(t, p.addr, "", map[string]string{"query": "{ membershipTiers { id } }"})
	})
}

// TestProviderCallsBeyondTheLimitNeverReachTheProvider: a member's aliased
// batch of startCheckout counts one unit per call; the calls past the
// allowance are refused with RATE_LIMITED and 429 + Retry-After, and the
// Stripe stand-in sees only the allowed calls, which reuse one open
// checkout session for the same person and tier.
func TestProviderCallsBeyondTheLimitNeverReachTheProvider(t *testing.T) {
	t.Parallel()
	clerk := clerkfake.New(t)
	clerk.AddUser(ports.IdentityUser{ID: "user_ada", PrimaryEmail: "ada@example.test", FirstName: "Ada", LastName: "Lovelace",
		Emails: []ports.IdentityEmail{{Address: "ada@example.test", Verified: true}}})
	stripe := stripefake.New(t)
	dbURL := testdb.NewURL(t)
	p := start(t, map[string]string{
		"DATABASE_URL": dbURL, "CLERK_SECRET_KEY": clerk.SecretKey(), "CLERK_API_URL": clerk.URL(),
		"CLERK_ISSUER": clerkfake.DefaultIssuer, "CLERK_AUTHORIZED_PARTIES": clerkfake.DefaultAuthorizedParty,
		"STRIPE_SECRET_KEY": stripe.SecretKey(), "STRIPE_API_URL": stripe.URL(),
		"RATE_LIMIT_PROVIDER_CALLS_PER_MINUTE": "2",
	}, "serve", "--no-worker")
	p.waitReady(t, 30*time.Second)
	pool := priceCommunityTier(t, dbURL)
	calls := func(path string) int {
		n := 0
		for _, r := range stripe.Requests() {
			if r.Method == http.MethodPost && r.Path == path {
				n++
			}
		}
		return n
	}
	token := clerk.MintToken("user_ada")

	// Three aliased calls (the edge admits at most three root mutation
	// fields per request) against an allowance of two.
	var q strings.Builder
	q.WriteString("mutation {")
	for i := range 3 {
		fmt.Fprintf(&q, ` c%d: startCheckout(tierId: "community")`, i)
	}
	q.WriteString(" }")
	got := postGraphQL(t, p.addr, token, map[string]string{"query": q.String()})
	if got.Status != http.StatusTooManyRequests || got.RetryAfter == "" || got.codes()["RATE_LIMITED"] != 1 || len(got.Errors) != 1 {
		t.Fatalf("batch of 3 over an allowance of 2: %+v; want 429 with Retry-After and one RATE_LIMITED error", got)
	}
	url0, _ := got.Data["c0"].(string)
	if url0 == "" || got.Data["c1"] != url0 || got.Data["c2"] != nil {
		t.Fatalf("data %v: want c0 and c1 the same checkout URL (reused), c2 null", got.Data)
	}
	if n := calls("/v1/checkout/sessions"); n != 1 {
		t.Fatalf("the provider created %d checkout sessions, want 1 (the second call reused it, the third never reached it)", n)
	}
	expiry := stripe.Requests()[len(stripe.Requests())-1].Form.Get("expires_at")
	var stored time.Time
	if err := pool.QueryRow(context.Background(), `SELECT expires_at FROM open_checkouts`).Scan(&stored); err != nil || strconv.FormatInt(stored.Unix(), 10) != expiry {
		t.Fatalf("stored open checkout expires %v (%v), provider was asked for %s", stored, err, expiry)
	}

	// The allowance is spent: the portal is refused before the provider.
	got = postGraphQL(t, p.addr, token, map[string]string{"query": "mutation { openBillingPortal }"})
	if got.Status != http.StatusTooManyRequests || got.codes()["RATE_LIMITED"] != 1 || calls("/v1/billing_portal/sessions") != 0 {
		t.Fatalf("portal after the allowance: %+v, %d portal calls; want 429 RATE_LIMITED and none", got, calls("/v1/billing_portal/sessions"))
	}
	// Reads are not provider calls: the member can still read.
	if got := postGraphQL(t, p.addr, token, map[string]string{"query": "{ me { id } }"}); got.Status != http.StatusOK || len(got.Errors) != 0 {
		t.Fatalf("read after the provider allowance: %+v", got)
	}
	p.stop(t, syscall.SIGTERM)
}

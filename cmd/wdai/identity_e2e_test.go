package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

type identityEnv struct {
	p      *process
	clerk  *clerkfake.Server
	secret string
	pool   *pgxpool.Pool
	dbURL  string
}

func startWithClerk(t *testing.T) identityEnv {
	t.Helper()
	clerk := clerkfake.New(t)
	secret := clerkfake.NewWebhookSecret()
	dbURL := testdb.NewURL(t)
	p := start(t, map[string]string{
		"DATABASE_URL": dbURL, "CLERK_SECRET_KEY": clerk.SecretKey(), "CLERK_API_URL": clerk.URL(), "CLERK_WEBHOOK_SECRET": secret,
		"CLERK_ISSUER": clerkfake.DefaultIssuer, "CLERK_AUTHORIZED_PARTIES": clerkfake.DefaultAuthorizedParty,
	}, "serve")
	p.waitReady(t, 30*time.Second)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return identityEnv{p: p, clerk: clerk, secret: secret, pool: pool, dbURL: dbURL}
}

func (e identityEnv) graphql(t *testing.T, token, query string) (int, http.Header, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+e.p.addr+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, out
}

func (e identityEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSessionTokens(t *testing.T) {
	t.Parallel()
	e := startWithClerk(t)
	e.clerk.AddUser(ports.IdentityUser{ID: "user_ada", PrimaryEmail: "ada@example.test", FirstName: "Ada", LastName: "Lovelace",
		Emails: []ports.IdentityEmail{{Address: "ada@example.test", Verified: true}}})
	now := time.Now()
	bad := map[string]string{
		"expired":         e.clerk.MintToken("user_ada", clerkfake.WithIssuedAt(now.Add(-time.Hour)), clerkfake.WithExpiry(now.Add(-30*time.Minute))),
		"not yet valid":   e.clerk.MintToken("user_ada", clerkfake.WithNotBefore(now.Add(30*time.Minute))),
		"wrong signature": e.clerk.MintToken("user_ada", clerkfake.WithForeignKey()),
		"wrong issuer":    e.clerk.MintToken("user_ada", clerkfake.WithIssuer("https://evil.example.test")),
		"unknown kid":     e.clerk.MintToken("user_ada", clerkfake.WithKeyID("kid-nobody-knows")),
		"malformed":       "not.a.jwt",
		// A well-signed token still needs our exact issuer, one of our
		// frontends as azp, an active session and a bounded lifetime.
		"issuer extending ours": e.clerk.MintToken("user_ada", clerkfake.WithIssuer(clerkfake.DefaultIssuer+".evil.test")),
		"azp of another site":   e.clerk.MintToken("user_ada", clerkfake.WithAuthorizedParty("https://evil.example.test")),
		"no azp":                e.clerk.MintToken("user_ada", clerkfake.WithAuthorizedParty("")),
		"pending session":       e.clerk.MintToken("user_ada", clerkfake.WithSessionStatus("pending")),
		"lifetime of 100 years": e.clerk.MintToken("user_ada", clerkfake.WithExpiry(now.AddDate(100, 0, 0))),
	}
	for name, token := range bad {
		code, h, body := e.graphql(t, token, `{ membershipTiers { id } }`)
		if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") || !strings.Contains(mustJSON(body), "UNAUTHENTICATED") {
			t.Errorf("%s: status %d, WWW-Authenticate %q, body %v; want 401 UNAUTHENTICATED", name, code, h.Get("WWW-Authenticate"), body)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM people`); n != 0 {
		t.Fatalf("rejected tokens created %d people", n)
	}

	// Anonymous: public fields work, protected ones are FORBIDDEN on their path.
	pricedTiersURL(t, e.dbURL)
	code, _, body := e.graphql(t, "", `{ membershipTiers { id } me { id } }`)
	if code != http.StatusOK || !strings.Contains(mustJSON(body), "FORBIDDEN") || !strings.Contains(mustJSON(body), "community") {
		t.Fatalf("anonymous: %d %v", code, body)
	}

	// 20 racing first requests for a new user create exactly one person.
	token := e.clerk.MintToken("user_ada")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			code, _, body := e.graphql(t, token, `{ me { id email firstName role } }`)
			if code != http.StatusOK || !strings.Contains(mustJSON(body), "ada@example.test") {
				t.Errorf("valid token: %d %v", code, body)
			}
		})
	}
	wg.Wait()
	if n := e.count(t, `SELECT count(*) FROM people WHERE identity_user_id = 'user_ada'`); n != 1 {
		t.Fatalf("people for user_ada = %d, want 1", n)
	}
	e.p.stop(t, syscall.SIGTERM)
}

func TestClerkWebhooksApplyOnceAndRefuseTampering(t *testing.T) {
	t.Parallel()
	e := startWithClerk(t)
	post := func(body []byte, h http.Header) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+e.p.addr+"/webhooks/clerk", bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	grace := ports.IdentityUser{ID: "user_grace", PrimaryEmail: "grace@example.test", FirstName: "Grace", LastName: "Hopper",
		Emails: []ports.IdentityEmail{{Address: "grace@example.test", Verified: true}}}
	e.clerk.AddUser(grace) // the handler fetches the current user from Clerk
	created := clerkfake.UserEvent(ports.IdentityUserCreated, grace)
	h := clerkfake.SignWebhook(e.secret, "msg_created", created, time.Now())
	for i := range 3 {
		if code := post(created, h); code != http.StatusOK {
			t.Fatalf("delivery %d: %d", i+1, code)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE identity_user_id = 'user_grace'`); n != 1 {
		t.Fatalf("people = %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'person.sync'`); n != 1 {
		t.Fatalf("applied %d times, want once", n)
	}

	// The email changes: one person.email_changed message, however often delivered.
	moved := grace
	moved.PrimaryEmail, moved.Emails = "grace@navy.example.test", []ports.IdentityEmail{{Address: "grace@navy.example.test", Verified: true}}
	e.clerk.AddUser(moved)
	updated := clerkfake.UserEvent(ports.IdentityUserUpdated, moved)
	uh := clerkfake.SignWebhook(e.secret, "msg_updated", updated, time.Now())
	for range 3 {
		if code := post(updated, uh); code != http.StatusOK {
			t.Fatalf("update: %d", code)
		}
	}
	// The message commits with the audited change, so one audited email
	// change means one person.email_changed message.
	if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'person.sync' AND details->>'email_changed' = 'true'`); n != 1 {
		t.Fatalf("email change applied %d times, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE primary_email = 'grace@navy.example.test'`); n != 1 {
		t.Fatal("email change not applied")
	}

	// Tampered body: 400, nothing changes.
	tampered := bytes.Replace(updated, []byte("Grace"), []byte("Mallory"), 1)
	th := clerkfake.SignWebhook(e.secret, "msg_tampered", updated, time.Now())
	if code := post(tampered, th); code != http.StatusBadRequest {
		t.Fatalf("tampered: %d, want 400", code)
	}
	stale := clerkfake.SignWebhook(e.secret, "msg_stale", updated, time.Now().Add(-6*time.Minute))
	if code := post(updated, stale); code != http.StatusBadRequest {
		t.Fatalf("stale timestamp: %d, want 400", code)
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE first_name = 'Mallory'`) + e.count(t, `SELECT count(*) FROM webhook_inbox WHERE delivery_id IN ('msg_tampered', 'msg_stale')`); n != 0 {
		t.Fatal("a refused delivery changed something")
	}

	// A late retry of the first (stale) user.created changes nothing: the
	// current user is fetched, and it is unchanged.
	if code := post(created, clerkfake.SignWebhook(e.secret, "msg_created_retry", created, time.Now())); code != http.StatusOK {
		t.Fatalf("stale retry: %d", code)
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE primary_email = 'grace@navy.example.test'`); n != 1 {
		t.Fatal("a stale delivery overwrote the newer email")
	}

	// Deleted: personal data erased, the row kept.
	deleted := clerkfake.UserEvent(ports.IdentityUserDeleted, ports.IdentityUser{ID: "user_grace"})
	if code := post(deleted, clerkfake.SignWebhook(e.secret, "msg_deleted", deleted, time.Now())); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE identity_user_id = 'user_grace' AND erased_at IS NOT NULL AND primary_email IS NULL AND first_name = ''`); n != 1 {
		t.Fatal("user.deleted did not erase the person")
	}
	// A user deleted before we ever saw them cannot be created later.
	ghost := clerkfake.UserEvent(ports.IdentityUserDeleted, ports.IdentityUser{ID: "user_ghost"})
	if code := post(ghost, clerkfake.SignWebhook(e.secret, "msg_ghost_deleted", ghost, time.Now())); code != http.StatusOK {
		t.Fatalf("delete unknown: %d", code)
	}
	ghostUser := ports.IdentityUser{ID: "user_ghost", PrimaryEmail: "ghost@example.test", Emails: []ports.IdentityEmail{{Address: "ghost@example.test", Verified: true}}}
	e.clerk.AddUser(ghostUser)
	late := clerkfake.UserEvent(ports.IdentityUserCreated, ghostUser)
	if code := post(late, clerkfake.SignWebhook(e.secret, "msg_ghost_created", late, time.Now())); code != http.StatusOK {
		t.Fatalf("late create: %d", code)
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE primary_email = 'ghost@example.test'`); n != 0 {
		t.Fatal("a late user.created brought back a deleted user")
	}
	e.p.stop(t, syscall.SIGTERM)
}

// TestUnverifiedEmailCannotTakeOverAnAdminsRole is the takeover of issue
// 11, end to end: Mallory signs up first, claiming the admin's address
// without verifying it. `person set-role --email` must not find her by it;
// once the admin signs in with the address verified, it finds the admin.
// Mallory, who never paid, sees only herself: the directory is FORBIDDEN.
func TestUnverifiedEmailCannotTakeOverAnAdminsRole(t *testing.T) {
	t.Parallel()
	e := startWithClerk(t)
	e.clerk.AddUser(ports.IdentityUser{ID: "user_mallory", PrimaryEmail: "admin@example.test", FirstName: "Mallory",
		Emails: []ports.IdentityEmail{{Address: "admin@example.test", Verified: false}, {Address: "mallory@example.test", Verified: true}}})
	mallory := e.clerk.MintToken("user_mallory")
	code, _, body := e.graphql(t, mallory, `{ me { id email role } }`)
	if code != http.StatusOK || strings.Contains(mustJSON(body), "admin@example.test") || !strings.Contains(mustJSON(body), `"role":"MEMBER"`) {
		t.Fatalf("mallory's me: %d %v (the unverified address must not be shown)", code, body)
	}
	if out, err := runCLI(t, e.dbURL, "person", "set-role", "--email", "admin@example.test", "--role", "admin"); err == nil || !strings.Contains(out, "not found") {
		t.Fatalf("set-role by an address only Mallory claimed: %v\n%s", err, out)
	}

	// Signed up without a membership: she sees herself, not the directory.
	code, _, body = e.graphql(t, mallory, `{ members(first: 5) { edges { node { id } } } }`)
	if code != http.StatusOK || !strings.Contains(mustJSON(body), "FORBIDDEN") || !strings.Contains(mustJSON(body), `"members"`) {
		t.Fatalf("directory without a membership: %d %v, want FORBIDDEN on members", code, body)
	}

	e.clerk.AddUser(ports.IdentityUser{ID: "user_admin", PrimaryEmail: "admin@example.test", FirstName: "Ada",
		Emails: []ports.IdentityEmail{{Address: "admin@example.test", Verified: true}}})
	if code, _, body := e.graphql(t, e.clerk.MintToken("user_admin"), `{ me { id } }`); code != http.StatusOK || strings.Contains(mustJSON(body), "errors") {
		t.Fatalf("admin's first sign-in: %d %v", code, body)
	}
	if out, err := runCLI(t, e.dbURL, "person", "set-role", "--email", "admin@example.test", "--role", "admin"); err != nil || !strings.Contains(out, "admin") {
		t.Fatalf("set-role for the admin: %v\n%s", err, out)
	}
	roles := map[string]string{}
	rows, err := e.pool.Query(context.Background(), `SELECT identity_user_id, role FROM people`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			t.Fatal(err)
		}
		roles[id] = role
	}
	if roles["user_admin"] != "admin" || roles["user_mallory"] != "member" {
		t.Fatalf("roles = %v, want the admin admin and Mallory member", roles)
	}
	e.p.stop(t, syscall.SIGTERM)
}

// TestProfileNamesAreTextNotBytes drives updateMyProfile through the
// binary and PostgreSQL: a NUL answers BAD_USER_INPUT on the field (it used
// to reach PostgreSQL and answer INTERNAL) and changes nothing; a name of
// 100 two-byte characters (200 bytes) is stored whole.
func TestProfileNamesAreTextNotBytes(t *testing.T) {
	t.Parallel()
	e := startWithClerk(t)
	e.clerk.AddUser(ports.IdentityUser{ID: "user_zoe", PrimaryEmail: "zoe@example.test", FirstName: "Zoe",
		Emails: []ports.IdentityEmail{{Address: "zoe@example.test", Verified: true}}})
	token := e.clerk.MintToken("user_zoe")
	update := func(first string) (int, map[string]any) {
		q, _ := json.Marshal(first)
		code, _, body := e.graphql(t, token, `mutation { updateMyProfile(input: {firstName: `+string(q)+`, lastName: "K"}) { firstName } }`)
		return code, body
	}
	for _, bad := range []string{"Zo\u0000e", "Zo\u001be", strings.Repeat("ë", 101)} {
		code, body := update(bad)
		if code != http.StatusOK || !strings.Contains(mustJSON(body), "BAD_USER_INPUT") || strings.Contains(mustJSON(body), "INTERNAL") ||
			!strings.Contains(mustJSON(body), `"path":["updateMyProfile"]`) {
			t.Errorf("first name %q: %d %v, want BAD_USER_INPUT on updateMyProfile", bad, code, body)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE identity_user_id = 'user_zoe' AND first_name = 'Zoe'`); n != 1 {
		t.Fatal("a refused name changed the person")
	}
	long := strings.Repeat("ë", 100)
	if code, body := update(long); code != http.StatusOK || !strings.Contains(mustJSON(body), long) {
		t.Fatalf("100 characters: %d %v", code, body)
	}
	if n := e.count(t, `SELECT count(*) FROM people WHERE identity_user_id = 'user_zoe' AND char_length(first_name) = 100 AND octet_length(first_name) = 200`); n != 1 {
		t.Fatal("the 100-character name was not stored whole")
	}
	e.p.stop(t, syscall.SIGTERM)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

package main_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// TestHangingStripeIsCutAtTheProviderDeadline: Stripe accepts connections
// and never answers. startCheckout answers 503 PROVIDER_UNAVAILABLE with
// Retry-After after PROVIDER_CALL_TIMEOUT (1 s here; stripe-go alone would
// wait 80 s), each call logs one WARN line (and its access line at WARN),
// no ERROR line.
func TestHangingStripeIsCutAtTheProviderDeadline(t *testing.T) {
	t.Parallel()
	clerk := clerkfake.New(t)
	clerk.AddUser(ports.IdentityUser{ID: "user_ada", PrimaryEmail: "ada@example.test", FirstName: "Ada", LastName: "Lovelace",
		Emails: []ports.IdentityEmail{{Address: "ada@example.test", Verified: true}}})
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); hanging.Close() })
	dbURL := testdb.NewURL(t)
	p := start(t, map[string]string{
		"DATABASE_URL": dbURL, "CLERK_SECRET_KEY": clerk.SecretKey(), "CLERK_API_URL": clerk.URL(),
		"CLERK_ISSUER": clerkfake.DefaultIssuer, "CLERK_AUTHORIZED_PARTIES": clerkfake.DefaultAuthorizedParty,
		"STRIPE_SECRET_KEY": "sk_test_hanging", "STRIPE_API_URL": hanging.URL,
		"PROVIDER_CALL_TIMEOUT": "1s", "RATE_LIMIT_PROVIDER_CALLS_PER_MINUTE": "100", "LOG_FORMAT": "text",
	}, "serve", "--no-worker")
	p.waitReady(t, 30*time.Second)
	priceCommunityTier(t, dbURL)
	token := clerk.MintToken("user_ada")
	var slowest time.Duration
	for i := range 8 {
		begin := time.Now()
		got := postGraphQL(t, p.addr, token, map[string]string{"query": `mutation { startCheckout(tierId: "community") }`})
		took := time.Since(begin)
		slowest = max(slowest, took)
		t.Logf("call %d: %d %v Retry-After %q in %s", i+1, got.Status, got.codes(), got.RetryAfter, took.Round(time.Millisecond))
		if got.Status != http.StatusServiceUnavailable || got.codes()["PROVIDER_UNAVAILABLE"] != 1 || got.RetryAfter == "" {
			t.Fatalf("call %d: %+v, want 503 PROVIDER_UNAVAILABLE with Retry-After", i+1, got)
		}
	}
	if slowest > 5*time.Second {
		t.Fatalf("slowest call took %s with PROVIDER_CALL_TIMEOUT=1s", slowest)
	}
	if out := p.output(); strings.Contains(out, "level=ERROR") {
		t.Fatalf("ERROR lines logged:\n%s", out)
	}
}

// priceCommunityTier gives the community tier a Stripe price, so that
// startCheckout reaches the provider, and returns a pool on the database.
func priceCommunityTier(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), `UPDATE membership_tiers SET stripe_price_id = 'price_community_test' WHERE id = 'community'`); err != nil {
		t.Fatal(err)
	}
	return pool
}

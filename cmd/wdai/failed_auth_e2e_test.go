package main_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/internal/testdb"
)

// TestForgedTokensSpendTheAddressAllowance: requests with a forged bearer
// token count against the client address like anonymous ones: within the
// anonymous allowance they get 401, past it 429 with Retry-After, and the
// address's anonymous requests are refused too.
func TestForgedTokensSpendTheAddressAllowance(t *testing.T) {
	t.Parallel()
	clerk := clerkfake.New(t)
	const allowance = 5
	p := start(t, map[string]string{
		"DATABASE_URL": testdb.NewURL(t), "CLERK_SECRET_KEY": clerk.SecretKey(), "CLERK_API_URL": clerk.URL(),
		"CLERK_ISSUER": clerkfake.DefaultIssuer, "CLERK_AUTHORIZED_PARTIES": clerkfake.DefaultAuthorizedParty,
		"RATE_LIMIT_ANONYMOUS_PER_MINUTE": "5",
	}, "serve", "--no-worker")
	p.waitReady(t, 30*time.Second)
	query := map[string]string{"query": "{ membershipTiers { id } }"}
	var unauthorized, limited int
	for range allowance + 3 {
		got := postGraphQL(t, p.addr, "forged.token.value", query)
		switch {
		case got.Status == http.StatusUnauthorized:
			unauthorized++
		case got.Status == http.StatusTooManyRequests && got.RetryAfter != "" && got.codes()["RATE_LIMITED"] == 1:
			limited++
		default:
			t.Fatalf("forged token: %+v, want 401 or 429 RATE_LIMITED", got)
		}
	}
	// The allowance refills one unit every 12 s; the loop takes far less.
	if unauthorized != allowance || limited != 3 {
		t.Fatalf("%d answered 401 and %d 429, want %d and 3", unauthorized, limited, allowance)
	}
	if got := postGraphQL(t, p.addr, "", query); got.Status != http.StatusTooManyRequests {
		t.Fatalf("anonymous request from the same address: %d, want 429", got.Status)
	}
}

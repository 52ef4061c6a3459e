package clerk_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk"
	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/ports"
)

// fakeClock is a settable clock for Config.Clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newVerifier(t *testing.T, fake *clerkfake.Server, clock *fakeClock) *clerk.Verifier {
	t.Helper()
	v, err := clerk.NewVerifier(clerk.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL(), Clock: clock.Now})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestVerifierAcceptsValidToken(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock)
	now := clock.Now()

	for _, iss := range []string{clerkfake.DefaultIssuer, "https://happy-otter-12.clerk.accounts.dev"} {
		token := fake.MintToken("user_2abc", clerkfake.WithIssuedAt(now), clerkfake.WithSessionID("sess_9"),
			clerkfake.WithIssuer(iss))
		got, err := v.Verify(context.Background(), token)
		if err != nil {
			t.Fatalf("issuer %s: Verify: %v", iss, err)
		}
		want := ports.Session{UserID: "user_2abc", SessionID: "sess_9", ExpiresAt: now.Add(clerkfake.DefaultTokenTTL)}
		if got != want {
			t.Errorf("issuer %s: Verify = %+v, want %+v", iss, got, want)
		}
	}
}

func TestVerifierRejectsBadTokens(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock)
	now := clock.Now()
	valid := fake.MintToken("user_1", clerkfake.WithIssuedAt(now))
	parts := strings.Split(valid, ".")

	cases := []struct {
		name   string
		token  string
		reason string
	}{
		{"expired", fake.MintToken("user_1", clerkfake.WithIssuedAt(now.Add(-time.Hour)), clerkfake.WithExpiry(now.Add(-6*time.Second))), "expired"},
		{"not yet valid", fake.MintToken("user_1", clerkfake.WithIssuedAt(now.Add(-time.Second)), clerkfake.WithNotBefore(now.Add(6*time.Second))), "not yet valid"},
		{"issued in the future", fake.MintToken("user_1", clerkfake.WithIssuedAt(now.Add(time.Minute)), clerkfake.WithNotBefore(now.Add(-time.Second))), "issued in the future"},
		{"foreign key under the published kid", fake.MintToken("user_1", clerkfake.WithIssuedAt(now), clerkfake.WithForeignKey()), "bad signature"},
		{"tampered payload", parts[0] + "." + strings.Split(fake.MintToken("user_admin", clerkfake.WithIssuedAt(now)), ".")[1] + "." + parts[2], "bad signature"},
		{"wrong issuer", fake.MintToken("user_1", clerkfake.WithIssuedAt(now), clerkfake.WithIssuer("https://evil.example.test")), "wrong issuer"},
		{"issuer spoofing the prefix without the dot", fake.MintToken("user_1", clerkfake.WithIssuedAt(now), clerkfake.WithIssuer("https://clerkevil.test")), "wrong issuer"},
		{"unknown kid", fake.MintToken("user_1", clerkfake.WithIssuedAt(now), clerkfake.WithKeyID("ins_unknown")), "unknown key id"},
		{"no kid", fake.MintToken("user_1", clerkfake.WithIssuedAt(now), clerkfake.WithKeyID("")), "no key id"},
		{"no subject", fake.MintToken("", clerkfake.WithIssuedAt(now)), "no subject"},
		{"empty", "", "malformed"},
		{"garbage", "not-a-jwt", "malformed"},
		{"three garbage parts", "a.b.c", "malformed"},
		{"unsigned", parts[0] + "." + parts[1] + ".", "bad signature"},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, ports.ErrInvalidToken) {
				t.Fatalf("Verify error = %v, want ErrInvalidToken", err)
			}
			if !strings.HasSuffix(err.Error(), ": "+tc.reason) {
				t.Errorf("Verify error = %q, want reason %q", err, tc.reason)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Errorf("error quotes the token: %q", err)
			}
		})
	}
}

func TestVerifierToleratesSkewWithinLeeway(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock) // default leeway 5s
	now := clock.Now()

	cases := []struct {
		name  string
		opts  []clerkfake.TokenOption
		valid bool
	}{
		{"expired 4s ago", []clerkfake.TokenOption{clerkfake.WithIssuedAt(now.Add(-time.Minute)), clerkfake.WithExpiry(now.Add(-4 * time.Second))}, true},
		{"expired 6s ago", []clerkfake.TokenOption{clerkfake.WithIssuedAt(now.Add(-time.Minute)), clerkfake.WithExpiry(now.Add(-6 * time.Second))}, false},
		{"valid from 4s on (server clock ahead)", []clerkfake.TokenOption{clerkfake.WithIssuedAt(now.Add(4 * time.Second))}, true},
		{"valid from 6s on", []clerkfake.TokenOption{clerkfake.WithIssuedAt(now.Add(6 * time.Second))}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(context.Background(), fake.MintToken("user_1", tc.opts...))
			if tc.valid && err != nil {
				t.Errorf("Verify: %v, want accepted", err)
			}
			if !tc.valid && !errors.Is(err, ports.ErrInvalidToken) {
				t.Errorf("Verify error = %v, want ErrInvalidToken", err)
			}
		})
	}

	strict, err := clerk.NewVerifier(clerk.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL(), Clock: clock.Now, Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	token := fake.MintToken("user_1", clerkfake.WithIssuedAt(now.Add(-time.Minute)), clerkfake.WithExpiry(now.Add(-4*time.Second)))
	if _, err := strict.Verify(context.Background(), token); !errors.Is(err, ports.ErrInvalidToken) {
		t.Errorf("leeway 1s, expired 4s ago: Verify error = %v, want ErrInvalidToken", err)
	}
}

func TestVerifierCachesJWKS(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock)
	token := fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), token); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify: %v", err)
	}
	if got := fake.JWKSFetches(); got != 1 {
		t.Errorf("20 verifications fetched the JWKS %d times, want 1", got)
	}

	// Spread over most of the hour, well past the refresh interval, the
	// cached key set still serves.
	for range 10 {
		clock.Advance(5 * time.Minute)
		if _, err := v.Verify(context.Background(), fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	if got := fake.JWKSFetches(); got != 1 {
		t.Errorf("verifications over 50 minutes fetched the JWKS %d times, want 1", got)
	}

	// A key set older than the max age is fetched again.
	clock.Advance(10*time.Minute + time.Second)
	if _, err := v.Verify(context.Background(), fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))); err != nil {
		t.Fatalf("Verify after an hour: %v", err)
	}
	if got := fake.JWKSFetches(); got != 2 {
		t.Errorf("after an hour: %d JWKS fetches, want 2", got)
	}
}

func TestVerifierRefreshesOnUnknownKidAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock)
	ctx := context.Background()
	if _, err := v.Verify(ctx, fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := fake.JWKSFetches(); got != 1 {
		t.Fatalf("JWKS fetches = %d, want 1", got)
	}

	// Forged kids: one refresh, then nothing until the interval passes.
	clock.Advance(11 * time.Second)
	for i := range 50 {
		token := fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()), clerkfake.WithKeyID("ins_forged_"+string(rune('a'+i%26))))
		if _, err := v.Verify(ctx, token); !errors.Is(err, ports.ErrInvalidToken) {
			t.Fatalf("forged kid: Verify error = %v, want ErrInvalidToken", err)
		}
	}
	if got := fake.JWKSFetches(); got != 2 {
		t.Errorf("50 unknown kids: JWKS fetches = %d, want 2", got)
	}

	// Clerk rotates its key: the new kid is picked up once the interval
	// has passed, and the old key still verifies meanwhile.
	fake.RotateKey()
	rotated := fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))
	if _, err := v.Verify(ctx, rotated); !errors.Is(err, ports.ErrInvalidToken) {
		t.Fatalf("new kid inside the refresh interval: Verify error = %v, want ErrInvalidToken", err)
	}
	clock.Advance(11 * time.Second)
	rotated = fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))
	if _, err := v.Verify(ctx, rotated); err != nil {
		t.Fatalf("new kid after the refresh interval: Verify: %v", err)
	}
	if got := fake.JWKSFetches(); got != 3 {
		t.Errorf("JWKS fetches = %d, want 3", got)
	}
}

func TestVerifierBackendFailureIsNotAnInvalidToken(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v, err := clerk.NewVerifier(clerk.Config{SecretKey: "sk_test_wrong", APIURL: fake.URL(), Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now())))
	if err == nil || errors.Is(err, ports.ErrInvalidToken) {
		t.Fatalf("Verify with a rejected secret key: error = %v, want a non-token error", err)
	}
	if !strings.Contains(err.Error(), "401") {
		t.Errorf("error = %q, want the 401 status", err)
	}
	if fake.JWKSFetches() != 1 {
		t.Errorf("JWKS fetches = %d, want 1", fake.JWKSFetches())
	}
	// Within the refresh interval the failure is remembered, not retried.
	_, err = v.Verify(context.Background(), fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now())))
	if err == nil || errors.Is(err, ports.ErrInvalidToken) {
		t.Fatalf("second Verify: error = %v, want a non-token error", err)
	}
	if fake.JWKSFetches() != 1 {
		t.Errorf("JWKS fetches = %d, want 1", fake.JWKSFetches())
	}
}

func TestVerifiersDoNotShareBackends(t *testing.T) {
	t.Parallel()
	fakeA, fakeB := clerkfake.New(t), clerkfake.New(t)
	clock := newFakeClock()
	va, vb := newVerifier(t, fakeA, clock), newVerifier(t, fakeB, clock)
	tokenA := fakeA.MintToken("user_a", clerkfake.WithIssuedAt(clock.Now()))
	tokenB := fakeB.MintToken("user_b", clerkfake.WithIssuedAt(clock.Now()))

	if s, err := va.Verify(context.Background(), tokenA); err != nil || s.UserID != "user_a" {
		t.Errorf("A verifies A's token: %+v, %v", s, err)
	}
	if s, err := vb.Verify(context.Background(), tokenB); err != nil || s.UserID != "user_b" {
		t.Errorf("B verifies B's token: %+v, %v", s, err)
	}
	if _, err := va.Verify(context.Background(), tokenB); !errors.Is(err, ports.ErrInvalidToken) {
		t.Errorf("A verifies B's token: error = %v, want ErrInvalidToken", err)
	}
	if fakeA.JWKSFetches() == 0 || fakeB.JWKSFetches() == 0 {
		t.Errorf("JWKS fetches A=%d B=%d, want each verifier to use its own server", fakeA.JWKSFetches(), fakeB.JWKSFetches())
	}
}

func TestNewVerifierRefusesBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  clerk.Config
	}{
		{"no secret key", clerk.Config{}},
		{"API URL not http", clerk.Config{SecretKey: "sk_test_x", APIURL: "ftp://clerk.test"}},
		{"API URL without host", clerk.Config{SecretKey: "sk_test_x", APIURL: "https://"}},
		{"negative leeway", clerk.Config{SecretKey: "sk_test_x", Leeway: -time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := clerk.NewVerifier(tc.cfg); err == nil {
				t.Error("NewVerifier: no error")
			}
			if _, err := clerk.NewDirectory(tc.cfg); err == nil {
				t.Error("NewDirectory: no error")
			}
		})
	}
}

func TestVerifierKeepsUsingCachedKeysWhileClerkIsDown(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock)
	ctx := context.Background()
	if _, err := v.Verify(ctx, fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	fake.SetDown(true)
	clock.Advance(2 * time.Hour) // the cached key set is stale: a refetch is due
	if _, err := v.Verify(ctx, fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))); err != nil {
		t.Errorf("known kid while Clerk is down: Verify: %v", err)
	}
	if got := fake.JWKSFetches(); got != 2 {
		t.Errorf("JWKS fetches = %d, want 2 (the failed refetch)", got)
	}

	// An unknown kid cannot be checked: that is an outage, not a bad token.
	clock.Advance(11 * time.Second)
	_, err := v.Verify(ctx, fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()), clerkfake.WithKeyID("ins_new")))
	if err == nil || errors.Is(err, ports.ErrInvalidToken) {
		t.Errorf("unknown kid while Clerk is down: error = %v, want a non-token error", err)
	}
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("error = %v, want the 503 status", err)
	}

	fake.SetDown(false)
	clock.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, fake.MintToken("user_1", clerkfake.WithIssuedAt(clock.Now()))); err != nil {
		t.Errorf("after recovery: Verify: %v", err)
	}
}

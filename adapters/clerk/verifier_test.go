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

// verifierConfig is a valid verifier configuration for fake: its issuer,
// and the fake's default authorized party plus another frontend.
func verifierConfig(fake *clerkfake.Server, clock *fakeClock) clerk.Config {
	return clerk.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL(), Clock: clock.Now, Issuer: clerkfake.DefaultIssuer,
		AuthorizedParties: []string{"https://app.example.test", clerkfake.DefaultAuthorizedParty}}
}

func newVerifier(t *testing.T, fake *clerkfake.Server, clock *fakeClock) *clerk.Verifier {
	t.Helper()
	v, err := clerk.NewVerifier(verifierConfig(fake, clock))
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

	cases := map[string][]clerkfake.TokenOption{
		"version 1 (no sts)":            nil,
		"version 2, active session":     {clerkfake.WithSessionStatus("active")},
		"the other authorized frontend": {clerkfake.WithAuthorizedParty("https://app.example.test")},
		"lifetime of exactly the limit": {clerkfake.WithExpiry(now.Add(clerk.DefaultMaxTokenLifetime))},
	}
	for name, opts := range cases {
		token := fake.MintToken("user_2abc", append([]clerkfake.TokenOption{clerkfake.WithIssuedAt(now), clerkfake.WithSessionID("sess_9")}, opts...)...)
		got, err := v.Verify(context.Background(), token)
		if err != nil {
			t.Fatalf("%s: Verify: %v", name, err)
		}
		if got.UserID != "user_2abc" || got.SessionID != "sess_9" {
			t.Errorf("%s: Verify = %+v", name, got)
		}
	}
	got, err := v.Verify(context.Background(), fake.MintToken("user_2abc", clerkfake.WithIssuedAt(now), clerkfake.WithSessionID("sess_9")))
	want := ports.Session{UserID: "user_2abc", SessionID: "sess_9", ExpiresAt: now.Add(clerkfake.DefaultTokenTTL)}
	if err != nil || got != want {
		t.Errorf("Verify = %+v, %v; want %+v", got, err, want)
	}
}

// TestVerifierRejectsTokensOfOtherIssuersPartiesAndSessions covers the
// claims a forger with a valid signature from another Clerk instance, or a
// stolen token of another frontend or of an unfinished sign-in, would get
// past a signature check: the exact issuer, azp, sts and the lifetime.
func TestVerifierRejectsTokensOfOtherIssuersPartiesAndSessions(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock)
	now := clock.Now()
	at := clerkfake.WithIssuedAt(now)

	cases := []struct {
		name   string
		opts   []clerkfake.TokenOption
		reason string
	}{
		{"another Clerk instance", []clerkfake.TokenOption{clerkfake.WithIssuer("https://happy-otter-12.clerk.accounts.dev")}, "wrong issuer"},
		{"issuer extending the configured one", []clerkfake.TokenOption{clerkfake.WithIssuer(clerkfake.DefaultIssuer + ".evil.test")}, "wrong issuer"},
		{"issuer with a path", []clerkfake.TokenOption{clerkfake.WithIssuer(clerkfake.DefaultIssuer + "/x")}, "wrong issuer"},
		{"issuer in upper case", []clerkfake.TokenOption{clerkfake.WithIssuer("https://CLERK.example.test")}, "wrong issuer"},
		{"no azp", []clerkfake.TokenOption{clerkfake.WithAuthorizedParty("")}, "no authorized party"},
		{"azp of another site", []clerkfake.TokenOption{clerkfake.WithAuthorizedParty("https://evil.example.test")}, "unauthorized party"},
		{"azp on another port", []clerkfake.TokenOption{clerkfake.WithAuthorizedParty("http://localhost:3001")}, "unauthorized party"},
		{"azp with a trailing slash", []clerkfake.TokenOption{clerkfake.WithAuthorizedParty("https://app.example.test/")}, "unauthorized party"},
		{"pending session", []clerkfake.TokenOption{clerkfake.WithSessionStatus("pending")}, "session not active"},
		{"unknown session status", []clerkfake.TokenOption{clerkfake.WithSessionStatus("revoked")}, "session not active"},
		{"lifetime of 100 years", []clerkfake.TokenOption{clerkfake.WithExpiry(now.AddDate(100, 0, 0))}, "lifetime too long"},
		{"lifetime one second over the limit", []clerkfake.TokenOption{clerkfake.WithExpiry(now.Add(clerk.DefaultMaxTokenLifetime + time.Second))}, "lifetime too long"},
		{"no iat", []clerkfake.TokenOption{clerkfake.WithoutIssuedAt()}, "no issue time"},
		{"iat before 1970", []clerkfake.TokenOption{clerkfake.WithIssuedAt(time.Unix(-1<<40, 0)), clerkfake.WithNotBefore(now.Add(-time.Second)), clerkfake.WithExpiry(now.Add(time.Minute))}, "no issue time"},
		{"nbf after exp", []clerkfake.TokenOption{clerkfake.WithIssuedAt(now.Add(-time.Second)), clerkfake.WithNotBefore(now.Add(3 * time.Second)), clerkfake.WithExpiry(now.Add(2 * time.Second))}, "never valid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(context.Background(), fake.MintToken("user_1", append([]clerkfake.TokenOption{at}, tc.opts...)...))
			if !errors.Is(err, ports.ErrInvalidToken) {
				t.Fatalf("Verify error = %v, want ErrInvalidToken", err)
			}
			if !strings.HasSuffix(err.Error(), ": "+tc.reason) {
				t.Errorf("Verify error = %q, want reason %q", err, tc.reason)
			}
		})
	}

	// A longer limit is a setting: the same 30-day token passes a verifier
	// configured for it and fails the default one.
	month := fake.MintToken("user_1", at, clerkfake.WithExpiry(now.AddDate(0, 0, 30)))
	cfg := verifierConfig(fake, clock)
	cfg.MaxTokenLifetime = 31 * 24 * time.Hour
	long, err := clerk.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := long.Verify(context.Background(), month); err != nil {
		t.Errorf("31-day limit, 30-day token: %v", err)
	}
	if _, err := v.Verify(context.Background(), month); !errors.Is(err, ports.ErrInvalidToken) {
		t.Errorf("default limit, 30-day token: error = %v, want ErrInvalidToken", err)
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

	cfg := verifierConfig(fake, clock)
	cfg.Leeway = time.Second
	strict, err := clerk.NewVerifier(cfg)
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
	cfg := verifierConfig(fake, clock)
	cfg.SecretKey = "sk_test_wrong"
	v, err := clerk.NewVerifier(cfg)
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

func TestNewVerifierRefusesBadIssuerOrParties(t *testing.T) {
	t.Parallel()
	base := clerk.Config{SecretKey: "sk_test_x", Issuer: "https://clerk.example.test", AuthorizedParties: []string{"https://app.example.test"}}
	if _, err := clerk.NewVerifier(base); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]func(*clerk.Config){
		"no issuer":                      func(c *clerk.Config) { c.Issuer = "" },
		"issuer that is not Clerk's":     func(c *clerk.Config) { c.Issuer = "https://auth.example.test" },
		"issuer over http":               func(c *clerk.Config) { c.Issuer = "http://clerk.example.test" },
		"issuer with a path":             func(c *clerk.Config) { c.Issuer = "https://clerk.example.test/v1" },
		"no authorized parties":          func(c *clerk.Config) { c.AuthorizedParties = nil },
		"party with a path":              func(c *clerk.Config) { c.AuthorizedParties = []string{"https://app.example.test/login"} },
		"party with a trailing slash":    func(c *clerk.Config) { c.AuthorizedParties = []string{"https://app.example.test/"} },
		"party that is a bare host":      func(c *clerk.Config) { c.AuthorizedParties = []string{"app.example.test"} },
		"party in upper case":            func(c *clerk.Config) { c.AuthorizedParties = []string{"https://App.example.test"} },
		"party with another scheme":      func(c *clerk.Config) { c.AuthorizedParties = []string{"ftp://app.example.test"} },
		"an empty party among good ones": func(c *clerk.Config) { c.AuthorizedParties = []string{"https://app.example.test", ""} },
		"negative max lifetime":          func(c *clerk.Config) { c.MaxTokenLifetime = -time.Second },
	}
	for name, change := range cases {
		cfg := base
		cfg.AuthorizedParties = append([]string(nil), base.AuthorizedParties...)
		change(&cfg)
		if _, err := clerk.NewVerifier(cfg); err == nil {
			t.Errorf("%s: NewVerifier: no error", name)
		}
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

// TestVerifierRemembersATokenOnlyUntilItExpires: a verified token is
// remembered (the signature is checked once), yet it stops working at its
// expiry plus the leeway exactly as without the memory, so a revoked
// session still ends within its token's lifetime.
func TestVerifierRemembersATokenOnlyUntilItExpires(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	clock := newFakeClock()
	v := newVerifier(t, fake, clock) // default leeway 5s
	now := clock.Now()
	token := fake.MintToken("user_1", clerkfake.WithIssuedAt(now), clerkfake.WithExpiry(now.Add(time.Minute)))
	for _, step := range []struct {
		advance time.Duration
		valid   bool
	}{{0, true}, {30 * time.Second, true}, {34 * time.Second, true}, {2 * time.Second, false}, {0, false}} {
		clock.Advance(step.advance)
		got, err := v.Verify(context.Background(), token)
		if step.valid && (err != nil || got.UserID != "user_1") {
			t.Fatalf("at %s: Verify = %+v, %v; want user_1", clock.Now().Sub(now), got, err)
		}
		if !step.valid && !errors.Is(err, ports.ErrInvalidToken) {
			t.Fatalf("at %s: Verify error = %v, want ErrInvalidToken", clock.Now().Sub(now), err)
		}
	}
}

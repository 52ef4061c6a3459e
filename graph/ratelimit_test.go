package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// countingLimiter grants rate.Limit units per key and then refuses, with a
// wait of one minute; it records every key it was asked about.
type countingLimiter struct {
	mu    sync.Mutex
	spent map[string]int
	asked []string
}

func (l *countingLimiter) Take(_ context.Context, key string, n int, rate ports.Rate) (ports.RateDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spent == nil {
		l.spent = map[string]int{}
	}
	l.asked = append(l.asked, key)
	if l.spent[key]+n > rate.Limit {
		return ports.RateDecision{RetryAfter: 59500 * time.Millisecond}, nil
	}
	l.spent[key] += n
	return ports.RateDecision{Allowed: true}, nil
}

func (l *countingLimiter) keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.asked...)
}

// portalApp serves openBillingPortal with a billing provider that counts
// the portal sessions it creates.
func portalApp(t *testing.T, created *atomic.Int32) *application.App {
	t.Helper()
	ctrl := gomock.NewController(t)
	billing := mocks.NewMockBilling(ctrl)
	billing.EXPECT().Configured().Return(true).AnyTimes()
	billing.EXPECT().CreatePortalSession(gomock.Any(), "cus_1", gomock.Any()).DoAndReturn(func(context.Context, string, string) (string, error) {
		return fmt.Sprintf("https://portal.example.test/p/%d", created.Add(1)), nil
	}).AnyTimes()
	people := mocks.NewMockPersonReader(ctrl)
	people.EXPECT().Get(gomock.Any(), "p1").Return(ports.Person{ID: "p1", BillingCustomerID: "cus_1"}, nil).AnyTimes()
	app := newApp(t, []ports.MembershipTier{{ID: "community"}}, nil)
	app.Commands.OpenBillingPortal = built(application.NewOpenBillingPortal(billing, people, "https://wdai.test/account"))
	return app
}

func limitedServer(t *testing.T, app *application.App, limits graph.RateLimits, principal *access.Principal) *httptest.Server {
	t.Helper()
	h := graph.NewHandler(app, graph.Options{
		// Batches larger than the default cap, to show each call counts.
		Limits:     graph.Limits{MaxRootMutationFields: 50},
		Middleware: []func(http.Handler) http.Handler{limits.Middleware()},
		Extensions: []graphql.HandlerExtension{limits.ProviderCallLimit()},
	})
	if principal != nil {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.ServeHTTP(w, r.WithContext(application.WithPrincipal(r.Context(), *principal)))
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestRequestLimitAnswers429WithRetryAfterPerCaller(t *testing.T) {
	t.Parallel()
	lim := &countingLimiter{}
	limits := graph.RateLimits{Limiter: lim, SignedIn: ports.Rate{Limit: 5, Period: time.Minute},
		Anonymous: ports.Rate{Limit: 2, Period: time.Minute}, ProviderCalls: ports.Rate{Limit: 1, Period: time.Minute}}
	srv := limitedServer(t, newApp(t, []ports.MembershipTier{{ID: "community"}}, nil), limits, nil)
	const tiers = `{"query":"{ membershipTiers { id } }"}`
	for i := range 2 {
		if got := post(t, srv, tiers); got.status != http.StatusOK || got.Data["membershipTiers"] == nil {
			t.Fatalf("request %d: %d %v", i+1, got.status, got.Errors)
		}
	}
	got := post(t, srv, tiers)
	if got.status != http.StatusTooManyRequests || got.code() != graph.CodeRateLimited || got.header.Get("Retry-After") != "60" {
		t.Fatalf("3rd anonymous request: %d %q Retry-After %q; want 429 RATE_LIMITED 60", got.status, got.code(), got.header.Get("Retry-After"))
	}
	if keys := lim.keys(); len(keys) != 3 || keys[0] != "ip:127.0.0.1" {
		t.Fatalf("limiter keys = %v, want ip:127.0.0.1 three times", keys)
	}

	// A signed-in person has an allowance of their own, by principal.
	user, err := access.NewUser("p1", access.RoleMember, true)
	if err != nil {
		t.Fatal(err)
	}
	srvUser := limitedServer(t, newApp(t, []ports.MembershipTier{{ID: "community"}}, nil), graph.RateLimits{Limiter: lim,
		SignedIn: ports.Rate{Limit: 5, Period: time.Minute}, Anonymous: ports.Rate{Limit: 2, Period: time.Minute},
		ProviderCalls: ports.Rate{Limit: 1, Period: time.Minute}}, &user)
	if got := post(t, srvUser, tiers); got.status != http.StatusOK {
		t.Fatalf("signed-in request after the address was spent: %d", got.status)
	}
	if keys := lim.keys(); keys[len(keys)-1] != "user:p1" {
		t.Fatalf("last key = %s, want user:p1", keys[len(keys)-1])
	}
}

func TestClientAddressBehindProxiesAndIPv6(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		hops       int
		remote     string
		forwarded  string
		wantSuffix string
	}{
		{"no proxies: the peer, whatever the header says", 0, "192.0.2.7:5000", "203.0.113.9", "ip:192.0.2.7"},
		{"one proxy: the entry it appended", 1, "10.0.0.2:5000", "198.51.100.1, 203.0.113.9", "ip:203.0.113.9"},
		{"two proxies", 2, "10.0.0.2:5000", "198.51.100.1, 203.0.113.9, 10.0.0.9", "ip:203.0.113.9"},
		{"IPv6 counts by its /64", 0, "[2001:db8:1:2:3:4:5:6]:5000", "", "ip:2001:db8:1:2::/64"},
		// Proxies that write the port: the address alone, so the client
		// keeps one allowance whatever port it came from.
		{"entry with a port", 1, "10.0.0.2:5000", "10.0.0.200:31337", "ip:10.0.0.200"},
		{"IPv6 entry with a port", 1, "10.0.0.2:5000", "[2001:db8:9:9::1]:443", "ip:2001:db8:9:9::/64"},
		{"bracketed IPv6 entry without a port", 1, "10.0.0.2:5000", "[2001:db8:9:9::1]", "ip:2001:db8:9:9::/64"},
		{"IPv4-mapped IPv6 with a port", 1, "10.0.0.2:5000", "[::ffff:198.51.100.4]:80", "ip:198.51.100.4"},
		// An entry that is no address (a misconfigured proxy, or one hop
		// too many trusted) never lands in a bucket shared with every
		// other such request: the nearest address to its right counts.
		{"garbage entry: the next proxy's entry", 2, "10.0.0.2:5000", "unknown, 10.0.0.7", "ip:10.0.0.7"},
		{"garbage entry: the connection", 1, "192.0.2.55:5000", "not-an-ip", "ip:192.0.2.55"},
		{"garbage entry with a port: the connection", 1, "192.0.2.56:5000", "bogus:80", "ip:192.0.2.56"},
		// Only the trusted hops count: a client's own leftmost entries are
		// never read while enough entries follow them.
		{"spoofed left entries are ignored", 1, "10.0.0.2:5000", "1.1.1.1:1, 2.2.2.2, 203.0.113.50:9", "ip:203.0.113.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := &countingLimiter{}
			limits := graph.RateLimits{Limiter: lim, SignedIn: ports.Rate{Limit: 5, Period: time.Minute},
				Anonymous: ports.Rate{Limit: 5, Period: time.Minute}, ProviderCalls: ports.Rate{Limit: 1, Period: time.Minute}, ProxyHops: tt.hops}
			h := limits.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", strings.NewReader("{}"))
			req.RemoteAddr = tt.remote
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if keys := lim.keys(); rec.Code != http.StatusNoContent || len(keys) != 1 || keys[0] != tt.wantSuffix {
				t.Fatalf("status %d keys %v, want %s", rec.Code, keys, tt.wantSuffix)
			}
		})
	}
}

// An aliased batch of provider calls counts each call: past the allowance
// the calls are refused before their resolver runs, so the provider sees
// exactly the allowance, and the answer is 429 with Retry-After.
func TestAliasedProviderCallsCountOneEach(t *testing.T) {
	t.Parallel()
	var created atomic.Int32
	lim := &countingLimiter{}
	limits := graph.RateLimits{Limiter: lim, SignedIn: ports.Rate{Limit: 100, Period: time.Minute},
		Anonymous: ports.Rate{Limit: 100, Period: time.Minute}, ProviderCalls: ports.Rate{Limit: 5, Period: time.Minute}}
	user, err := access.NewUser("p1", access.RoleMember, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := limitedServer(t, portalApp(t, &created), limits, &user)

	const batch = 30
	var sb strings.Builder
	sb.WriteString("mutation {")
	for i := range batch {
		fmt.Fprintf(&sb, " p%d: openBillingPortal", i)
	}
	sb.WriteString(" }")
	body, _ := json.Marshal(map[string]string{"query": sb.String()})
	got := post(t, srv, string(body))

	if n := created.Load(); n != 5 {
		t.Fatalf("the provider created %d portal sessions, want 5 (the allowance)", n)
	}
	limited := 0
	for _, e := range got.Errors {
		if e.Extensions["code"] == graph.CodeRateLimited {
			limited++
		}
	}
	if limited != batch-5 || got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") != "60" {
		t.Fatalf("%d RATE_LIMITED errors, status %d, Retry-After %q; want %d, 429, 60", limited, got.status, got.header.Get("Retry-After"), batch-5)
	}
	for i := range 5 {
		if got.Data["p"+strconv.Itoa(i)] == nil {
			t.Errorf("allowed call p%d has no URL", i)
		}
	}
	// One request unit, then one provider unit per call up to the first
	// refusal; later calls of the batch are refused without asking again.
	providerAsks := 0
	for _, k := range lim.keys() {
		if k == "provider:user:p1" {
			providerAsks++
		}
	}
	if providerAsks != 6 {
		t.Fatalf("limiter asked %d times for provider units, want 6 (5 granted, 1 refused)", providerAsks)
	}
}

// Every field named as a provider call is a mutation of the schema, so a
// rename cannot silently drop its limit.
func TestProviderMutationsAreMutations(t *testing.T) {
	t.Parallel()
	s := graph.Schema()
	if len(graph.ProviderMutations) == 0 {
		t.Fatal("no provider mutations listed")
	}
	for name := range graph.ProviderMutations {
		if s.Mutation.Fields.ForName(name) == nil {
			t.Errorf("%s is not a field of Mutation", name)
		}
	}
}

// A failed authentication spends one unit of the client address's
// anonymous allowance, the one its anonymous requests spend: once it is
// gone, forged tokens get 429 with Retry-After instead of 401, and so do
// anonymous requests from that address.
func TestFailedAuthenticationSpendsTheAddressAllowance(t *testing.T) {
	t.Parallel()
	lim := &countingLimiter{}
	limits := graph.RateLimits{Limiter: lim, SignedIn: ports.Rate{Limit: 50, Period: time.Minute},
		Anonymous: ports.Rate{Limit: 3, Period: time.Minute}, ProviderCalls: ports.Rate{Limit: 1, Period: time.Minute}}
	for i := range 4 {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", nil)
		req.RemoteAddr = "198.51.100.23:4000"
		rec := httptest.NewRecorder()
		answered := limits.RefuseFailedAuthentication(rec, req)
		if i < 3 {
			if answered {
				t.Fatalf("failure %d answered %d within the allowance of 3", i+1, rec.Code)
			}
			continue
		}
		var body struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if !answered || rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" ||
			len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != graph.CodeRateLimited {
			t.Fatalf("failure 4: answered %v %d Retry-After %q %s, want 429 RATE_LIMITED", answered, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	// The address's anonymous requests share the spent allowance.
	h := limits.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", strings.NewReader("{}"))
	req.RemoteAddr = "198.51.100.23:4001"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("anonymous request after the failures: %d, want 429", rec.Code)
	}
	for _, k := range lim.keys() {
		if k != "ip:198.51.100.23" {
			t.Fatalf("limiter keys %v, want only ip:198.51.100.23", lim.keys())
		}
	}
}

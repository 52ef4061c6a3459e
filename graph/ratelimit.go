package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// CodeRateLimited is the code of a refusal because the caller spent its
// allowance (HTTP 429, Retry-After).
const CodeRateLimited = "RATE_LIMITED"

// ProviderMutations are the root mutation fields that call a provider
// (billing, the events platform). Each call spends one unit of the
// caller's provider allowance, so an aliased batch of N is N calls.
var ProviderMutations = map[string]bool{"startCheckout": true, "openBillingPortal": true, "createEvent": true}

// RateLimits are the per-caller limits of /graphql. A caller is the
// signed-in principal, or the client address when anonymous (an IPv6
// address counts by its /64). The allowances live in a ports.RateLimiter
// shared by every replica.
type RateLimits struct {
	Limiter ports.RateLimiter
	// SignedIn and Anonymous are request allowances; every request to
	// /graphql spends one unit.
	SignedIn  ports.Rate
	Anonymous ports.Rate
	// ProviderCalls is the allowance of ProviderMutations calls.
	ProviderCalls ports.Rate
	// ProxyHops is how many trusted proxies append to X-Forwarded-For in
	// front of the server; 0 uses the connection's address only.
	ProxyHops int
	Logger    *slog.Logger
}

// callState is what the middleware hands to the field hook: the caller's
// key, and whether a provider call was refused (the answer becomes 429).
type callState struct {
	key        string
	mu         sync.Mutex
	refused    bool
	retryAfter time.Duration
	// unavailableFor > 0: a provider call failed transiently (503).
	unavailableFor time.Duration
}

type callStateKey struct{}

func (s *callState) refuse(after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused, s.retryAfter = true, max(s.retryAfter, after)
}

func (s *callState) unavailable(after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailableFor = max(s.unavailableFor, after)
}

func (s *callState) unavailableAfter() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unavailableFor
}

func (s *callState) refusedFor() (bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused, s.retryAfter
}

// Middleware spends one unit of the caller's request allowance per request,
// with one statement, and answers 429 RATE_LIMITED with Retry-After when it
// is spent. It must run after authentication (it reads the principal).
func (l RateLimits) Middleware() func(http.Handler) http.Handler {
	logger := l.logger()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, rate := l.callerKey(r)
			d, err := l.Limiter.Take(r.Context(), key, 1, rate)
			if err != nil {
				logger.ErrorContext(r.Context(), "graphql: rate limit", "error", err.Error())
				writeGraphQLError(w, http.StatusServiceUnavailable, "the service is unavailable, try again", CodeInternal)
				return
			}
			if !d.Allowed {
				setRetryAfter(w, d.RetryAfter)
				writeGraphQLError(w, http.StatusTooManyRequests, "too many requests: retry after the time in Retry-After", CodeRateLimited)
				return
			}
			st := &callState{key: key}
			next.ServeHTTP(&limitedWriter{ResponseWriter: w, st: st}, r.WithContext(context.WithValue(r.Context(), callStateKey{}, st)))
		})
	}
}

// RefuseFailedAuthentication spends one unit of the client address's
// anonymous allowance for a request whose credentials were refused, and
// answers 429 RATE_LIMITED with Retry-After (returning true) once it is
// spent; otherwise the caller answers 401. A limiter that fails lets the
// 401 go out: a failure of the limit never locks a person out.
func (l RateLimits) RefuseFailedAuthentication(w http.ResponseWriter, r *http.Request) bool {
	d, err := l.Limiter.Take(r.Context(), "ip:"+clientAddress(r, l.ProxyHops), 1, l.Anonymous)
	if err != nil {
		l.logger().WarnContext(r.Context(), "graphql: rate limit of a failed authentication", "error", err.Error())
		return false
	}
	if d.Allowed {
		return false
	}
	setRetryAfter(w, d.RetryAfter)
	writeGraphQLError(w, http.StatusTooManyRequests, "too many requests: retry after the time in Retry-After", CodeRateLimited)
	return true
}

func (l RateLimits) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

// callerKey names the caller's allowance and the rate that applies.
func (l RateLimits) callerKey(r *http.Request) (string, ports.Rate) {
	p := application.PrincipalFrom(r.Context())
	if cred, ok := application.AgentCredentialFrom(r.Context()); ok && cred.RatePerMinute > 0 {
		// An agent key carries its own allowance, shared by every replica.
		return "agent:" + p.ID(), ports.Rate{Limit: cred.RatePerMinute, Period: time.Minute}
	}
	if !p.IsAnonymous() {
		return p.Kind().String() + ":" + p.ID(), l.SignedIn
	}
	return "ip:" + clientAddress(r, l.ProxyHops), l.Anonymous
}

// clientAddress is the address of the client: the connection's peer, or
// with hops trusted proxies in front, the entry they appended to
// X-Forwarded-For for it. Entries may carry a port (ip:port, [v6]:port);
// the address alone counts. An entry that is no address (a misconfigured
// proxy, or more hops trusted than there are) counts as the nearest
// address to its right, the last being the connection's peer, so such
// requests never share one bucket with every other. Entries left of the
// trusted ones are the client's own and never read. An IPv6 address is
// cut to its /64.
func clientAddress(r *http.Request, hops int) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, ok := parseHost(host)
	if hops > 0 {
		var entries []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for _, e := range strings.Split(h, ",") {
				entries = append(entries, strings.TrimSpace(e))
			}
		}
		// The last proxy appended the connection it saw last; the client is
		// hops entries from the right. Fewer entries: the leftmost one.
		for i := max(len(entries)-hops, 0); i < len(entries); i++ {
			if a, ok2 := parseHost(entries[i]); ok2 {
				addr, ok = a, true
				break
			}
		}
	}
	if !ok {
		return "unknown" // the connection's peer is no IP address (a Unix socket)
	}
	if addr.Is6() {
		if prefix, err := addr.Prefix(64); err == nil {
			return prefix.String()
		}
	}
	return addr.String()
}

// parseHost reads an address written as ip, ip:port, [v6] or [v6]:port.
func parseHost(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if inner, ok := strings.CutPrefix(s, "["); ok {
		if inner, ok = strings.CutSuffix(inner, "]"); ok {
			if a, err := netip.ParseAddr(inner); err == nil {
				return a.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(d)))
}

// retrySeconds rounds a wait up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

// limitedWriter turns a 200 into 429 with Retry-After when a provider call
// of the request was refused, or into 503 with Retry-After when one failed
// because its provider is unavailable. gqlgen writes the response after executing,
// so the decision is known by then.
type limitedWriter struct {
	http.ResponseWriter
	st    *callState
	wrote bool
}

func (w *limitedWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if refused, after := w.st.refusedFor(); refused && code == http.StatusOK {
			setRetryAfter(w.ResponseWriter, after)
			code = http.StatusTooManyRequests
		} else if after := w.st.unavailableAfter(); after > 0 && code == http.StatusOK {
			setRetryAfter(w.ResponseWriter, after)
			code = http.StatusServiceUnavailable
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *limitedWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *limitedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ProviderCallLimit is the gqlgen extension that spends one unit of the
// caller's provider allowance for every call of a ProviderMutations field,
// before its resolver runs. A refused call resolves to null with a
// RATE_LIMITED error on its path and never reaches the provider; after one
// refusal, the request's later calls are refused without asking the
// limiter again. The response is then 429 with Retry-After.
func (l RateLimits) ProviderCallLimit() graphql.HandlerExtension { return providerCallLimit{l: l} }

type providerCallLimit struct{ l RateLimits }

var (
	_ graphql.HandlerExtension     = providerCallLimit{}
	_ graphql.RootFieldInterceptor = providerCallLimit{}
)

func (providerCallLimit) ExtensionName() string { return "ProviderCallLimit" }

func (p providerCallLimit) Validate(graphql.ExecutableSchema) error {
	if p.l.Limiter == nil {
		return errors.New("provider call limit: no limiter")
	}
	return nil
}

func (p providerCallLimit) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if !isProviderMutation(ctx) {
		return next(ctx)
	}
	fc := graphql.GetRootFieldContext(ctx)
	st, _ := ctx.Value(callStateKey{}).(*callState)
	if st == nil { // outside the middleware (in-process tests): the principal alone
		pr := application.PrincipalFrom(ctx)
		st = &callState{key: pr.Kind().String() + ":" + pr.ID()}
	}
	path := ast.Path{ast.PathName(fc.Field.Alias)}
	if refused, after := st.refusedFor(); refused {
		graphql.AddError(ctx, rateLimited(path, after))
		return graphql.Null
	}
	d, err := p.l.Limiter.Take(ctx, "provider:"+st.key, 1, p.l.ProviderCalls)
	if err != nil {
		graphql.AddError(ctx, &gqlerror.Error{Err: fmt.Errorf("provider call limit: %w", err), Message: err.Error(), Path: path})
		return graphql.Null
	}
	if !d.Allowed {
		st.refuse(d.RetryAfter)
		graphql.AddError(ctx, rateLimited(path, d.RetryAfter))
		return graphql.Null
	}
	return next(ctx)
}

func rateLimited(path ast.Path, after time.Duration) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    "too many calls that reach a provider: retry later",
		Path:       path,
		Extensions: map[string]any{"code": CodeRateLimited, "retryAfterSeconds": retrySeconds(after)},
	}
}

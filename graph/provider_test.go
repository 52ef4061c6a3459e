package graph_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

// providerServer serves openBillingPortal for a signed-in member whose
// billing provider answers with portal, behind the edge's provider
// deadline, logging to logs.
func providerServer(t *testing.T, deadline time.Duration, portal func(ctx context.Context) (string, error)) (*httptest.Server, *syncBuffer) {
	t.Helper()
	ctrl := gomock.NewController(t)
	billing := mocks.NewMockBilling(ctrl)
	billing.EXPECT().Configured().Return(true).AnyTimes()
	billing.EXPECT().CreatePortalSession(gomock.Any(), "cus_1", gomock.Any()).DoAndReturn(func(ctx context.Context, _, _ string) (string, error) {
		return portal(ctx)
	}).AnyTimes()
	people := mocks.NewMockPersonReader(ctrl)
	people.EXPECT().Get(gomock.Any(), "p1").Return(ports.Person{ID: "p1", BillingCustomerID: "cus_1"}, nil).AnyTimes()
	app := newApp(t, []ports.MembershipTier{{ID: "community"}}, nil)
	app.Commands.OpenBillingPortal = built(application.NewOpenBillingPortal(billing, people, "https://wdai.test/account"))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	limits := graph.RateLimits{Limiter: &countingLimiter{}, SignedIn: ports.Rate{Limit: 100, Period: time.Minute},
		Anonymous: ports.Rate{Limit: 100, Period: time.Minute}, ProviderCalls: ports.Rate{Limit: 100, Period: time.Minute}, Logger: logger}
	h := graph.NewHandler(app, graph.Options{Logger: logger,
		Middleware: []func(http.Handler) http.Handler{limits.Middleware()},
		Extensions: []graphql.HandlerExtension{limits.ProviderCallLimit(), graph.ProviderCallDeadline(deadline)},
	})
	user, err := access.NewUser("p1", access.RoleMember, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(application.WithPrincipal(r.Context(), user)))
	}))
	t.Cleanup(srv.Close)
	return srv, logs
}

const portalMutation = `{"query":"mutation { openBillingPortal }"}`

// A provider that hangs holds the request no longer than the deadline;
// the answer is 503 PROVIDER_UNAVAILABLE with Retry-After, logged as one
// WARN line and no ERROR.
func TestHangingProviderIsCutAtTheDeadline(t *testing.T) {
	t.Parallel()
	srv, logs := providerServer(t, 200*time.Millisecond, func(ctx context.Context) (string, error) {
		<-ctx.Done() // stripe-go stops at the context's deadline, as here
		return "", ports.Transient("stripe", ctx.Err(), 0)
	})
	start := time.Now()
	got := post(t, srv, portalMutation)
	took := time.Since(start)
	t.Logf("hanging provider: answered %d %q in %s", got.status, got.code(), took)
	if got.status != http.StatusServiceUnavailable || got.code() != graph.CodeProviderUnavailable || got.header.Get("Retry-After") == "" {
		t.Fatalf("answer %d %q Retry-After %q, want 503 %s with Retry-After", got.status, got.code(), got.header.Get("Retry-After"), graph.CodeProviderUnavailable)
	}
	if took > 2*time.Second {
		t.Fatalf("the request took %s with a deadline of 200ms", took)
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("logs:\n%s\nwant one WARN line and no ERROR", logs)
	}
}

// An open breaker answers at once: 503 PROVIDER_UNAVAILABLE with the
// breaker's wait in Retry-After, and WARN lines only, however many calls.
func TestOpenBreakerAnswersProviderUnavailable(t *testing.T) {
	t.Parallel()
	open := &ports.TransientError{Provider: "stripe", RetryAfter: 27 * time.Second, CircuitOpen: true, Err: errors.New("circuit breaker is open")}
	srv, logs := providerServer(t, 10*time.Second, func(context.Context) (string, error) {
		return "", open
	})
	for range 5 {
		got := post(t, srv, portalMutation)
		if got.status != http.StatusServiceUnavailable || got.code() != graph.CodeProviderUnavailable || got.header.Get("Retry-After") != "27" {
			t.Fatalf("answer %d %q Retry-After %q, want 503 %s Retry-After 27", got.status, got.code(), got.header.Get("Retry-After"), graph.CodeProviderUnavailable)
		}
		if len(got.Errors) != 1 || strings.Contains(got.Errors[0].Message, "circuit") {
			t.Fatalf("errors %v: want one, without the provider's own text", got.Errors)
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 0 {
		t.Fatalf("%d ERROR lines:\n%s", n, logs)
	}
}

// The deadline applies only to the fields that call a provider.
func TestProviderDeadlineLeavesOtherFieldsAlone(t *testing.T) {
	t.Parallel()
	srv, _ := providerServer(t, time.Nanosecond, func(context.Context) (string, error) { return "https://portal", nil })
	if got := post(t, srv, `{"query":"{ membershipTiers { id } }"}`); got.status != http.StatusOK || len(got.Errors) != 0 {
		t.Fatalf("a read: %d %v", got.status, got.Errors)
	}
}

package graph_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
)

// blockingTiers answers only when the request's context ends, as a store
// query does when the client hangs up mid-flight.
type blockingTiers struct {
	fixedTiers
	started chan struct{}
}

func (b blockingTiers) ListTiers(ctx context.Context) ([]ports.MembershipTier, error) {
	close(b.started)
	<-ctx.Done()
	return nil, fmt.Errorf("query tiers: %w", ctx.Err())
}

// A client that leaves while a resolver waits is not a server fault: no
// ERROR line, and the line written says the client went away.
func TestClientDisconnectInResolverIsNotLoggedAsError(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	started := make(chan struct{})
	tiers, err := application.NewListMembershipTiers(blockingTiers{started: started})
	if err != nil {
		t.Fatal(err)
	}
	h := graph.NewHandler(&application.App{Queries: application.Queries{ListMembershipTiers: tiers}},
		graph.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	ctx, cancel := context.WithCancel(t.Context())
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ membershipTiers { id } }"}`))
	r.Header.Set("Content-Type", "application/json")
	go func() {
		<-started
		cancel()
	}()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	out := logs.String()
	if strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, "client went away") {
		t.Fatalf("disconnect logged as:\n%s", out)
	}
	if strings.Contains(rec.Body.String(), graph.CodeInternal) {
		t.Fatalf("answer = %s, want no INTERNAL", rec.Body.String())
	}
}

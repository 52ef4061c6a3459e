package graph

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/graph/generated"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// preEdgeHandler is /graphql as it was before the edge limits: gqlgen with
// a 1,000-entry query cache and its own complexity check, no body cap. It
// exists only as the same-run baseline of BenchmarkSignedInReadEdge.
func preEdgeHandler(app *application.App) http.Handler {
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{App: app}, Directives: NewDirectiveRoot()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.FixedComplexityLimit(DefaultComplexityLimit))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, app))
	})
	srv.SetErrorPresenter(presenter(slog.New(slog.DiscardHandler)))
	return srv
}

// BenchmarkSignedInReadEdge measures the GraphQL layer alone on the
// signed-in read `me { id email firstName membership { status } }` (stores
// mocked, so the edge's cost is not hidden behind the database): "edge"
// is graph.NewHandler, "pre-edge" the gqlgen setup it replaced, in the
// same run. It reports req/s of each (64 requests in flight) and their
// ratio; docs/graphql-edge.md holds the figures.
func BenchmarkSignedInReadEdge(b *testing.B) {
	ctrl := gomock.NewController(b)
	people := mocks.NewMockPersonReader(ctrl)
	people.EXPECT().Get(gomock.Any(), gomock.Any()).Return(ports.Person{ID: "p1", FirstName: "Ada", PrimaryEmail: "ada@example.test", Role: access.RoleMember}, nil).AnyTimes()
	ms := mocks.NewMockMembershipReader(ctrl)
	m, err := membership.New("p1")
	if err != nil {
		b.Fatal(err)
	}
	tier, _ := membership.NewTier("community")
	snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_1", Status: membership.ProviderActive, Tier: tier,
		CurrentPeriodEnd: time.Now().Add(720 * time.Hour), TakenAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.ApplySnapshot(snap); err != nil {
		b.Fatal(err)
	}
	ms.EXPECT().GetMany(gomock.Any(), gomock.Any()).Return(map[string]*membership.Membership{"p1": m}, nil).AnyTimes()
	me, err := application.NewGetMe(people)
	if err != nil {
		b.Fatal(err)
	}
	grants := mocks.NewMockAccessReader(ctrl)
	grants.EXPECT().GrantsOf(gomock.Any(), gomock.Any()).Return(map[string][]ledger.Grant{"p1": {{ID: "g1", PersonID: "p1",
		Source: ledger.SourceSubscription, From: time.Now().Add(-time.Hour), GrantedBy: "billing", Reason: "paid"}}}, nil).AnyTimes()
	getMemberships, err := application.NewGetMemberships(ms, grants, ports.SystemClock{})
	if err != nil {
		b.Fatal(err)
	}
	app := &application.App{Queries: application.Queries{GetMe: me, GetMemberships: getMemberships}}
	user, err := access.NewUser("p1", access.RoleMember, true)
	if err != nil {
		b.Fatal(err)
	}
	ctx := application.WithPrincipal(context.Background(), user)
	body := `{"query":"{ me { id email firstName membership { status } } }"}`

	type total struct {
		n        int
		wall     time.Duration
		cpu      time.Duration
		measured bool
	}
	totals := map[string]*total{"pre-edge": {}, "edge": {}}
	run := func(name string, h http.Handler) {
		b.Run(name, func(b *testing.B) {
			// Many requests in flight: the membership loader waits 1 ms to
			// batch, so few goroutines would measure that wait, not CPU.
			b.SetParallelism(32)
			start, cpu0 := time.Now(), processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", strings.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"ACTIVE"`) {
						b.Errorf("status %d: %s", rec.Code, rec.Body.String())
						return
					}
				}
			})
			wall, cpu := time.Since(start), processCPU(b)-cpu0
			b.ReportMetric(float64(b.N)/wall.Seconds(), "req/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/req")
			if b.N >= 1000 { // not the calibration rounds
				t := totals[name]
				t.n, t.wall, t.cpu, t.measured = t.n+b.N, t.wall+wall, t.cpu+cpu, true
			}
		})
	}
	// Interleaved rounds, so that a noisy neighbour hits both alike.
	for range 5 {
		run("pre-edge", preEdgeHandler(app))
		run("edge", NewHandler(app, Options{Logger: slog.New(slog.DiscardHandler)}))
	}
	pre, edge := totals["pre-edge"], totals["edge"]
	if !pre.measured || !edge.measured {
		return
	}
	// The totals of every round, as one more line of the report.
	b.Run("all-rounds", func(b *testing.B) {
		preRate, edgeRate := float64(pre.n)/pre.wall.Seconds(), float64(edge.n)/edge.wall.Seconds()
		preCPU, edgeCPU := float64(pre.cpu)/float64(pre.n), float64(edge.cpu)/float64(edge.n)
		b.ReportMetric(preRate, "pre-edge-req/s")
		b.ReportMetric(edgeRate, "edge-req/s")
		b.ReportMetric(edgeRate/preRate, "throughput-edge/pre-edge")
		b.ReportMetric(preCPU/1e3, "pre-edge-cpu-us/req")
		b.ReportMetric(edgeCPU/1e3, "edge-cpu-us/req")
		b.ReportMetric(edgeCPU/preCPU, "cpu-edge/pre-edge")
	})
}

// processCPU is the process's user+system CPU time.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

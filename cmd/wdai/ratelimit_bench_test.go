package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
)

// BenchmarkSignedInReadWithRateLimit serves `{ me { id firstName } }` (one
// primary-key read) for one signed-in member from 16 goroutines, in
// process, through the GraphQL handler wired as serve wires it, in the same
// run: without the edge (baseline) and with the per-caller rate limit and
// trusted documents in front. The limit is raised so that no request is
// refused; leases then spend it 20 units per statement. It reports both
// rates and the median ratio.
func BenchmarkSignedInReadWithRateLimit(b *testing.B) {
	dbURL := testdb.NewURL(b)
	cfg, err := config.LoadFrom(map[string]string{"DATABASE_URL": dbURL, "RATE_LIMIT_PER_MINUTE": "1000000"})
	if err != nil {
		b.Fatal(err)
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	pcfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	sys, err := buildSystem(cfg, pool, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	person, err := postgres.NewPeopleStore(pool).Create(context.Background(), "bench@example.test", "Bench", "Member")
	if err != nil {
		b.Fatal(err)
	}
	user, err := access.NewUser(person.ID, access.RoleMember, membership.StatusActive)
	if err != nil {
		b.Fatal(err)
	}
	edge, err := buildGraphEdge(sys)
	if err != nil {
		b.Fatal(err)
	}
	signedIn := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(application.WithPrincipal(r.Context(), user)))
		})
	}
	bare := signedIn(graph.NewHandler(sys.app, graph.Options{}))
	limited := signedIn(graph.NewHandler(sys.app, edge.with(graph.Options{})))

	const body = `{"query":"{ me { id firstName } }"}`
	serveN := func(h http.Handler, n int64) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		begin := time.Now()
		for range 16 {
			wg.Go(func() {
				for i := next.Add(1); i <= n; i = next.Add(1) {
					req := httptest.NewRequestWithContext(b.Context(), http.MethodPost, "/graphql", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), person.ID) {
						b.Errorf("status %d: %s", rec.Code, rec.Body.String())
						return
					}
				}
			})
		}
		wg.Wait()
		return float64(n) / time.Since(begin).Seconds()
	}
	// The machine is shared, so the two are measured in short interleaved
	// rounds (alternating which goes first) and the median round's ratio is
	// reported with the overall rates.
	const rounds = 10
	chunk := max(int64(b.N)/rounds, 100)
	var bareSum, withSum float64
	ratios := make([]float64, 0, rounds)
	b.ResetTimer()
	for r := range rounds {
		var bareRate, withRate float64
		if r%2 == 0 {
			bareRate, withRate = serveN(bare, chunk), serveN(limited, chunk)
		} else {
			withRate, bareRate = serveN(limited, chunk), serveN(bare, chunk)
		}
		bareSum, withSum = bareSum+bareRate, withSum+withRate
		ratios = append(ratios, withRate/bareRate)
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(bareSum/rounds, "bare_reads/s")
	b.ReportMetric(withSum/rounds, "limited_reads/s")
	b.ReportMetric((ratios[rounds/2-1]+ratios[rounds/2])/2, "median_limited/bare")
	b.ReportMetric(0, "ns/op")
}

package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
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
	statements := &statementCounter{}
	pcfg.ConnConfig.Tracer = statements
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
	user, err := access.NewUser(person.ID, access.RoleMember, true)
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
	// reported with the overall rates. Wall-clock rates move with the load
	// of the machine; this process's CPU time and the statements sent per
	// request do not, so they are reported too.
	const rounds = 10
	chunk := max(int64(b.N)/rounds, 100)
	type cost struct {
		rate       float64
		cpu        time.Duration
		statements int64
	}
	measure := func(h http.Handler) cost {
		cpu0, st0 := processCPU(b), statements.n.Load()
		rate := serveN(h, chunk)
		return cost{rate: rate, cpu: processCPU(b) - cpu0, statements: statements.n.Load() - st0}
	}
	var bareSum, withSum cost
	ratios := make([]float64, 0, rounds)
	b.ResetTimer()
	for r := range rounds {
		var bareCost, withCost cost
		if r%2 == 0 {
			bareCost, withCost = measure(bare), measure(limited)
		} else {
			withCost, bareCost = measure(limited), measure(bare)
		}
		for _, p := range []struct{ sum, c *cost }{{&bareSum, &bareCost}, {&withSum, &withCost}} {
			p.sum.rate, p.sum.cpu, p.sum.statements = p.sum.rate+p.c.rate, p.sum.cpu+p.c.cpu, p.sum.statements+p.c.statements
		}
		ratios = append(ratios, withCost.rate/bareCost.rate)
	}
	b.StopTimer()
	slices.Sort(ratios)
	requests := float64(chunk * rounds)
	b.ReportMetric(bareSum.rate/rounds, "bare_reads/s")
	b.ReportMetric(withSum.rate/rounds, "limited_reads/s")
	b.ReportMetric((ratios[rounds/2-1]+ratios[rounds/2])/2, "median_limited/bare")
	b.ReportMetric(float64(bareSum.cpu.Microseconds())/requests, "bare_cpu_us/req")
	b.ReportMetric(float64(withSum.cpu.Microseconds())/requests, "limited_cpu_us/req")
	b.ReportMetric(float64(bareSum.statements)/requests, "bare_stmts/req")
	b.ReportMetric(float64(withSum.statements)/requests, "limited_stmts/req")
	b.ReportMetric(0, "ns/op")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU is the CPU time every process on the machine has used (the
// busy fields of /proc/stat's first line): what a request costs the load
// generator, the server and PostgreSQL together. Zero where /proc/stat is
// missing.
func machineCPU() time.Duration {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)
	var ticks int64
	// user, nice, system, then idle and iowait (skipped), irq, softirq;
	// steal is time the machine did not get, and guest time is counted in
	// user already.
	for i, f := range fields[1:min(len(fields), 8)] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

// postgresCPU is the CPU time the machine's PostgreSQL processes have used,
// their reaped children's included (/proc/*/stat of every process named
// postgres): the part of a request's cost that pprof cannot see. Counts
// every cluster on the machine; an idle one adds nothing.
func postgresCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < 0 || s[i+1:j] != "postgres" {
			continue
		}
		f := strings.Fields(s[j+1:]) // from the state field on: utime, stime, cutime, cstime are 11-14
		if len(f) < 15 {
			continue
		}
		for _, field := range f[11:15] {
			n, _ := strconv.ParseInt(field, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

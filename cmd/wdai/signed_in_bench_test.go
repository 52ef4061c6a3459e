package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/internal/benchref"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

const signedInClients = 16

// signedInQuery is the signed-in read the frontend makes on every page.
const signedInQuery = `{ me { id email firstName membership { status } } }`

// BenchmarkSignedInRead (P3) measures GraphQL throughput for a signed-in
// read, by a paying member, through the whole HTTP stack (request id, access log, metrics,
// session token verification against the Clerk stand-in's JWKS, the
// GraphQL edge limits and rate limit, resolvers, PostgreSQL) from 16
// clients over loopback, and in the same run, on the same PostgreSQL, the
// reference: internal/benchref, the smallest gqlgen server with one pgx
// primary-key read. The two are measured in interleaved rounds. It reports
// both rates, the median of the rounds' ratios (the goal is at least 0.7), the p50 and p99 of
// each, the process's CPU per request of ours, and the process's resident
// memory under the load beside its idle figure before it (P8).
func BenchmarkSignedInRead(b *testing.B) {
	clerk := clerkfake.New(b)
	clerk.AddUser(ports.IdentityUser{ID: "user_bench", FirstName: "Ada", LastName: "Bench", PrimaryEmail: "ada@example.test",
		Emails: []ports.IdentityEmail{{Address: "ada@example.test", Verified: true}}})
	dbURL := testdb.NewURL(b)
	pool, _, handler := benchSystem(b, dbURL, map[string]string{"WDAI_ENV": "production",
		"CLERK_SECRET_KEY": clerk.SecretKey(), "CLERK_API_URL": clerk.URL(),
		"CLERK_ISSUER": clerkfake.DefaultIssuer, "CLERK_AUTHORIZED_PARTIES": "http://localhost:3000",
		// The per-caller limit is not what this measures (one caller, many requests).
		"RATE_LIMIT_PER_MINUTE": "1000000"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := serveBench(b, "wdai", handler)
	token := clerk.MintToken("user_bench")
	body, _ := json.Marshal(map[string]string{"query": signedInQuery})

	// The reference: its own pool of the same size, on the same database.
	refPool, err := pgxpool.New(ctx, dbURL+poolSizeParam(dbURL))
	if err != nil {
		b.Fatal(err)
	}
	defer refPool.Close()
	if err := benchref.Setup(ctx, refPool); err != nil {
		b.Fatal(err)
	}
	refAddr := serveBench(b, "reference", benchref.NewHandler(refPool))
	refBody, _ := json.Marshal(map[string]string{"query": benchref.ReadQuery})

	// Every answer must be the person's, an active member (as the
	// reference's row is), with no error.
	check := func(status int, out []byte) error {
		active := bytes.Contains(out, []byte(`"status":"ACTIVE"`)) || bytes.Contains(out, []byte(`"status":"active"`)) // ours, the reference's
		if status != http.StatusOK || !bytes.Contains(out, []byte(`"firstName":"Ada"`)) || !active || bytes.Contains(out, []byte(`"errors"`)) {
			return &benchError{status: status, body: string(out)}
		}
		return nil
	}
	oursConns, refConns := dialBench(b, addr, signedInClients), dialBench(b, refAddr, signedInClients)
	oursReq := rawPost(addr, "/graphql", body, "Authorization: Bearer "+token)
	refReq := rawPost(refAddr, "/graphql", refBody)
	// The first request signs the person in (creates them once); then
	// they become what most signed-in readers are: a paying member, with a
	// subscription and the grant of access it gives.
	signUp := func(status int, out []byte) error {
		if status != http.StatusOK || !bytes.Contains(out, []byte(`"firstName":"Ada"`)) {
			return &benchError{status: status, body: string(out)}
		}
		return nil
	}
	sendRound(b, oursConns[:1], [][]byte{oursReq}, make([]time.Duration, 1), signUp)
	if _, err := pool.Exec(ctx, `WITH p AS (SELECT id FROM people WHERE identity_user_id = 'user_bench'),
		m AS (INSERT INTO memberships (person_id, status, tier, subscription_id, ever_active, access_active, current_period_end)
			SELECT id, 'active', 'community', 'sub_bench', true, true, now() + interval '30 days' FROM p RETURNING person_id),
		s AS (INSERT INTO membership_subscriptions (subscription_id, person_id, status, tier, current_period_end, snapshot_at)
			SELECT 'sub_bench', person_id, 'active', 'community', now() + interval '30 days', now() FROM m RETURNING person_id)
		INSERT INTO access_grants (person_id, source, tier, starts_at, ends_at, granted_by, reason)
			SELECT person_id, 'subscription', 'community', now() - interval '1 day', now() + interval '33 days', 'billing', 'benchmark' FROM s`); err != nil {
		b.Fatal(err)
	}
	sendRound(b, oursConns[:1], [][]byte{oursReq}, make([]time.Duration, 1), check)
	sendRound(b, refConns[:1], [][]byte{refReq}, make([]time.Duration, 1), check)
	if b.Failed() {
		return
	}
	idleRSS := residentMB(b)

	// Interleaved rounds, each server in turn, so both see the same share
	// of a shared machine; the ratio is the median of the rounds' ratios.
	const rounds = 10
	per := max(b.N/rounds, 50)
	var oursLat, refLat []time.Duration
	var oursTime, refTime, oursCPU, refCPU, oursAll, refAll, oursPG, refPG time.Duration
	var ratios []float64
	run := func(conns []net.Conn, req []byte, lat *[]time.Duration, total, cpu, all, pg *time.Duration) float64 {
		cpu0, all0, pg0 := processCPU(b), machineCPU(), postgresCPU()
		l := make([]time.Duration, per)
		d := sendRound(b, conns, slices.Repeat([][]byte{req}, per), l, check)
		*lat, *total, *cpu, *all = append(*lat, l...), *total+d, *cpu+processCPU(b)-cpu0, *all+machineCPU()-all0
		*pg += postgresCPU() - pg0
		return float64(per) / d.Seconds()
	}
	b.ResetTimer()
	for r := range rounds {
		var o, f float64
		if r%2 == 0 {
			o, f = run(oursConns, oursReq, &oursLat, &oursTime, &oursCPU, &oursAll, &oursPG), run(refConns, refReq, &refLat, &refTime, &refCPU, &refAll, &refPG)
		} else {
			f, o = run(refConns, refReq, &refLat, &refTime, &refCPU, &refAll, &refPG), run(oursConns, oursReq, &oursLat, &oursTime, &oursCPU, &oursAll, &oursPG)
		}
		ratios = append(ratios, o/f)
	}
	b.StopTimer()
	loadRSS := residentMB(b)
	slices.Sort(oursLat)
	slices.Sort(refLat)
	slices.Sort(ratios)
	// CPU of the whole process (server and the 16 clients) per request:
	// steadier than req/s on a shared machine.
	b.ReportMetric(float64(oursCPU.Microseconds())/float64(len(oursLat)), "cpu-us/req")
	b.ReportMetric(float64(refCPU.Microseconds())/float64(len(refLat)), "ref-cpu-us/req")
	b.ReportMetric(float64(oursAll.Microseconds())/float64(len(oursLat)), "machine-cpu-us/req")
	b.ReportMetric(float64(refAll.Microseconds())/float64(len(refLat)), "ref-machine-cpu-us/req")
	b.ReportMetric(float64(oursPG.Microseconds())/float64(len(oursLat)), "pg-us/req")
	b.ReportMetric(float64(refPG.Microseconds())/float64(len(refLat)), "ref-pg-us/req")
	b.ReportMetric(float64(len(oursLat))/oursTime.Seconds(), "req/s")
	b.ReportMetric(percentileMS(oursLat, 50), "p50-ms")
	b.ReportMetric(percentileMS(oursLat, 99), "p99-ms")
	b.ReportMetric(float64(len(refLat))/refTime.Seconds(), "ref-req/s")
	b.ReportMetric(percentileMS(refLat, 99), "ref-p99-ms")
	b.ReportMetric((ratios[rounds/2-1]+ratios[rounds/2])/2, "ratio")
	b.ReportMetric(loadRSS, "rss-MB")
	b.ReportMetric(idleRSS, "idle-rss-MB")
}

// serveBench serves h on a loopback port until the benchmark ends and
// returns its address (host:port). Its requests carry the pprof label server=name, so
// `go tool pprof -tagfocus server=wdai` shows one server's profile.
func serveBench(b *testing.B, name string, h http.Handler) string {
	b.Helper()
	ln, err := (&net.ListenConfig{}).Listen(b.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	labels := pprof.Labels("server", name)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), labels, func(ctx context.Context) { h.ServeHTTP(w, r.WithContext(ctx)) })
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// percentileMS is the p-th percentile of sorted latencies, in ms.
func percentileMS(sorted []time.Duration, p int) float64 {
	return float64(sorted[len(sorted)*p/100].Microseconds()) / 1000
}

// poolSizeParam sizes the reference's pool like ours (8 connections).
func poolSizeParam(dbURL string) string {
	if strings.Contains(dbURL, "?") {
		return "&pool_max_conns=8"
	}
	return "?pool_max_conns=8"
}

// residentMB is this process's resident set size (VmRSS), in MB.
func residentMB(b *testing.B) float64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Logf("no RSS: %v", err)
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

type benchError struct {
	status int
	body   string
}

func (e *benchError) Error() string { return "status " + http.StatusText(e.status) + ": " + e.body }

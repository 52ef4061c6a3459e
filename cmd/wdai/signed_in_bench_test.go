package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

const signedInClients = 16

// signedInQuery is the signed-in read the frontend makes on every page.
const signedInQuery = `{ me { id email firstName membership { status } } }`

// BenchmarkSignedInRead measures GraphQL throughput for a signed-in read
// through the whole HTTP stack (request id, access log, metrics, session
// token verification against the Clerk stand-in's JWKS, the GraphQL edge
// limits, resolvers, PostgreSQL) from 16 clients over loopback. It reports
// requests/s with p50 and p99, and the process's CPU per request. Compare req/s across commits in one
// session (docs/graphql-edge.md); the edge's own overhead, measured
// against the pre-edge gqlgen setup in the same run, is
// graph.BenchmarkSignedInReadEdge.
func BenchmarkSignedInRead(b *testing.B) {
	clerk := clerkfake.New(b)
	clerk.AddUser(ports.IdentityUser{ID: "user_bench", FirstName: "Ada", LastName: "Bench", PrimaryEmail: "ada@example.test",
		Emails: []ports.IdentityEmail{{Address: "ada@example.test", Verified: true}}})
	dbURL := testdb.NewURL(b)
	cfg, err := config.LoadFrom(map[string]string{"DATABASE_URL": dbURL, "WDAI_ENV": "production",
		"CLERK_SECRET_KEY": clerk.SecretKey(), "CLERK_API_URL": clerk.URL(),
		"CLERK_ISSUER": clerkfake.DefaultIssuer, "CLERK_AUTHORIZED_PARTIES": "http://localhost:3000",
		// The per-caller limit is not what this measures (one caller, many requests).
		"RATE_LIMIT_PER_MINUTE": "1000000"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := postgres.Open(ctx, dbURL, postgres.PoolConfig{MaxConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	sys, err := buildSystemWith(cfg, pool, slog.New(slog.DiscardHandler), ports.SystemClock{})
	if err != nil {
		b.Fatal(err)
	}
	migrator, err := postgres.NewMigrator(pool)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = migrator.Close() }()
	handler, err := buildHTTP(sys, migrator)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(b.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	url := "http://" + ln.Addr().String() + "/graphql"
	token := clerk.MintToken("user_bench")
	body, _ := json.Marshal(map[string]string{"query": signedInQuery})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: signedInClients, MaxConnsPerHost: signedInClients}}

	read := func() (time.Duration, error) {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		out, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"firstName":"Ada"`)) || bytes.Contains(out, []byte(`"errors"`)) {
			return 0, &benchError{status: resp.StatusCode, body: string(out)}
		}
		return time.Since(t0), nil
	}
	if _, err := read(); err != nil { // signs the person in (creates them once)
		b.Fatal(err)
	}

	latencies := make([]time.Duration, b.N)
	var next sync.Mutex
	i := 0
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU(b)
	var wg sync.WaitGroup
	for range signedInClients {
		wg.Go(func() {
			for {
				next.Lock()
				n := i
				i++
				next.Unlock()
				if n >= b.N {
					return
				}
				d, err := read()
				if err != nil {
					b.Error(err)
					return
				}
				latencies[n] = d
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU(b)-cpu0
	b.StopTimer()
	slices.Sort(latencies)
	// CPU of the whole process (server and the 16 clients) per request:
	// steadier than req/s on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/req")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
}

type benchError struct {
	status int
	body   string
}

func (e *benchError) Error() string { return "status " + http.StatusText(e.status) + ": " + e.body }

package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
)

// An attack is one request an outsider can send anonymously, and the
// bounded answer the edge must give it.
type attack struct {
	name   string
	req    func() *http.Request
	status int
	code   string
	// absent must not appear in the answer (an echo, a suggestion).
	absent string
}

func attackPost(body string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
}

func attackQuery(q string) func() *http.Request {
	b, _ := json.Marshal(map[string]string{"query": q})
	return attackPost(string(b))
}

// endless yields n bytes of 'a' without holding them.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n)
	for i := range k {
		p[i] = 'a'
	}
	e.n -= k
	return int(k), nil
}

func hugeBody(n int64, declared bool) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", io.NopCloser(&endless{n: n}))
		r.Header.Set("Content-Type", "application/json")
		r.ContentLength = -1
		if declared {
			r.ContentLength = n
		}
		return r
	}
}

// fragmentChain is the exponential-complexity document: each of levels
// named fragments spreads the next one twice (1 KB at 40 levels, 2^40
// fields once expanded).
func fragmentChain(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Query { membershipTiers { id } ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { membershipTiers { id } }\n", levels)
	return b.String()
}

func rep(s string, n int) string { return strings.Repeat(s, n) }

func attacks() []attack {
	// 30 aliased and 5 plain dead-letter lists of 13 fields (50 letters
	// each by default), and 2 tier lists: cost 22,797, past the limit of
	// 5,000 without passing another cap.
	letter := "deadLetters { id messageId topic handler reason payload attempts status firstFailedAt lastFailedAt resolvedAt resolvedBy resolutionNote } "
	costly := "{ " + repeatN("t%d: "+letter, 30) + rep(letter, 5) + rep("membershipTiers { id name description priceDisplay sortOrder } ", 2) + "}"
	malformed := `{"query": "{ membershipTiers { id } }", "variables": {"x": "` + rep("SECRET-ECHO ", 4000) // never closed
	return []attack{
		{name: "exponential fragments, 40 levels", req: attackQuery(fragmentChain(40)), status: 422, code: graph.CodeRepeatedKeyLimit},
		{name: "quadratic aliases on one response key (18 KB)", req: attackQuery("{" + rep("a:membershipTiers{priceDisplay} a:membershipTiers{description} ", 290) + "}"), status: 422, code: graph.CodeRepeatedKeyLimit},
		{name: "distinct aliases", req: attackQuery("{ " + repeatN("a%d: membershipTiers { id } ", 400) + "}"), status: 422, code: graph.CodeAliasLimit},
		{name: "repeated field under the token limit", req: attackQuery("{ membershipTiers { " + rep("id ", 1500) + "} }"), status: 422, code: graph.CodeRepeatedKeyLimit},
		{name: "repeated field past the token limit (60 KB)", req: attackQuery("{ membershipTiers { " + rep("id ", 20000) + "} }"), status: 422, code: graph.CodeTokenLimit},
		{name: "repeated field, 176 KB body", req: attackQuery("{ membershipTiers { " + rep("id ", 60000) + "} }"), status: 413, code: graph.CodeRequestTooLarge},
		{name: "costly document within the alias and repeat caps", req: attackQuery(costly), status: 422, code: graph.CodeComplexityLimit},
		{name: "1.2 MB document", req: attackQuery("{ membershipTiers { id } } # " + rep("x", 1200<<10)), status: 413, code: graph.CodeRequestTooLarge},
		{name: "64 MiB body with Content-Length", req: hugeBody(64<<20, true), status: 413, code: graph.CodeRequestTooLarge},
		{name: "64 MiB body, chunked", req: hugeBody(64<<20, false), status: 413, code: graph.CodeRequestTooLarge},
		{name: "malformed body is not echoed", req: attackPost(malformed), status: 400, code: graph.CodeBadRequest, absent: "SECRET-ECHO"},
		{name: "field suggestion", req: attackQuery("{ membershipTiers { sortOrdr } }"), status: 422, code: "GRAPHQL_VALIDATION_FAILED", absent: "Did you mean"},
		{name: "argument suggestion", req: attackQuery("{ deadLetters(statsu: OPEN) { id } }"), status: 422, code: "GRAPHQL_VALIDATION_FAILED", absent: "Did you mean"},
		{name: "enum suggestion", req: attackQuery("{ deadLetters(status: OPNE) { id } }"), status: 422, code: "GRAPHQL_VALIDATION_FAILED", absent: "Did you mean"},
		{name: "introspection in production", req: attackQuery("{ __schema { types { name fields { name } } } }"), status: 422, code: graph.CodeIntrospectionDisabled},
		{name: "introspection through a fragment", req: attackQuery("query { ...I } fragment I on Query { __type(name: \"Person\") { name } }"), status: 422, code: graph.CodeIntrospectionDisabled},
		{name: "aliased mutation batch", req: attackQuery("mutation { " + repeatN("c%d: startCheckout(tierId: \"community\") ", 4) + "}"), status: 422, code: graph.CodeMutationLimit},
		{name: "fragment cycle", req: attackQuery("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"), status: 422, code: "GRAPHQL_VALIDATION_FAILED"},
	}
}

func repeatN(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func edgeHandler(t testing.TB, logs io.Writer) http.Handler {
	t.Helper()
	app := newApp(t, []ports.MembershipTier{{ID: "community", Name: "Community"}}, nil)
	return graph.NewHandler(app, graph.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
}

// maxCPUPerRequest is the worst CPU one refused request may cost. The
// measured figures are far below it (they are logged); the bound leaves
// room for the race detector and a loaded machine.
const maxCPUPerRequest = 25 * time.Millisecond

// Each attack class gets its bounded status and code, costs little CPU,
// logs no ERROR, and repeats nothing it should not. CPU is the process's
// user+system time (getrusage) over 20 requests, so it counts every
// goroutine the request started, GC included. Not parallel: other tests
// would add their CPU to the measurement.
//
//nolint:paralleltest // measures process CPU time
func TestAttackClassesAreRefusedCheaply(t *testing.T) {
	logs := &syncBuffer{}
	h := edgeHandler(t, logs)
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			const n = 20
			var body string
			before := cpuTime(t)
			for range n {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, a.req())
				if rec.Code != a.status {
					t.Fatalf("status = %d, want %d: %.300s", rec.Code, a.status, rec.Body.String())
				}
				body = rec.Body.String()
			}
			perRequest := (cpuTime(t) - before) / n
			t.Logf("CPU per request: %s; answer %d bytes", perRequest, len(body))
			if perRequest > maxCPUPerRequest {
				t.Errorf("CPU per request = %s, want at most %s", perRequest, maxCPUPerRequest)
			}
			if !strings.Contains(body, `"code":"`+a.code+`"`) {
				t.Errorf("answer lacks code %s: %.300s", a.code, body)
			}
			if len(body) > 2048 {
				t.Errorf("answer is %d bytes, want a small error", len(body))
			}
			if a.absent != "" && strings.Contains(body, a.absent) {
				t.Errorf("answer contains %q: %.300s", a.absent, body)
			}
		})
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("refused requests logged an ERROR:\n%.2000s", logs.String())
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// maxHeapGrowth bounds what 1,000 attack requests may leave on the heap:
// nothing they send is kept (a refused document is never cached).
const maxHeapGrowth = 4 << 20

// 1,000 requests cycling through every attack class leave the heap (after
// a GC) within maxHeapGrowth of where it was.
//
//nolint:paralleltest // measures the process heap
func TestThousandAttacksLeaveHeapBounded(t *testing.T) {
	h := edgeHandler(t, io.Discard)
	as := attacks()
	// Warm up once: lazily built state (the schema's caches) is not growth.
	for _, a := range as {
		h.ServeHTTP(httptest.NewRecorder(), a.req())
	}
	before := heapAfterGC()
	start := cpuTime(t)
	for i := range 1000 {
		a := as[i%len(as)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, a.req())
		if rec.Code != a.status {
			t.Fatalf("%s: status = %d, want %d", a.name, rec.Code, a.status)
		}
	}
	cpu := cpuTime(t) - start
	after := heapAfterGC()
	growth := int64(after) - int64(before)
	t.Logf("1,000 attack requests: CPU %s (%s each), heap after GC %d -> %d bytes (growth %d)", cpu, cpu/1000, before, after, growth)
	if growth > maxHeapGrowth {
		t.Fatalf("heap grew by %d bytes over 1,000 refused requests, want at most %d", growth, maxHeapGrowth)
	}
}

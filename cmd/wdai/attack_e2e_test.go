package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/testdb"
)

// serverCPU is the CPU time (user+system) the wdai process has used, from
// /proc/PID/stat (clock ticks of 10 ms).
func serverCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// serverRSS is the resident set of the wdai process, in bytes.
func serverRSS(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// The attacks of the issue, sent from outside to the built binary in
// production: each gets its bounded status and code, the server's own
// CPU time per attack stays small, and 1,000 of them leave its RSS within
// a bound. The per-class details and costs are graph.TestAttackClasses*.
func TestEdgeAttacksAgainstTheBinary(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	p := start(t, map[string]string{"WDAI_ENV": "production", "DATABASE_URL": testdb.NewURL(t), "METRICS_ADDR": metricsAddr,
		"RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000"}, "serve", "--no-worker")
	p.waitReady(t, 30*time.Second)
	url := "http://" + p.addr + "/graphql"

	chain := func(levels int) string {
		var b strings.Builder
		b.WriteString("query { ...F0 } ")
		for i := range levels {
			fmt.Fprintf(&b, "fragment F%d on Query { membershipTiers { id } ...F%d ...F%d } ", i, i+1, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Query { membershipTiers { id } }", levels)
		return b.String()
	}
	doc := func(q string) string { b, _ := json.Marshal(map[string]string{"query": q}); return string(b) }
	attacks := []struct {
		name, body string
		status     int
		code       string
	}{
		{"exponential fragments, 40 levels", doc(chain(40)), 422, "REPEATED_FIELD_LIMIT_EXCEEDED"},
		{"aliases of one key", doc("{" + strings.Repeat("a:membershipTiers{priceDisplay} a:membershipTiers{description} ", 290) + "}"), 422, "REPEATED_FIELD_LIMIT_EXCEEDED"},
		{"repeated field, 176 KB", doc("{ membershipTiers { " + strings.Repeat("id ", 60000) + "} }"), 413, "REQUEST_TOO_LARGE"},
		{"malformed body", `{"query": "{ membershipTiers { id } }", "variables": {"x": "` + strings.Repeat("ECHO ", 2000), 400, "BAD_REQUEST"},
		{"suggestion", doc("{ membershipTiers { sortOrdr } }"), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"introspection", doc("{ __schema { types { name } } }"), 422, "INTROSPECTION_DISABLED"},
	}
	send := func(body string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	pid := p.cmd.Process.Pid
	for _, a := range attacks {
		const n = 50
		before := serverCPU(t, pid)
		for range n {
			status, body := send(a.body)
			if status != a.status || !strings.Contains(body, `"code":"`+a.code+`"`) || len(body) > 2048 ||
				strings.Contains(body, "ECHO") || strings.Contains(body, "Did you mean") {
				t.Fatalf("%s: %d %.300s, want %d %s", a.name, status, body, a.status, a.code)
			}
		}
		perRequest := (serverCPU(t, pid) - before) / n
		t.Logf("%s: server CPU %s per request", a.name, perRequest)
		if perRequest > 20*time.Millisecond {
			t.Errorf("%s: server CPU %s per request, want at most 20ms", a.name, perRequest)
		}
	}

	// A 64 MiB body is refused on its Content-Length before it is read.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, io.LimitReader(neverEnding('a'), 64<<20))
	req.ContentLength = 64 << 20
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("64 MiB body: %d, want 413", resp.StatusCode)
		}
	} // else the server closed the connection while the client still wrote: refused too

	rssBefore := serverRSS(t, pid)
	for i := range 1000 {
		a := attacks[i%len(attacks)]
		if status, _ := send(a.body); status != a.status {
			t.Fatalf("%s: %d", a.name, status)
		}
	}
	rssAfter := serverRSS(t, pid)
	t.Logf("server RSS before 1,000 attacks %d MiB, after %d MiB", rssBefore>>20, rssAfter>>20)
	if rssAfter-rssBefore > 64<<20 {
		t.Fatalf("server RSS grew by %d MiB over 1,000 attacks, want at most 64 MiB", (rssAfter-rssBefore)>>20)
	}

	// Metrics are not public, and the invented methods did not add series.
	if resp, err := httpGet(t, "http://"+p.addr+"/metrics"); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("public /metrics = %d, want 404", resp.StatusCode)
		}
	}
	if strings.Contains(p.output(), `"level":"ERROR"`) {
		t.Errorf("attacks logged an ERROR:\n%.3000s", p.output())
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// Command benchtable runs the platform's performance measurements (P1–P8)
// and prints one table: each figure beside the baseline measured in the
// same run, and their ratio. Nothing in the table is typed in: every figure
// is parsed from the output of the benchmark or test that measured it.
// `make bench` runs it (with a throwaway PostgreSQL in TEST_DATABASE_URL)
// and it writes the table to docs/performance.md with the date and the
// machine.
//
// Usage: go run ./cmd/benchtable [-out docs/performance.md]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "docs/performance.md", "where to write the table (empty: print only)")
	flag.Parse()
	ctx := context.Background()
	rows, failures := measure(ctx, goTest)
	table := render(rows)
	fmt.Print(table)
	if *out != "" {
		if err := writeDoc(*out, table, time.Now().UTC()); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
	if len(failures) > 0 {
		fmt.Fprintln(os.Stderr, "benchtable: measurements that failed:")
		for _, f := range failures {
			fmt.Fprintln(os.Stderr, "  "+f)
		}
		os.Exit(1)
	}
}

// runner runs `go test` with args and returns its output.
type runner func(ctx context.Context, args ...string) (string, error)

// goTest runs `go test args...`, echoing its output to stderr as it comes.
func goTest(ctx context.Context, args ...string) (string, error) {
	fmt.Fprintf(os.Stderr, "benchtable: go test %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-count=1"}, args...)...) //nolint:gosec // fixed arguments built here
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, os.Stderr)
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	return buf.String(), err
}

// row is one line of the table.
type row struct {
	ID, What         string
	Figure, Baseline string
	Ratio            string
	How              string
}

// measure runs every measurement and returns the rows and what failed (a
// failed row keeps its place, marked as not measured).
func measure(ctx context.Context, run runner) ([]row, []string) {
	var rows []row
	var failures []string
	fail := func(id, what, how string, err error) {
		failures = append(failures, id+": "+err.Error())
		rows = append(rows, row{ID: id, What: what, Figure: "not measured", Baseline: "-", Ratio: "-", How: how + " (failed: " + firstLine(err.Error()) + ")"})
	}

	// P1: webhook ingest vs pgbench of the same transaction.
	const p1How = "BenchmarkWebhookIngest (cmd/wdai): 6,000 signed POSTs from 16 connections (each request written in one write, answers read back) " +
		"in 3 rounds interleaved with pgbench running as many transactions of the same SQL (16 clients, -M simple); ratio: median of the rounds"
	if m, err := bench(ctx, run, "./cmd/wdai", "BenchmarkWebhookIngest", "6000x"); err != nil {
		fail("P1", "webhook ingest", p1How, err)
	} else if err := need(m, "req/s", "pgbench-tx/s", "ratio", "p99-ms"); err != nil {
		fail("P1", "webhook ingest", p1How, err)
	} else {
		r := ratioRow("P1", "webhook ingest (HTTP, verify, inbox, outbox)",
			fmt.Sprintf("%.0f req/s, p99 %.1f ms", m["req/s"], m["p99-ms"]), m["req/s"],
			fmt.Sprintf("pgbench: %.0f tx/s (median round)", m["pgbench-tx/s"]), m["pgbench-tx/s"], p1How)
		r.Ratio = ratio(m["ratio"])
		rows = append(rows, r)
	}

	// P2: webhook arrival to the email-list call at the stand-in.
	const p2How = "TestWebhookToEmailListP95 (cmd/wdai): sign-ups delivered one after another to the in-process server and worker; baseline: the webhook's own answer (arrival to 200) in the same run"
	if out, err := run(ctx, "-run", "^TestWebhookToEmailListP95$", "-v", "./cmd/wdai"); err != nil {
		fail("P2", "webhook → email-list call, p95", p2How, err)
	} else if v, err := floats(out, `P2: webhook arrival to email-list call p95 ([0-9.]+) ms over (\d+) sign-ups; webhook answered p95 ([0-9.]+) ms`); err != nil {
		fail("P2", "webhook → email-list call, p95", p2How, err)
	} else {
		rows = append(rows, ratioRow("P2", "webhook arrival → email-list call, p95 (goal < 300 ms)",
			fmt.Sprintf("%.0f ms (%d sign-ups)", v[0], int(v[1])), v[0],
			fmt.Sprintf("webhook answered: %.1f ms", v[2]), v[2], p2How))
	}

	// P3 and P8: the signed-in read vs the reference gqlgen + pgx server.
	const p3How = "BenchmarkSignedInRead (cmd/wdai): the reader is a paying member (membership, subscription, grant of access); 16 kept-alive connections, each request written in one write as wrk does, 10 interleaved rounds with internal/benchref (gqlgen + one pgx primary-key read) on the same PostgreSQL; ratio: median of the rounds; CPU: the whole machine's (/proc/stat) per request, load generator and PostgreSQL included, and PostgreSQL's part (/proc/*/stat of its processes)"
	if m, err := bench(ctx, run, "./cmd/wdai", "BenchmarkSignedInRead", "8000x"); err != nil {
		fail("P3", "signed-in read", p3How, err)
		fail("P8", "RSS under the P3 load", p3How, err)
	} else if err := need(m, "req/s", "ref-req/s", "ratio", "p99-ms", "ref-p99-ms", "rss-MB", "idle-rss-MB", "machine-cpu-us/req", "ref-machine-cpu-us/req", "pg-us/req", "ref-pg-us/req"); err != nil {
		fail("P3", "signed-in read", p3How, err)
		fail("P8", "RSS under the P3 load", p3How, err)
	} else {
		r := ratioRow("P3", "signed-in read `me { id email firstName membership { status } }` (goal ≥ 0.7×, p99 < 5 ms)",
			fmt.Sprintf("%.0f req/s, p99 %.1f ms, CPU %.0f µs/req (PostgreSQL %.0f)", m["req/s"], m["p99-ms"], m["machine-cpu-us/req"], m["pg-us/req"]), m["req/s"],
			fmt.Sprintf("gqlgen + pgx: %.0f req/s, p99 %.1f ms, CPU %.0f µs/req (PostgreSQL %.0f)", m["ref-req/s"], m["ref-p99-ms"], m["ref-machine-cpu-us/req"], m["ref-pg-us/req"]), m["ref-req/s"], p3How)
		r.Ratio = ratio(m["ratio"])
		rows = append(rows, r)
		p8 := ratioRow("P8", "RSS of the process (server, reference and load generator) under the P3 load",
			fmt.Sprintf("%.0f MB", m["rss-MB"]), m["rss-MB"], fmt.Sprintf("idle, before the load: %.0f MB", m["idle-rss-MB"]), m["idle-rss-MB"],
			"VmRSS from /proc/self/status at the end of BenchmarkSignedInRead, and before its load")
		rows = append(rows, p8)
	}

	// P4: an agent's call vs the same operation as a signed-in admin.
	const p4How = "BenchmarkAgentStarterQuery (cmd/wdai): FinanceMembershipSummary by documentId, 16 connections, 6 interleaved rounds; ratio: median of the rounds"
	if m, err := bench(ctx, run, "./cmd/wdai", "BenchmarkAgentStarterQuery", "3000x"); err != nil {
		fail("P4", "agent call", p4How, err)
	} else if err := need(m, "agent-calls/s", "admin-calls/s", "agent/admin"); err != nil {
		fail("P4", "agent call", p4How, err)
	} else {
		r := ratioRow("P4", "agent call (key, gate, allowance, audit)", fmt.Sprintf("%.0f calls/s", m["agent-calls/s"]), m["agent-calls/s"],
			fmt.Sprintf("signed-in admin: %.0f calls/s", m["admin-calls/s"]), m["admin-calls/s"], p4How)
		r.Ratio = ratio(m["agent/admin"])
		rows = append(rows, r)
	}

	// P5 and P6: provider calls, counted at the stand-ins.
	const p5How = "TestChatSyncTenThousandMembersInAHandfulOfCalls (cmd/wdai): calls counted at the slack stand-in; baseline: one look-up per member"
	const p6How = "TestLongResyncRunsInPagesAndResumesAfterSIGKILL (cmd/wdai), run 1: batch calls at the list stand-in; baseline: one call per person"
	out, err := run(ctx, "-run", "^(TestChatSyncTenThousandMembersInAHandfulOfCalls|TestLongResyncRunsInPagesAndResumesAfterSIGKILL)$", "-v", "-timeout", "10m", "./cmd/wdai")
	if err != nil {
		fail("P5", "Slack calls", p5How, err)
		fail("P6", "Mailchimp calls", p6How, err)
	} else {
		if v, err := floats(out, `([0-9,]+) members, [0-9,]+ in the workspace: (\d+) API calls`); err != nil {
			fail("P5", "Slack calls", p5How, err)
		} else {
			rows = append(rows, ratioRow("P5", "Slack API calls to sync the members", fmt.Sprintf("%d calls", int(v[1])), v[1],
				fmt.Sprintf("one per member: %d calls", int(v[0])), v[0], p5How))
		}
		if v, err := floats(out, `run 1: \d+ pages in [^,]+, summary map\[.*?batch_calls:(\d+).*?people:(\d+)`); err != nil {
			fail("P6", "Mailchimp calls", p6How, err)
		} else {
			rows = append(rows, ratioRow("P6", "Mailchimp calls for a resync", fmt.Sprintf("%d calls", int(v[0])), v[0],
				fmt.Sprintf("one per person: %d calls", int(v[1])), v[1], p6How))
		}
	}

	// P7: messages per second with 4 consumers vs the bare library.
	const p7How = "BenchmarkConsume (adapters/messaging): 4,000 queued messages, handler of 1 ms, 4 consumers, through the whole router vs the bare Watermill SQL subscriber"
	ours, errO := bench(ctx, run, "./adapters/messaging", "BenchmarkConsume$/^guarded$/^consumers=4$/^claims=small", "4000x")
	lib, errL := bench(ctx, run, "./adapters/messaging", "BenchmarkConsume$/^library$/^consumers=4", "4000x")
	switch {
	case errors.Join(errO, errL) != nil:
		fail("P7", "consume with 4 consumers", p7How, errors.Join(errO, errL))
	case need(ours, "msg/s") != nil || need(lib, "msg/s") != nil:
		fail("P7", "consume with 4 consumers", p7How, errors.New("msg/s missing from the benchmark output"))
	default:
		rows = append(rows, ratioRow("P7", "messages per second, 4 consumers", fmt.Sprintf("%.0f msg/s", ours["msg/s"]), ours["msg/s"],
			fmt.Sprintf("bare library: %.0f msg/s", lib["msg/s"]), lib["msg/s"], p7How))
	}
	return rows, failures
}

func ratioRow(id, what, figure string, f float64, baseline string, b float64, how string) row {
	r := row{ID: id, What: what, Figure: figure, Baseline: baseline, How: how, Ratio: "-"}
	if b != 0 {
		r.Ratio = ratio(f / b)
	}
	return r
}

// ratio prints r with two decimals, or two significant digits below 0.1
// (a call count against one call per person: 0.001×).
func ratio(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.2g×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// bench runs one benchmark (pattern: its name, or name$/^sub for one
// sub-benchmark) and returns its metrics (unit → value).
func bench(ctx context.Context, run runner, pkg, pattern, benchtime string) (map[string]float64, error) {
	all, err := benchAll(ctx, run, pkg, "^"+pattern+"$", benchtime)
	if err != nil {
		return nil, err
	}
	if len(all) != 1 {
		return nil, fmt.Errorf("%s: %d results, want 1", pattern, len(all))
	}
	for _, m := range all {
		return m, nil
	}
	return nil, nil
}

// benchAll runs the benchmarks matching pattern and returns the metrics of
// each by name (without the -GOMAXPROCS suffix).
func benchAll(ctx context.Context, run runner, pkg, pattern, benchtime string) (map[string]map[string]float64, error) {
	out, err := run(ctx, "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-timeout", "10m", pkg)
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s: %w: %s", pattern, err, lastLines(out, 5))
	}
	res := parseBench(out)
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench %s printed no result", pattern)
	}
	return res, nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parseBench reads `go test -bench` result lines: name, iterations, then
// value-unit pairs.
func parseBench(out string) map[string]map[string]float64 {
	res := map[string]map[string]float64{}
	for line := range strings.SplitSeq(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				metrics[fields[i+1]] = v
			}
		}
		res[m[1]] = metrics
	}
	return res
}

func need(m map[string]float64, units ...string) error {
	for _, u := range units {
		if _, ok := m[u]; !ok {
			return fmt.Errorf("the benchmark reported no %s", u)
		}
	}
	return nil
}

// floats finds pattern in out and returns its groups as numbers (commas
// as thousands separators allowed).
func floats(out, pattern string) ([]float64, error) {
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no line matching %q in the output", pattern)
	}
	var vs []float64
	for _, g := range m[1:] {
		v, err := strconv.ParseFloat(strings.ReplaceAll(g, ",", ""), 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", g, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// render prints the rows as a Markdown table, in the order of their ids.
func render(rows []row) string {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(a.ID, b.ID) })
	var b strings.Builder
	b.WriteString("| | measure | figure | baseline, same run | ratio |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.ID, r.What, r.Figure, r.Baseline, r.Ratio)
	}
	b.WriteString("\nHow each row is measured:\n\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "- **%s:** %s\n", r.ID, r.How)
	}
	return b.String()
}

// notesHeading starts the part of the document written by hand (what was
// changed, profiles); writeDoc keeps it from the file it replaces.
const notesHeading = "## Notes"

// writeDoc writes the table to path with the date and the machine,
// keeping the notes of the file it replaces.
func writeDoc(path, table string, at time.Time) error {
	notes := ""
	if old, err := os.ReadFile(path); err == nil { //nolint:gosec // the path the developer gave
		if i := strings.Index(string(old), "\n"+notesHeading+"\n"); i >= 0 {
			notes = "\n" + string(old[i+1:])
		}
	}
	var b strings.Builder
	b.WriteString("# Performance\n\n")
	b.WriteString("The table is written by `make bench` (cmd/benchtable): run it again rather than edit it. The notes at the end are kept.\n")
	b.WriteString("Every figure is measured in the run below, each beside a baseline measured in the same run on the same machine, ")
	b.WriteString("so the ratios, not the absolute figures, are what to compare between runs and machines.\n\n")
	fmt.Fprintf(&b, "- **Date:** %s\n- **Machine:** %s\n\n", at.Format("2006-01-02 15:04 MST"), machine())
	b.WriteString(table)
	b.WriteString(notes)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// machine describes where the run happened: CPU model, cores, memory, OS.
func machine() string {
	cpu := "unknown CPU"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(info); m != nil {
			cpu = strings.TrimSpace(string(m[1]))
		}
	}
	mem := ""
	if info, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`).FindSubmatch(info); m != nil {
			if kb, err := strconv.ParseFloat(string(m[1]), 64); err == nil {
				mem = fmt.Sprintf(", %.1f GB memory", kb/1024/1024)
			}
		}
	}
	load := ""
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(l)); len(f) > 0 {
			load = ", load average " + f[0] + " at the end"
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s/%s, %s%s; load generator, server and PostgreSQL share the cores",
		cpu, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), load)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

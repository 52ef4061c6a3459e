package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestTableIsBuiltFromWhatTheMeasurementsPrint: every row's figure,
// baseline and ratio come from the output of the run that measured it, and
// a measurement that fails is marked so (and reported), never filled in.
func TestTableIsBuiltFromWhatTheMeasurementsPrint(t *testing.T) {
	t.Parallel()
	outputs := map[string]string{
		"BenchmarkWebhookIngest":    "BenchmarkWebhookIngest-2 3000 1 ns/op 3000 req/s 2.0 p50-ms 9.5 p99-ms 4000 pgbench-tx/s 0.75 ratio\n",
		"TestWebhookToEmailListP95": "    x_test.go:52: P2: webhook arrival to email-list call p95 120.5 ms over 20 sign-ups; webhook answered p95 12.0 ms\n",
		"BenchmarkSignedInRead":     "BenchmarkSignedInRead-2 8000 1 ns/op 100 cpu-us/req 300 machine-cpu-us/req 210 ref-machine-cpu-us/req 110 pg-us/req 70 ref-pg-us/req 2 p50-ms 4.5 p99-ms 7000 ref-req/s 4.0 ref-p99-ms 0.71 ratio 5000 req/s 50 rss-MB 40 idle-rss-MB\n",
		"^guarded$":                 "BenchmarkConsume/guarded/consumers=4/claims=small-2 4000 1 ns/op 3500 msg/s\n",
		"^library$":                 "BenchmarkConsume/library/consumers=4-2 4000 1 ns/op 3000 msg/s\n",
		"TestChatSync": "10,000 members, 9,000 in the workspace: 10 API calls (10 users.list, 0 users.lookupByEmail)\n" +
			"    run 1: 20 pages in 7s, summary map[batch_calls:20 pages:20 people:10000]\n",
	}
	run := func(_ context.Context, args ...string) (string, error) {
		joined := strings.Join(args, " ")
		if strings.Contains(joined, "BenchmarkAgentStarterQuery") {
			return "--- FAIL: BenchmarkAgentStarterQuery\n", errors.New("exit status 1")
		}
		for key, out := range outputs {
			if strings.Contains(joined, key) {
				return out, nil
			}
		}
		t.Fatalf("unexpected go test %s", joined)
		return "", nil
	}
	rows, failures := measure(context.Background(), run)
	table := render(rows)
	for _, want := range []string{
		"| P1 | webhook ingest (HTTP, verify, inbox, outbox) | 3000 req/s, p99 9.5 ms | pgbench: 4000 tx/s (median round) | 0.75× |",
		"| 120 ms (20 sign-ups) | webhook answered: 12.0 ms | 10.04× |",
		"| 5000 req/s, p99 4.5 ms, CPU 300 µs/req (PostgreSQL 110) | gqlgen + pgx: 7000 req/s, p99 4.0 ms, CPU 210 µs/req (PostgreSQL 70) | 0.71× |",
		"| P4 | agent call | not measured | - | - |",
		"| 10 calls | one per member: 10000 calls | 0.001× |",
		"| 20 calls | one per person: 10000 calls | 0.002× |",
		"| 3500 msg/s | bare library: 3000 msg/s | 1.17× |",
		"| 50 MB | idle, before the load: 40 MB | 1.25× |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if len(rows) != 8 || len(failures) != 1 || !strings.HasPrefix(failures[0], "P4:") {
		t.Errorf("%d rows, failures %v; want 8 rows and P4 failed", len(rows), failures)
	}
}

// TestDocumentKeepsItsNotes: a new run replaces the table, the date and
// the machine, and keeps the hand-written notes below them.
func TestDocumentKeepsItsNotes(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/performance.md"
	if err := os.WriteFile(path, []byte("# Performance\n\n| old table |\n\n## Notes\n\nThe profile before and after.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeDoc(path, "| new table |\n", time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(got)
	if strings.Contains(doc, "old table") || !strings.Contains(doc, "| new table |") || !strings.Contains(doc, "2026-11-27 16:30 UTC") ||
		!strings.HasSuffix(doc, "\n## Notes\n\nThe profile before and after.\n") || !strings.Contains(doc, "**Machine:**") {
		t.Fatalf("document:\n%s", doc)
	}
}

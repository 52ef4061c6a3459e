package testdb

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// PGBenchIngest runs, with pgbench (clients clients, for 5 s, or for about
// transactions transactions in all when that is positive), the transaction
// a new webhook delivery costs: the statements the ingest use case runs
// (adapters/postgres BillingInbox.Add, then the messaging outbox INSERT),
// with the same columns and values, between BEGIN and COMMIT. It is the
// baseline the ingest benchmarks report beside their own figure, in the same
// run. pgbench sends each statement in a round trip of its own (-M simple);
// the unit of work sends all four in one. It reports false when pgbench is
// not installed (the Debian package postgresql has it).
func PGBenchIngest(b *testing.B, dbURL string, payload []byte, clients, transactions int) (float64, bool) {
	b.Helper()
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(matches) == 0 {
			b.Log("pgbench not found: no baseline")
			return 0, false
		}
		bin = matches[len(matches)-1]
	}
	literal := regexp.MustCompile(`\s*\n\s*`).ReplaceAll(bytes.TrimSpace(payload), []byte(" "))
	literal = bytes.ReplaceAll(literal, []byte("'"), []byte("''"))
	script := fmt.Sprintf(`\set id random(1, 4000000000000000000)
BEGIN;
INSERT INTO billing_inbox (event_id, kind, type, created, payload, source, subscription_id, customer_id, invoice_id,
                           client_reference_id, customer_email, customer_name, attempt_count, payload_raw)
  VALUES ('evt_pgb_' || :id, 'subscription_changed', 'customer.subscription.updated', now(), '%s'::jsonb, 'webhook', 'sub_1', 'cus_1', '',
          '', '', '', 0, NULL);
INSERT INTO "watermill_billing.event" (uuid, payload, metadata)
  VALUES (gen_random_uuid()::text, convert_to('{"event_id":"evt_pgb_' || :id || '"}', 'UTF8'), '{"correlation_id":"x"}');
COMMIT;
`, literal)
	file := filepath.Join(b.TempDir(), "ingest.sql")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		b.Fatal(err)
	}
	length := []string{"-T", "5"} // five seconds
	if transactions > 0 {
		length = []string{"-t", strconv.Itoa(max(1, transactions/clients))} // that many transactions in all
	}
	args := append(append([]string{"-n", "-c", strconv.Itoa(clients), "-j", "2"}, length...), "-f", file, dbURL)
	out, err := exec.CommandContext(b.Context(), bin, args...).CombinedOutput() //nolint:gosec // pgbench from PATH or PostgreSQL's folder; arguments built here
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps:\n%s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatalf("pgbench tps %q: %v", m[1], err)
	}
	return tps, true
}

package main_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/internal/testdb"
)

func runCLI(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), wdaiBin, args...)
	cmd.Env = append(baseEnv(), "DATABASE_URL="+dbURL)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestDLQCommandsResolveAndAudit drives `wdai dlq` against a real database:
// list shows an open dead letter, abandon needs a reason, replay republishes
// to the original topic, and both resolutions are in the audit log.
func TestDLQCommandsResolveAndAudit(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	insert := func(msgID string) string {
		var id string
		err := pool.QueryRow(ctx, `
			INSERT INTO dead_letters (message_id, topic, handler, reason, payload, first_failed_at, last_failed_at, attempts)
			VALUES ($1, 'member.changed', 'mailchimp_sync', 'mailchimp: 503', '{"person_id":"p1"}', now(), now(), 4)
			RETURNING id::text`, msgID).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	toReplay, toAbandon := insert("m-1"), insert("m-2")

	out, err := runCLI(t, dbURL, "dlq", "list")
	if err != nil || !strings.Contains(out, toReplay) || !strings.Contains(out, toAbandon) {
		t.Fatalf("dlq list: %v\n%s", err, out)
	}
	if out, err := runCLI(t, dbURL, "dlq", "show", toReplay); err != nil || !strings.Contains(out, `{"person_id":"p1"}`) {
		t.Fatalf("dlq show: %v\n%s", err, out)
	}
	if out, err := runCLI(t, dbURL, "dlq", "abandon", toAbandon); err == nil {
		t.Fatalf("abandon without --reason succeeded:\n%s", out)
	}
	if out, err := runCLI(t, dbURL, "dlq", "abandon", toAbandon, "--reason", "refunded by hand"); err != nil {
		t.Fatalf("dlq abandon: %v\n%s", err, out)
	}
	if out, err := runCLI(t, dbURL, "dlq", "replay", toReplay); err != nil || !strings.Contains(out, "replayed") {
		t.Fatalf("dlq replay: %v\n%s", err, out)
	}
	if out, err := runCLI(t, dbURL, "dlq", "replay", toReplay); err == nil {
		t.Fatalf("second replay of a resolved dead letter succeeded:\n%s", out)
	}
	if out, err := runCLI(t, dbURL, "dlq", "show", "00000000-0000-0000-0000-000000000000"); err == nil || !strings.Contains(out, "not found") {
		t.Fatalf("unknown id: %v\n%s", err, out)
	}

	// The replayed message is back on its topic, with its payload.
	var queued int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM "watermill_member.changed" WHERE payload = '{"person_id":"p1"}'::bytea`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Fatalf("replay queued %d messages, want 1", queued)
	}
	statuses := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT id::text, status FROM dead_letters`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			t.Fatal(err)
		}
		statuses[id] = st
	}
	if statuses[toReplay] != "replayed" || statuses[toAbandon] != "abandoned" {
		t.Fatalf("statuses = %v", statuses)
	}

	type entry struct{ action, actorKind, actorID, subject string }
	var got []entry
	rows, err = pool.Query(ctx, `SELECT action, actor_kind, actor_id, subject_id FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
		var e entry
		return e, r.Scan(&e.action, &e.actorKind, &e.actorID, &e.subject)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("audit entries = %+v, want 2", got)
	}
	if got[0].action != "dead_letter.abandon" || got[0].subject != toAbandon || got[1].action != "dead_letter.replay" || got[1].subject != toReplay {
		t.Fatalf("audit entries = %+v", got)
	}
	for _, e := range got {
		if e.actorKind != "system" || !strings.HasPrefix(e.actorID, "cli:") {
			t.Fatalf("audit actor = %s/%s, want system/cli:<login>", e.actorKind, e.actorID)
		}
	}
}

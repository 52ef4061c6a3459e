package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func TestAuditLogRecordsEntriesAndListsThemNewestFirst(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	log := postgres.NewAuditLog(pool)

	past := time.Date(2025, 3, 1, 9, 0, 0, 123456000, time.UTC)
	first := ports.AuditEntry{
		ActorKind: "user", ActorID: "user_1", Action: "dead_letter.replay",
		SubjectKind: "dead_letter", SubjectID: "dl_1", Outcome: ports.OutcomeSuccess,
		Details: map[string]any{"topic": "billing.event", "attempts": 4}, At: past,
	}
	second := ports.AuditEntry{ActorKind: "system", ActorID: "cron", Action: "job.enqueue", Outcome: ports.OutcomeFailure}
	third := ports.AuditEntry{ActorKind: "agent", ActorID: "key_9", Action: "members.read", Outcome: ports.OutcomeDenied}
	before := time.Now().Add(-time.Minute)
	for _, e := range []ports.AuditEntry{first, second, third} {
		if err := log.Record(ctx, e); err != nil {
			t.Fatalf("Record(%s): %v", e.Action, err)
		}
	}

	all, err := log.List(ctx, postgres.AuditFilter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(all) != 3 {
		t.Fatalf("List returned %d entries, want 3", len(all))
	}
	if all[0].Action != "members.read" || all[1].Action != "job.enqueue" || all[2].Action != "dead_letter.replay" {
		t.Fatalf("order = %s, %s, %s; want newest first", all[0].Action, all[1].Action, all[2].Action)
	}
	got := all[2]
	if !got.At.Equal(past) {
		t.Errorf("At = %v, want the given %v", got.At, past)
	}
	if got.ActorKind != "user" || got.ActorID != "user_1" || got.SubjectKind != "dead_letter" ||
		got.SubjectID != "dl_1" || got.Outcome != ports.OutcomeSuccess {
		t.Errorf("entry read back as %+v", got.AuditEntry)
	}
	if got.Details["topic"] != "billing.event" || got.Details["attempts"] != float64(4) {
		t.Errorf("details = %v", got.Details)
	}
	if at := all[1].At; at.Before(before) || at.After(time.Now().Add(time.Minute)) {
		t.Errorf("a zero At was stored as %v, want the database's now()", at)
	}
	if all[1].Details == nil || len(all[1].Details) != 0 {
		t.Errorf("nil details read back as %#v, want an empty object", all[1].Details)
	}
	if all[0].ID <= all[1].ID {
		t.Errorf("ids %d, %d do not grow", all[1].ID, all[0].ID)
	}

	tests := []struct {
		name   string
		filter postgres.AuditFilter
		want   []string
	}{
		{"by actor", postgres.AuditFilter{ActorKind: "user", ActorID: "user_1"}, []string{"dead_letter.replay"}},
		{"by action", postgres.AuditFilter{Action: "job.enqueue"}, []string{"job.enqueue"}},
		{"by subject", postgres.AuditFilter{SubjectKind: "dead_letter", SubjectID: "dl_1"}, []string{"dead_letter.replay"}},
		{"by outcome", postgres.AuditFilter{Outcome: ports.OutcomeDenied}, []string{"members.read"}},
		{"since", postgres.AuditFilter{Since: before}, []string{"members.read", "job.enqueue"}},
		{"until", postgres.AuditFilter{Until: before}, []string{"dead_letter.replay"}},
		{"limit", postgres.AuditFilter{Limit: 1}, []string{"members.read"}},
		{"no match", postgres.AuditFilter{ActorID: "nobody"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := log.List(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, r := range recs {
				actions = append(actions, r.Action)
			}
			if strings.Join(actions, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("actions = %v, want %v", actions, tc.want)
			}
		})
	}
}

func TestAuditLogTableRefusesUpdateDeleteAndTruncate(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	log := postgres.NewAuditLog(pool)
	if err := log.Record(ctx, ports.AuditEntry{ActorKind: "user", ActorID: "u1", Action: "member.update", Outcome: ports.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET outcome = 'denied'`,
		`UPDATE audit_log SET actor_id = 'someone else' WHERE id = -1`, // even when it would touch nothing
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		_, err := pool.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || !strings.Contains(pgErr.Message, "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
	recs, err := log.List(ctx, postgres.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Outcome != ports.OutcomeSuccess || recs[0].ActorID != "u1" {
		t.Fatalf("entries after the refused changes = %+v, want the original one untouched", recs)
	}
}

func TestAuditLogRecordRefusesIncompleteEntries(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	log := postgres.NewAuditLog(pool)
	valid := ports.AuditEntry{ActorKind: "user", ActorID: "u1", Action: "x.y", Outcome: ports.OutcomeSuccess}
	tests := []struct {
		name   string
		change func(*ports.AuditEntry)
	}{
		{"no actor kind", func(e *ports.AuditEntry) { e.ActorKind = "" }},
		{"no action", func(e *ports.AuditEntry) { e.Action = "" }},
		{"no outcome", func(e *ports.AuditEntry) { e.Outcome = "" }},
		{"unknown outcome", func(e *ports.AuditEntry) { e.Outcome = "maybe" }},
		{"details not encodable", func(e *ports.AuditEntry) { e.Details = map[string]any{"ch": make(chan int)} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := valid
			tc.change(&e)
			if err := log.Record(ctx, e); err == nil {
				t.Fatal("Record succeeded, want an error")
			}
		})
	}
	recs, err := log.List(ctx, postgres.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 {
		t.Fatalf("%d entries stored, want none", len(recs))
	}
}

func TestAuditLogEntryCommitsOrRollsBackWithItsTransaction(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	entry := func(action string) ports.AuditEntry {
		return ports.AuditEntry{ActorKind: "system", Action: action, Outcome: ports.OutcomeSuccess}
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewAuditLog(tx).Record(ctx, entry("rolled.back")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewAuditLog(tx).Record(ctx, entry("committed")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	recs, err := postgres.NewAuditLog(pool).List(ctx, postgres.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Action != "committed" {
		t.Fatalf("entries = %+v, want only the committed one", recs)
	}
}

package main_test

import (
	"context"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/internal/testdb"
)

// TestNoWorkerLeavesJobsToASeparateWorker: `serve --no-worker` runs no
// handlers, so a triggered run stays pending until `wdai worker` runs it.
func TestNoWorkerLeavesJobsToASeparateWorker(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	env := map[string]string{"DATABASE_URL": dbURL, "CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far,
		"CRON_MAILCHIMP_RESYNC": far, "CRON_STRIPE_RECONCILE": far, "CRON_CATCH_UP": "1s"}
	api := start(t, env, "serve", "--no-worker")
	api.waitReady(t, 30*time.Second)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	out, err := runCLI(t, dbURL, "job", "run", "slack_sync")
	if err != nil {
		t.Fatalf("job run: %v\n%s", err, out)
	}
	runID := regexp.MustCompile(`run ([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	time.Sleep(1500 * time.Millisecond)
	var status string
	if err := pool.QueryRow(context.Background(), `SELECT status FROM job_runs WHERE id = $1`, runID).Scan(&status); err != nil || status != "pending" {
		t.Fatalf("with no worker the run is %q (%v), want pending", status, err)
	}

	worker := start(t, env, "worker")
	waitCompleted(t, pool, runID)
	worker.stop(t, syscall.SIGTERM)
	api.stop(t, syscall.SIGTERM)
}

func TestPersonSetRoleIsAudited(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var id string
	if err := pool.QueryRow(context.Background(), `INSERT INTO people (primary_email, emails) VALUES ('lead@example.test', ARRAY['lead@example.test']) RETURNING id::text`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, dbURL, "person", "set-role", "--email", " Lead@Example.TEST ", "--role", "leader"); err != nil || !strings.Contains(out, "leader") {
		t.Fatalf("set-role: %v\n%s", err, out)
	}
	if out, err := runCLI(t, dbURL, "person", "set-role", "--email", "lead@example.test", "--role", "overlord"); err == nil || !strings.Contains(out, "role") {
		t.Fatalf("unknown role accepted: %v\n%s", err, out)
	}
	if out, err := runCLI(t, dbURL, "person", "set-role", "--email", "nobody@example.test", "--role", "admin"); err == nil || !strings.Contains(out, "not found") {
		t.Fatalf("unknown email: %v\n%s", err, out)
	}
	// An address two people hold is refused, and nothing changes; the
	// operator then names the person by id.
	var twin string
	if err := pool.QueryRow(context.Background(), `INSERT INTO people (primary_email, emails) VALUES ('twin@example.test', ARRAY['twin@example.test']) RETURNING id::text`).Scan(&twin); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `INSERT INTO people (primary_email, emails) VALUES ('twin@example.test', ARRAY['twin@example.test'])`); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, dbURL, "person", "set-role", "--email", "twin@example.test", "--role", "admin"); err == nil || !strings.Contains(out, twin) || !strings.Contains(out, "--person-id") {
		t.Fatalf("ambiguous email: %v\n%s", err, out)
	}
	var admins int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM people WHERE role = 'admin'`).Scan(&admins); err != nil || admins != 0 {
		t.Fatalf("admins after a refused set-role = %d (%v), want 0", admins, err)
	}
	if out, err := runCLI(t, dbURL, "person", "set-role", "--person-id", twin, "--role", "admin"); err != nil || !strings.Contains(out, twin+" is now admin") {
		t.Fatalf("set-role by id: %v\n%s", err, out)
	}
	if out, err := runCLI(t, dbURL, "person", "set-role", "--person-id", twin, "--email", "twin@example.test", "--role", "admin"); err == nil || !strings.Contains(out, "exactly one") {
		t.Fatalf("both --email and --person-id: %v\n%s", err, out)
	}
	var role, from, to, actor string
	err = pool.QueryRow(context.Background(), `
		SELECT p.role, a.details->>'from', a.details->>'to', a.actor_kind || ':' || a.actor_id
		FROM people p JOIN audit_log a ON a.subject_id = p.id::text AND a.action = 'person.set_role' WHERE p.id = $1`, id).Scan(&role, &from, &to, &actor)
	if err != nil || role != "leader" || from != "member" || to != "leader" || !strings.HasPrefix(actor, "system:cli:") {
		t.Fatalf("role %q, audit %q→%q by %q (%v)", role, from, to, actor, err)
	}
}

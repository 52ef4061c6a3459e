package main_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/internal/testdb"
)

// TestJobsRunThroughTheWorker drives the real binary: /jobs/{name} refuses a
// wrong or missing secret and enqueues nothing; with the secret it answers
// 202 with a run id that the in-process worker completes (recorded as
// skipped, "not configured", while the job's provider has no credentials);
// `wdai job run` does the same. luma_approval is a paged job now (see
// events_e2e_test.go for it configured): without LUMA_API_KEY it is still
// skipped, never a silent success.
func TestJobsRunThroughTheWorker(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-s3cret-s3cret"
	dbURL := testdb.NewURL(t)
	// Cron times far from now, so only our triggers create runs.
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	p := start(t, map[string]string{
		"DATABASE_URL": dbURL, "CRON_SECRET": secret,
		"CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far, "CRON_CATCH_UP": "1s",
	}, "serve")
	p.waitReady(t, 30*time.Second)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	post := func(path, auth string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+p.addr+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, auth := range []string{"", "Bearer wrong-wrong-wrong-wrong", "Basic " + secret} {
		if code, _ := post("/jobs/slack_sync", auth); code != http.StatusUnauthorized {
			t.Errorf("auth %q: status %d, want 401", auth, code)
		}
	}
	var runs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM job_runs`).Scan(&runs); err != nil || runs != 0 {
		t.Fatalf("runs after refused triggers = %d (%v), want 0", runs, err)
	}
	if code, _ := post("/jobs/no_such_job", "Bearer "+secret); code != http.StatusNotFound {
		t.Errorf("unknown job: status %d, want 404", code)
	}
	code, body := post("/jobs/slack_sync", "Bearer "+secret)
	if code != http.StatusAccepted {
		t.Fatalf("trigger: %d %s", code, body)
	}
	var accepted struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(body), &accepted); err != nil || accepted.RunID == "" {
		t.Fatalf("trigger body %q: %v", body, err)
	}
	waitCompleted(t, pool, accepted.RunID)

	out, err := runCLI(t, dbURL, "job", "run", "luma_approval")
	if err != nil {
		t.Fatalf("job run: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`run ([0-9a-f-]{36})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("job run printed no run id:\n%s", out)
	}
	waitCompleted(t, pool, m[1])
	if out, err := runCLI(t, dbURL, "job", "run", "nope"); err == nil || !strings.Contains(out, "nope") {
		t.Fatalf("job run of an unknown job: %v\n%s", err, out)
	}
	p.stop(t, syscall.SIGTERM)
}

func waitCompleted(t *testing.T, pool *pgxpool.Pool, runID string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status, outcome, reason string
		err := pool.QueryRow(context.Background(), `SELECT status, coalesce(summary->>'outcome', ''), coalesce(summary->>'reason', '') FROM job_runs WHERE id = $1`, runID).Scan(&status, &outcome, &reason)
		if err == nil && status == "completed" {
			if outcome != "skipped" || reason != "not configured" {
				t.Fatalf("run %s completed with outcome %q (%q), want skipped (not configured)", runID, outcome, reason)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s not completed: status %q, err %v", runID, status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

var slot9 = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

func createRun(t *testing.T, runs *postgres.JobRuns, job string, slot time.Time) ports.JobRun {
	t.Helper()
	run, err := runs.Create(context.Background(), job, slot, ports.TriggerCron)
	if err != nil {
		t.Fatalf("Create(%s, %v): %v", job, slot, err)
	}
	return run
}

func TestJobRunsCreateStoresAPendingRun(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)

	// A slot in another zone, with nanoseconds PostgreSQL cannot keep.
	slot := slot9.Add(789).In(time.FixedZone("CET", 3600))
	run, err := runs.Create(ctx, "luma_approval", slot, ports.TriggerHTTP)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if run.ID == "" || run.Job != "luma_approval" || run.Trigger != ports.TriggerHTTP ||
		run.Status != ports.JobPending || run.Attempts != 0 || run.Error != "" || len(run.Summary) != 0 {
		t.Fatalf("created run = %+v", run)
	}
	if !run.Slot.Equal(slot9) || run.Slot.Location() != time.UTC {
		t.Errorf("slot = %v, want %v in UTC (to the microsecond)", run.Slot, slot9)
	}
	if run.CreatedAt.IsZero() || !run.StartedAt.IsZero() || !run.FinishedAt.IsZero() {
		t.Errorf("times = created %v, started %v, finished %v", run.CreatedAt, run.StartedAt, run.FinishedAt)
	}
	got, err := runs.Get(ctx, run.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.ID != run.ID || !got.Slot.Equal(run.Slot) || got.Status != ports.JobPending || !got.CreatedAt.Equal(run.CreatedAt) {
		t.Fatalf("Get = %+v, want %+v", got, run)
	}
}

func TestJobRunsCreateRefusesASecondRunForTheSameSlot(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	first := createRun(t, runs, "slack_sync", slot9)

	// The same instant, written differently, with another trigger.
	if _, err := runs.Create(ctx, "slack_sync", slot9.In(time.FixedZone("X", -5*3600)), ports.TriggerCLI); !errors.Is(err, ports.ErrSlotTaken) {
		t.Fatalf("second Create = %v, want ErrSlotTaken", err)
	}
	// Another slot of the same job and the same slot of another job are free.
	createRun(t, runs, "slack_sync", slot9.Add(12*time.Hour))
	createRun(t, runs, "luma_approval", slot9)

	list, err := runs.List(ctx, "slack_sync", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("slack_sync has %d runs, want 2", len(list))
	}
	if got, err := runs.Get(ctx, first.ID); err != nil || got.Trigger != ports.TriggerCron {
		t.Fatalf("first run after the refused Create = %+v, %v; want it untouched", got, err)
	}
}

func TestJobRunsConcurrentCreatesOfOneSlotLeaveOneRun(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var created, taken int
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer func() { _ = tx.Rollback(ctx) }()
			_, err = postgres.NewJobRuns(tx).Create(ctx, "luma_approval", slot9, ports.TriggerCron)
			if err == nil {
				err = tx.Commit(ctx)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.Is(err, ports.ErrSlotTaken):
				taken++
			default:
				t.Errorf("Create: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if created != 1 || taken != n-1 {
		t.Fatalf("created %d, taken %d; want 1 and %d", created, taken, n-1)
	}
	if c := countRuns(t, pool); c != 1 {
		t.Fatalf("%d rows in job_runs, want 1", c)
	}
}

func TestJobRunsSlotIsFreeAgainWhenTheCreatingTransactionRollsBack(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewJobRuns(tx).Create(ctx, "slack_sync", slot9, ports.TriggerCron); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	createRun(t, postgres.NewJobRuns(pool), "slack_sync", slot9)
}

func TestJobRunsUnknownOrMalformedIDsAreNotFound(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	for _, id := range []string{"", "nope", "'; DROP TABLE job_runs; --", "6f1c1f34-9a57-4d0e-8f55-2d7a9f0e0b11"} {
		if _, err := runs.Get(ctx, id); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := runs.Start(ctx, id); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Start(%q) = %v, want ErrNotFound", id, err)
		}
		if err := runs.Finish(ctx, id, ports.JobCompleted, nil, ""); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Finish(%q) = %v, want ErrNotFound", id, err)
		}
		if err := runs.SetStatus(ctx, id, ports.JobAbandoned); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("SetStatus(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestJobRunsLifecycleCountsAttemptsPerDeliveryRound(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	run := createRun(t, runs, "luma_approval", slot9)

	step := func(name string, op func() error) {
		t.Helper()
		if err := op(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	start := func(wantAttempts int) ports.JobRun {
		t.Helper()
		got, err := runs.Start(ctx, run.ID)
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		if got.Status != ports.JobProcessing || got.Attempts != wantAttempts {
			t.Fatalf("after Start: status %s, attempts %d; want processing, %d", got.Status, got.Attempts, wantAttempts)
		}
		return got
	}

	first := start(1)
	if first.StartedAt.IsZero() {
		t.Fatal("StartedAt is zero after Start")
	}
	step("Finish retrying", func() error {
		return runs.Finish(ctx, run.ID, ports.JobRetrying, map[string]any{"done": 1}, "luma: 503")
	})
	got, _ := runs.Get(ctx, run.ID)
	if got.Status != ports.JobRetrying || got.Error != "luma: 503" || got.Summary["done"] != float64(1) || !got.FinishedAt.IsZero() {
		t.Fatalf("after a failed attempt: %+v", got)
	}
	second := start(2)
	if !second.StartedAt.Equal(first.StartedAt) {
		t.Errorf("StartedAt moved from %v to %v; want the first start kept", first.StartedAt, second.StartedAt)
	}
	step("Finish dead_letter", func() error { return runs.Finish(ctx, run.ID, ports.JobDeadLetter, nil, "luma: 503") })

	// A dead-lettered run delivered again starts a new round.
	start(1)
	step("Finish dead_letter again", func() error { return runs.Finish(ctx, run.ID, ports.JobDeadLetter, nil, "still 503") })
	step("SetStatus replayed", func() error { return runs.SetStatus(ctx, run.ID, ports.JobReplayed) })
	got, _ = runs.Get(ctx, run.ID)
	if got.Status != ports.JobReplayed || got.Error != "still 503" {
		t.Fatalf("after SetStatus(replayed): %+v; want status replayed, error kept", got)
	}
	start(1)
	start(2) // a crash mid-attempt: processing again, one more attempt
	step("Finish completed", func() error {
		return runs.Finish(ctx, run.ID, ports.JobCompleted, map[string]any{"approved": 3, "outcome": "ok"}, "")
	})
	done, _ := runs.Get(ctx, run.ID)
	if done.Status != ports.JobCompleted || done.Error != "" || done.Summary["approved"] != float64(3) ||
		done.Summary["outcome"] != "ok" || done.FinishedAt.IsZero() {
		t.Fatalf("completed run = %+v", done)
	}

	// A completed run is final: Start counts nothing, Finish changes nothing.
	again, err := runs.Start(ctx, run.ID)
	if err != nil {
		t.Fatalf("Start on a completed run: %v", err)
	}
	if again.Status != ports.JobCompleted || again.Attempts != done.Attempts {
		t.Fatalf("Start on a completed run returned %+v; want it unchanged", again)
	}
	step("late Finish", func() error { return runs.Finish(ctx, run.ID, ports.JobRetrying, nil, "late failure") })
	after, _ := runs.Get(ctx, run.ID)
	if after.Status != ports.JobCompleted || after.Error != "" || after.Attempts != done.Attempts || !after.FinishedAt.Equal(done.FinishedAt) {
		t.Fatalf("a late Finish changed the completed run: %+v", after)
	}
}

func TestJobRunsAbandonedRunIsFinalAndFinished(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	run := createRun(t, runs, "slack_sync", slot9)
	if _, err := runs.Start(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if err := runs.Finish(ctx, run.ID, ports.JobDeadLetter, nil, "boom"); err != nil {
		t.Fatal(err)
	}
	if err := runs.SetStatus(ctx, run.ID, ports.JobAbandoned); err != nil {
		t.Fatal(err)
	}
	got, err := runs.Start(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ports.JobAbandoned || got.Attempts != 1 || got.FinishedAt.IsZero() || got.Error != "boom" {
		t.Fatalf("abandoned run after Start = %+v; want abandoned, 1 attempt, finished, error kept", got)
	}
}

func TestJobRunsRefuseUnknownStatusesAndTriggers(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	run := createRun(t, runs, "slack_sync", slot9)
	if err := runs.Finish(ctx, run.ID, "done", nil, ""); err == nil {
		t.Error("Finish with status \"done\" succeeded")
	}
	if err := runs.SetStatus(ctx, run.ID, "paused"); err == nil {
		t.Error("SetStatus(\"paused\") succeeded")
	}
	if _, err := runs.Create(ctx, "slack_sync", slot9.Add(time.Hour), "webhook"); err == nil {
		t.Error("Create with trigger \"webhook\" succeeded")
	}
	if _, err := runs.Create(ctx, "", slot9, ports.TriggerCron); err == nil {
		t.Error("Create with an empty job succeeded")
	}
	if _, err := runs.Create(ctx, "slack_sync", time.Time{}, ports.TriggerCron); err == nil {
		t.Error("Create with a zero slot succeeded")
	}
	if _, err := pool.Exec(ctx, `UPDATE job_runs SET status = 'paused'`); err == nil {
		t.Error("the table accepted status 'paused'")
	}
	if got, _ := runs.Get(ctx, run.ID); got.Status != ports.JobPending {
		t.Fatalf("status = %s after refused changes, want pending", got.Status)
	}
}

func TestJobRunsFinishKeepsErrorTextStorable(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	run := createRun(t, runs, "slack_sync", slot9)
	long := "bad\x00byte \xff " + strings.Repeat("é", 5000)
	if err := runs.Finish(ctx, run.ID, ports.JobRetrying, nil, long); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	got, _ := runs.Get(ctx, run.ID)
	if len(got.Error) > 4000+len("…") || strings.Contains(got.Error, "\x00") || !strings.HasPrefix(got.Error, "badbyte \uFFFD é") {
		t.Fatalf("stored error (%d bytes) starts %q", len(got.Error), got.Error[:min(20, len(got.Error))])
	}
}

func TestJobRunsListNewestFirstByJobWithLimit(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	var ids []string
	for i := range 3 {
		ids = append(ids, createRun(t, runs, "slack_sync", slot9.Add(time.Duration(i)*12*time.Hour)).ID)
	}
	createRun(t, runs, "luma_approval", slot9)

	got, err := runs.List(ctx, "slack_sync", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Fatalf("List(slack_sync, 2) = %v, want the two newest, newest first", runIDs(got))
	}
	all, err := runs.List(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Job != "luma_approval" {
		t.Fatalf("List(all) = %d runs, first %q; want 4, newest first", len(all), all[0].Job)
	}
}

func runIDs(runs []ports.JobRun) []string {
	out := make([]string, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

func countRuns(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM job_runs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

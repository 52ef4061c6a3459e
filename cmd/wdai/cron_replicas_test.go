package main

// The scheduler wired to the PostgreSQL unit of work and the messaging
// router, as wdai wires them: tests that join several adapters live here,
// in the composition root, since no adapter imports another.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/cron"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// cronReplica is what one process holds: its own pool and unit of work on the
// shared database, and the application's job handlers over them.
type cronReplica struct {
	pool    *pgxpool.Pool
	uow     *postgres.UnitOfWork
	jobs    *application.JobRegistry
	enqueue application.EnqueueJob
	jobTx   ports.UnitOfWork[ports.JobTx]
}

func newCronReplica(t *testing.T, url string, jobs map[string]application.JobFunc) *cronReplica {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	uow, err := newUnitOfWork(pool)
	if err != nil {
		t.Fatal(err)
	}
	jobTx, err := postgres.Scope[ports.JobTx](uow)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := application.NewJobRegistry(jobs)
	if err != nil {
		t.Fatal(err)
	}
	enq, err := application.NewEnqueueJob(jobTx, reg)
	if err != nil {
		t.Fatal(err)
	}
	return &cronReplica{pool: pool, uow: uow, jobs: reg, enqueue: enq, jobTx: jobTx}
}

// scheduler is the cronReplica's cron, wired as cmd/wdai wires it.
func (r *cronReplica) scheduler(t *testing.T) *cron.Scheduler {
	t.Helper()
	jobs := map[string][]cron.TimeOfDay{}
	for _, name := range r.jobs.Names() {
		jobs[name] = cron.DefaultTimes()
	}
	s, err := cron.New(cron.Config{
		Jobs: jobs,
		Enqueue: func(ctx context.Context, job string, slot time.Time) error {
			_, err := r.enqueue.Handle(ctx, application.EnqueueJobInput{Job: job, Slot: slot, Trigger: ports.TriggerCron, ActorKind: "system", ActorID: "cron"})
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTwoSchedulersRacingForTheSameSlotProduceExactlyOneRun(t *testing.T) {
	t.Parallel()
	url := testdb.NewURL(t)
	a := newCronReplica(t, url, defaultCronJobs())
	b := newCronReplica(t, url, defaultCronJobs())
	sa, sb := a.scheduler(t), b.scheduler(t)
	ctx := context.Background()

	const days = 10
	wins := map[string]int{}
	for d := range days {
		for _, hour := range []int{9, 21} {
			now := time.Date(2026, 1, 1+d, hour, 0, 0, 0, time.UTC)
			var ra, rb []cron.Result
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() { <-start; ra = sa.Tick(ctx, now) })
			wg.Go(func() { <-start; rb = sb.Tick(ctx, now) })
			close(start)
			wg.Wait()
			for _, job := range []string{jobEventApproval, jobChatSync} {
				var enqueued, taken int
				for _, r := range append(append([]cron.Result(nil), ra...), rb...) {
					if r.Job != job {
						continue
					}
					if !r.Slot.Equal(now) {
						t.Fatalf("%s: slot %v, want %v", job, r.Slot, now)
					}
					switch {
					case r.Err == nil:
						enqueued++
					case errors.Is(r.Err, ports.ErrSlotTaken):
						taken++
					default:
						t.Fatalf("%s at %v: %v", job, now, r.Err)
					}
				}
				if enqueued != 1 || taken != 1 {
					t.Fatalf("%s at %v: %d enqueued, %d taken; want exactly one of each", job, now, enqueued, taken)
				}
			}
			for _, r := range ra {
				if r.Err == nil {
					wins["a"]++
				}
			}
		}
	}
	t.Logf("cronReplica a won %d of %d slots", wins["a"], days*2*2)

	// One run per job and slot, each with exactly one queued message, and
	// no audit entry for cron.
	var runs, distinct, messages, matched, audited int
	err := a.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (job, slot)) FROM job_runs`).Scan(&runs, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM "watermill_job.run"`).Scan(&messages); err != nil {
		t.Fatal(err)
	}
	err = a.pool.QueryRow(ctx, `SELECT count(*) FROM "watermill_job.run" m
		JOIN job_runs r ON r.id::text = convert_from(m.payload, 'UTF8')::jsonb->>'run_id' AND r.id::text = m.uuid`).Scan(&matched)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	want := days * 2 * 2
	if runs != want || distinct != want || messages != want || matched != want || audited != 0 {
		t.Fatalf("runs %d (distinct slots %d), messages %d (matching a run %d), audit entries %d; want %d, %d, %d, %d, 0",
			runs, distinct, messages, matched, audited, want, want, want, want)
	}
}

func TestHTTPEnqueueIsAuditedWithTheRunInOneTransaction(t *testing.T) {
	t.Parallel()
	r := newCronReplica(t, testdb.NewURL(t), defaultCronJobs())
	ctx := context.Background()
	slot := time.Date(2026, 5, 1, 12, 34, 56, 789000, time.UTC)
	run, err := r.enqueue.Handle(ctx, application.EnqueueJobInput{Job: jobChatSync, Slot: slot, Trigger: ports.TriggerHTTP, ActorKind: "system", ActorID: "cron_secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.enqueue.Handle(ctx, application.EnqueueJobInput{Job: jobChatSync, Slot: slot, Trigger: ports.TriggerHTTP, ActorKind: "system", ActorID: "cron_secret"}); err != ports.ErrSlotTaken { //nolint:errorlint // the contract is the sentinel itself
		t.Fatalf("second enqueue of the slot = %v, want ports.ErrSlotTaken", err)
	}
	entries, err := postgres.NewAuditLog(r.pool).List(ctx, postgres.AuditFilter{Action: "job.enqueue"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].SubjectID != run.ID || entries[0].ActorID != "cron_secret" || entries[0].Details["job"] != "slack_sync" {
		t.Fatalf("audit entries = %+v, want one for run %s", entries, run.ID)
	}
	var messages int
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM "watermill_job.run"`).Scan(&messages); err != nil {
		t.Fatal(err)
	}
	if messages != 1 {
		t.Fatalf("%d messages queued, want 1 (the refused enqueue rolled back)", messages)
	}
}

type cronAlertCounter struct{ n atomic.Int32 }

func (a *cronAlertCounter) Alert(context.Context, ports.Alert) error { a.n.Add(1); return nil }

// TestCronSlotRunsThroughTheRouterRetriesDeadLettersAndCompletesOnReplay
// drives the whole path: cron enqueues a slot, the router delivers it to
// RunJobHandler, the job fails through all its attempts, the run and the
// message are dead-lettered, an operator replays it, and it completes.
func TestCronSlotRunsThroughTheRouterRetriesDeadLettersAndCompletesOnReplay(t *testing.T) {
	t.Parallel()
	const maxRetries = 2
	var calls atomic.Int32
	failFirst := int32(maxRetries + 1) // every attempt of the first delivery
	r := newCronReplica(t, testdb.NewURL(t), map[string]application.JobFunc{
		"slack_sync": func(context.Context) (map[string]any, error) {
			if calls.Add(1) <= failFirst {
				return map[string]any{"matched": 0}, errors.New("slack: 500")
			}
			return map[string]any{"matched": 12}, nil
		},
	})
	ctx := context.Background()
	if res := r.scheduler(t).Tick(ctx, time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)); len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Tick = %+v", res)
	}
	runs, err := postgres.NewJobRuns(r.pool).List(ctx, "slack_sync", 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	runID := runs[0].ID

	alerts := &cronAlertCounter{}
	router, err := messaging.NewRouter(r.pool, slog.New(slog.DiscardHandler), alerts, messaging.RouterConfig{
		MaxRetries:           maxRetries,
		RetryInitialInterval: 10 * time.Millisecond,
		RetryMaxInterval:     50 * time.Millisecond,
		PollInterval:         50 * time.Millisecond,
		HandlerTimeout:       5 * time.Second,
		AckDeadline:          15 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := application.NewRunJob(r.jobTx, r.jobs, maxRetries+1)
	if err != nil {
		t.Fatal(err)
	}
	if err := router.AddHandler("jobs.run", ports.TopicJobRun, messageHandlers(application.Commands{RunJob: runner})[0].fn); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- router.Run(rctx) }()
	t.Cleanup(func() {
		_ = router.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("router: %v", err)
		}
	})

	store := postgres.NewJobRuns(r.pool)
	dead := waitForCronRun(t, store, runID, ports.JobDeadLetter)
	if dead.Attempts != maxRetries+1 || dead.Summary["matched"] != float64(0) || !strings.Contains(dead.Error, "slack: 500") {
		t.Fatalf("dead-lettered run = %+v, want %d attempts, the last summary and error", dead, maxRetries+1)
	}
	var dlID string
	waitUntil(t, "the dead letter", func() bool {
		return r.pool.QueryRow(ctx, `SELECT id::text FROM dead_letters WHERE message_id = $1 AND status = 'open'`, runID).Scan(&dlID) == nil
	})
	if n := alerts.n.Load(); n != 1 {
		t.Fatalf("%d alerts, want 1", n)
	}

	// The operator's replay: what application.ReplayDeadLetter does.
	err = r.uow.Do(ctx, func(ctx context.Context, tx *postgres.Tx) error {
		if err := tx.DeadLetters().Replay(ctx, dlID, "user:ops"); err != nil {
			return err
		}
		return tx.JobRuns().SetStatus(ctx, runID, ports.JobReplayed)
	})
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	doneRun := waitForCronRun(t, store, runID, ports.JobCompleted)
	if doneRun.Attempts != 1 || doneRun.Summary["matched"] != float64(12) || doneRun.Error != "" || doneRun.FinishedAt.IsZero() {
		t.Fatalf("completed run = %+v, want 1 attempt in the replayed round, the summary, no error", doneRun)
	}
	if n := calls.Load(); n != failFirst+1 {
		t.Fatalf("job ran %d times, want %d", n, failFirst+1)
	}

	// A redelivery of the completed run's message runs nothing.
	if err := runner.Handle(ctx, application.RunJobInput{MessageID: runID, RunID: runID}); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := calls.Load(); n != failFirst+1 {
		t.Fatalf("a redelivered message ran the job again (%d calls)", n)
	}
}

func waitForCronRun(t *testing.T, store *postgres.JobRuns, id string, status ports.JobStatus) ports.JobRun {
	t.Helper()
	var run ports.JobRun
	waitUntil(t, fmt.Sprintf("run %s to be %s", id, status), func() bool {
		var err error
		run, err = store.Get(context.Background(), id)
		return err == nil && run.Status == status
	})
	return run
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// defaultCronJobs are two jobs whose runs are recorded as skipped.
func defaultCronJobs() map[string]application.JobFunc {
	return map[string]application.JobFunc{
		jobEventApproval: application.SkippedJob("not configured"),
		jobChatSync:      application.SkippedJob("not configured"),
	}
}

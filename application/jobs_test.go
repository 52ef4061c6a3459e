package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// jobMocks is a unit of work whose transactions hand out mocked stores. It
// counts transactions and knows whether one is open, so that tests can tell
// what ran inside a transaction and what did not.
type jobMocks struct {
	uow   *mocks.MockUnitOfWork
	tx    *mocks.MockTx
	runs  *mocks.MockJobRuns
	audit *mocks.MockAuditLog
	pub   *mocks.MockPublisher
	txs   atomic.Int32
	inTx  atomic.Bool
}

func newJobMocks(t *testing.T) *jobMocks {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := &jobMocks{
		uow: mocks.NewMockUnitOfWork(ctrl), tx: mocks.NewMockTx(ctrl), runs: mocks.NewMockJobRuns(ctrl),
		audit: mocks.NewMockAuditLog(ctrl), pub: mocks.NewMockPublisher(ctrl),
	}
	m.uow.EXPECT().Do(gomock.Any(), gomock.Any()).DoAndReturn(
		func(ctx context.Context, fn func(context.Context, ports.Tx) error) error {
			m.txs.Add(1)
			m.inTx.Store(true)
			defer m.inTx.Store(false)
			return fn(ctx, m.tx)
		}).AnyTimes()
	m.tx.EXPECT().JobRuns().Return(m.runs).AnyTimes()
	m.tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	m.tx.EXPECT().Publisher().Return(m.pub).AnyTimes()
	return m
}

func registry(t *testing.T, jobs map[string]application.JobFunc) *application.JobRegistry {
	t.Helper()
	r, err := application.NewJobRegistry(jobs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var nineUTC = time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)

// --- registry ---

func TestJobRegistryRefusesBadNamesAndNilRunners(t *testing.T) {
	t.Parallel()
	ok := application.SkippedJob("x")
	tests := []struct {
		name string
		jobs map[string]application.JobFunc
	}{
		{"no jobs", nil},
		{"empty name", map[string]application.JobFunc{"": ok}},
		{"upper case", map[string]application.JobFunc{"Luma": ok}},
		{"dash", map[string]application.JobFunc{"luma-approval": ok}},
		{"leading digit", map[string]application.JobFunc{"9am": ok}},
		{"path", map[string]application.JobFunc{"../admin": ok}},
		{"nil runner", map[string]application.JobFunc{"slack_sync": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := application.NewJobRegistry(tc.jobs); err == nil {
				t.Fatal("NewJobRegistry succeeded, want an error")
			}
		})
	}
}

func TestJobRegistryKnowsTheDefaultJobs(t *testing.T) {
	t.Parallel()
	jobs := application.DefaultJobs()
	r := registry(t, jobs)
	if got := strings.Join(r.Names(), ","); got != "luma_approval,slack_sync" {
		t.Fatalf("Names = %s, want luma_approval,slack_sync", got)
	}
	for _, name := range []string{application.JobLumaApproval, application.JobSlackSync} {
		if !r.Known(name) {
			t.Errorf("Known(%q) = false", name)
		}
	}
	for _, name := range []string{"", "LUMA_APPROVAL", "unknown", "slack_sync "} {
		if r.Known(name) {
			t.Errorf("Known(%q) = true", name)
		}
	}
	// The registry keeps its own copy.
	jobs["late"] = application.SkippedJob("x")
	if r.Known("late") {
		t.Error("a job added to the map after NewJobRegistry became known")
	}
}

func TestDefaultJobsRecordSkippedNotConfigured(t *testing.T) {
	t.Parallel()
	for name, fn := range application.DefaultJobs() {
		summary, err := fn(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if summary["outcome"] != "skipped" || summary["reason"] != "not configured" {
			t.Errorf("%s summary = %v, want outcome skipped, reason not configured", name, summary)
		}
	}
}

func TestJobHandlersRefuseMissingDependencies(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	r := registry(t, application.DefaultJobs())
	if _, err := application.NewEnqueueJobHandler(nil, r); err == nil {
		t.Error("NewEnqueueJobHandler(nil uow) succeeded")
	}
	if _, err := application.NewEnqueueJobHandler(m.uow, nil); err == nil {
		t.Error("NewEnqueueJobHandler(nil registry) succeeded")
	}
	if _, err := application.NewRunJobHandler(nil, r, 4); err == nil {
		t.Error("NewRunJobHandler(nil uow) succeeded")
	}
	if _, err := application.NewRunJobHandler(m.uow, nil, 4); err == nil {
		t.Error("NewRunJobHandler(nil registry) succeeded")
	}
	if _, err := application.NewRunJobHandler(m.uow, r, 0); err == nil {
		t.Error("NewRunJobHandler(maxAttempts 0) succeeded")
	}
}

// --- enqueue ---

func newEnqueue(t *testing.T, m *jobMocks) application.EnqueueJobHandler {
	t.Helper()
	h, err := application.NewEnqueueJobHandler(m.uow, registry(t, application.DefaultJobs()))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestEnqueueJobCreatesRunQueuesItAndAuditsTheHTTPTrigger(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	run := ports.JobRun{ID: "5a0c7f2e-8d0e-4a43-9d7e-0c3f1b2a4e11", Job: "luma_approval", Slot: nineUTC, Trigger: ports.TriggerHTTP, Status: ports.JobPending}
	gomock.InOrder(
		m.runs.EXPECT().Create(gomock.Any(), "luma_approval", nineUTC, ports.TriggerHTTP).Return(run, nil),
		m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, msgs ...ports.Message) error {
			if len(msgs) != 1 {
				t.Fatalf("published %d messages, want 1", len(msgs))
			}
			msg := msgs[0]
			var p ports.JobRunPayload
			if msg.Topic != ports.TopicJobRun || msg.ID != run.ID || json.Unmarshal(msg.Payload, &p) != nil || p.RunID != run.ID {
				t.Errorf("published %+v (payload %s), want a %s message for run %s", msg, msg.Payload, ports.TopicJobRun, run.ID)
			}
			return nil
		}),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, e ports.AuditEntry) error {
			if e.ActorKind != "system" || e.ActorID != "cron_secret" || e.Action != "job.enqueue" ||
				e.SubjectKind != "job_run" || e.SubjectID != run.ID || e.Outcome != ports.OutcomeSuccess ||
				e.Details["job"] != "luma_approval" || e.Details["trigger"] != "http" || e.Details["slot"] != "2026-02-03T09:00:00Z" {
				t.Errorf("audit entry = %+v", e)
			}
			return nil
		}),
	)
	// A slot in another zone is stored in UTC.
	got, err := newEnqueue(t, m).Handle(context.Background(), "luma_approval", nineUTC.In(time.FixedZone("PST", -8*3600)),
		ports.TriggerHTTP, "system", "cron_secret")
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got.ID != run.ID {
		t.Fatalf("run = %+v, want %+v", got, run)
	}
	if n := m.txs.Load(); n != 1 {
		t.Fatalf("%d transactions, want the three writes in one", n)
	}
}

func TestEnqueueJobAuditsCLITriggers(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	m.runs.EXPECT().Create(gomock.Any(), "slack_sync", nineUTC, ports.TriggerCLI).Return(ports.JobRun{ID: "r1"}, nil)
	m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
	m.audit.EXPECT().Record(gomock.Any(), gomock.Cond(func(e ports.AuditEntry) bool {
		return e.ActorKind == "user" && e.ActorID == "ops@host" && e.Details["trigger"] == "cli"
	})).Return(nil)
	if _, err := newEnqueue(t, m).Handle(context.Background(), "slack_sync", nineUTC, ports.TriggerCLI, "user", "ops@host"); err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueJobFromCronIsNotAudited(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	m.runs.EXPECT().Create(gomock.Any(), "slack_sync", nineUTC, ports.TriggerCron).Return(ports.JobRun{ID: "r1"}, nil)
	m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
	// No Audit().Record expectation: a call fails the test.
	if _, err := newEnqueue(t, m).Handle(context.Background(), "slack_sync", nineUTC, ports.TriggerCron, "", ""); err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueJobReturnsSlotTakenAsIsAndQueuesNothing(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	m.runs.EXPECT().Create(gomock.Any(), "slack_sync", nineUTC, ports.TriggerCron).Return(ports.JobRun{}, ports.ErrSlotTaken)
	_, err := newEnqueue(t, m).Handle(context.Background(), "slack_sync", nineUTC, ports.TriggerCron, "system", "cron")
	if err != ports.ErrSlotTaken { //nolint:errorlint // the contract is the sentinel itself
		t.Fatalf("err = %v, want ports.ErrSlotTaken as is", err)
	}
}

func TestEnqueueJobFailsWhenTheMessageCannotBeQueued(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	boom := errors.New("table missing")
	m.runs.EXPECT().Create(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.JobRun{ID: "r1"}, nil)
	m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(boom)
	_, err := newEnqueue(t, m).Handle(context.Background(), "slack_sync", nineUTC, ports.TriggerHTTP, "system", "x")
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v (the transaction rolls the run back)", err, boom)
	}
}

func TestEnqueueJobRejectsBadInputBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		job     string
		slot    time.Time
		trigger ports.JobTrigger
		actor   string
		want    error
	}{
		{"unknown job", "mailchimp_resync", nineUTC, ports.TriggerCron, "", application.ErrUnknownJob},
		{"empty job", "", nineUTC, ports.TriggerCron, "", application.ErrUnknownJob},
		{"unknown trigger", "slack_sync", nineUTC, "webhook", "system", application.ErrInvalidInput},
		{"zero slot", "slack_sync", time.Time{}, ports.TriggerCron, "", application.ErrInvalidInput},
		{"http without actor", "slack_sync", nineUTC, ports.TriggerHTTP, "", application.ErrInvalidInput},
		{"cli without actor", "slack_sync", nineUTC, ports.TriggerCLI, "", application.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newJobMocks(t)
			_, err := newEnqueue(t, m).Handle(context.Background(), tc.job, tc.slot, tc.trigger, tc.actor, "")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n := m.txs.Load(); n != 0 {
				t.Fatalf("%d transactions opened for bad input", n)
			}
		})
	}
}

// --- run ---

func runMessage(runID string) ports.Message {
	return ports.Message{ID: "m1", Topic: ports.TopicJobRun, Payload: []byte(`{"run_id":"` + runID + `"}`)}
}

func newRunner(t *testing.T, m *jobMocks, jobs map[string]application.JobFunc, maxAttempts int) application.RunJobHandler {
	t.Helper()
	h, err := application.NewRunJobHandler(m.uow, registry(t, jobs), maxAttempts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func started(job string, attempts int) ports.JobRun {
	return ports.JobRun{ID: "run-1", Job: job, Slot: nineUTC, Status: ports.JobProcessing, Attempts: attempts}
}

func TestRunJobRunsTheJobOutsideAnyTransactionAndRecordsCompletion(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	var calls atomic.Int32
	job := func(context.Context) (map[string]any, error) {
		calls.Add(1)
		if m.inTx.Load() {
			t.Error("the job ran inside a transaction")
		}
		return map[string]any{"approved": 2, "declined": 1}, nil
	}
	gomock.InOrder(
		m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(started("luma_approval", 1), nil),
		m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobCompleted, map[string]any{"approved": 2, "declined": 1}, "").Return(nil),
	)
	h := newRunner(t, m, map[string]application.JobFunc{"luma_approval": job}, 4)
	if err := h.Handle(context.Background(), runMessage("run-1")); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("job ran %d times, want 1", calls.Load())
	}
	if n := m.txs.Load(); n != 2 {
		t.Fatalf("%d transactions, want 2 (start, finish), each of its own", n)
	}
}

func TestRunJobRecordsAnUnconfiguredJobAsSkipped(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(started("slack_sync", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobCompleted,
		map[string]any{"outcome": "skipped", "reason": "not configured"}, "").Return(nil)
	if err := newRunner(t, m, application.DefaultJobs(), 4).Handle(context.Background(), runMessage("run-1")); err != nil {
		t.Fatal(err)
	}
}

func TestRunJobFailureRecordsRetryingOrDeadLetter(t *testing.T) {
	t.Parallel()
	boom := errors.New("luma: 503")
	tests := []struct {
		name     string
		attempts int
		jobErr   error
		want     ports.JobStatus
	}{
		{"first attempt", 1, boom, ports.JobRetrying},
		{"second to last attempt", 3, boom, ports.JobRetrying},
		{"last attempt", 4, boom, ports.JobDeadLetter},
		{"past the last attempt", 5, boom, ports.JobDeadLetter},
		{"permanent error on the first attempt", 1, ports.Permanent(boom), ports.JobDeadLetter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newJobMocks(t)
			partial := map[string]any{"approved": 1}
			m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(started("luma_approval", tc.attempts), nil)
			m.runs.EXPECT().Finish(gomock.Any(), "run-1", tc.want, partial, gomock.Cond(func(s string) bool {
				return strings.Contains(s, "luma: 503") && strings.Contains(s, "run-1")
			})).Return(nil)
			h := newRunner(t, m, map[string]application.JobFunc{
				"luma_approval": func(context.Context) (map[string]any, error) { return partial, tc.jobErr },
			}, 4)
			err := h.Handle(context.Background(), runMessage("run-1"))
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the job's error returned so the router retries or dead-letters", err)
			}
			if got, want := ports.IsPermanent(err), ports.IsPermanent(tc.jobErr); got != want {
				t.Fatalf("IsPermanent(err) = %v, want %v", got, want)
			}
		})
	}
}

func TestRunJobDoesNotRunAFinishedRunAgain(t *testing.T) {
	t.Parallel()
	for _, status := range []ports.JobStatus{ports.JobCompleted, ports.JobAbandoned} {
		t.Run(string(status), func(t *testing.T) {
			t.Parallel()
			m := newJobMocks(t)
			run := started("luma_approval", 2)
			run.Status = status
			m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(run, nil)
			// No Finish expectation: a call fails the test.
			h := newRunner(t, m, map[string]application.JobFunc{"luma_approval": func(context.Context) (map[string]any, error) {
				t.Error("a finished run ran again")
				return nil, nil
			}}, 4)
			if err := h.Handle(context.Background(), runMessage("run-1")); err != nil {
				t.Fatalf("Handle = %v, want nil (redelivery of a finished run)", err)
			}
		})
	}
}

func TestRunJobRejectsMalformedMessagesPermanently(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{``, `not json`, `{}`, `{"run_id":""}`, `[]`, `{"run_id":7}`} {
		t.Run(payload, func(t *testing.T) {
			t.Parallel()
			m := newJobMocks(t)
			err := newRunner(t, m, application.DefaultJobs(), 4).Handle(context.Background(),
				ports.Message{ID: "m1", Topic: ports.TopicJobRun, Payload: []byte(payload)})
			if !ports.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent error", err)
			}
			if n := m.txs.Load(); n != 0 {
				t.Fatalf("%d transactions for a malformed message", n)
			}
		})
	}
}

func TestRunJobUnknownRunIsPermanent(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	m.runs.EXPECT().Start(gomock.Any(), "run-x").Return(ports.JobRun{}, ports.ErrNotFound)
	err := newRunner(t, m, application.DefaultJobs(), 4).Handle(context.Background(), runMessage("run-x"))
	if !ports.IsPermanent(err) || !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("err = %v, want a permanent ErrNotFound", err)
	}
}

func TestRunJobRetriesWhenTheRunCannotBeStarted(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	boom := errors.New("connection reset")
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(ports.JobRun{}, boom)
	h := newRunner(t, m, map[string]application.JobFunc{"slack_sync": func(context.Context) (map[string]any, error) {
		t.Error("the job ran although its run was not started")
		return nil, nil
	}}, 4)
	err := h.Handle(context.Background(), runMessage("run-1"))
	if !errors.Is(err, boom) || ports.IsPermanent(err) {
		t.Fatalf("err = %v, want %v, retryable", err, boom)
	}
}

func TestRunJobDeadLettersARunOfAnUnregisteredJob(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(started("retired_job", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobDeadLetter, gomock.Nil(),
		gomock.Cond(func(s string) bool { return strings.Contains(s, "unknown job") })).Return(nil)
	err := newRunner(t, m, application.DefaultJobs(), 4).Handle(context.Background(), runMessage("run-1"))
	if !ports.IsPermanent(err) || !errors.Is(err, application.ErrUnknownJob) {
		t.Fatalf("err = %v, want a permanent ErrUnknownJob", err)
	}
}

func TestRunJobRecordsAPanicAsAFailedAttempt(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(started("slack_sync", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobRetrying, gomock.Nil(),
		gomock.Cond(func(s string) bool { return strings.Contains(s, "panicked: nil map") })).Return(nil)
	h := newRunner(t, m, map[string]application.JobFunc{"slack_sync": func(context.Context) (map[string]any, error) {
		panic("nil map")
	}}, 4)
	if err := h.Handle(context.Background(), runMessage("run-1")); err == nil {
		t.Fatal("Handle = nil after a panic, want an error")
	}
}

func TestRunJobRecordsTheOutcomeAfterTheHandlerTimeRanOut(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(started("slack_sync", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobRetrying, gomock.Any(), gomock.Any()).DoAndReturn(
		func(ctx context.Context, _ string, _ ports.JobStatus, _ map[string]any, _ string) error {
			if ctx.Err() != nil {
				t.Errorf("Finish got a done context: %v", ctx.Err())
			}
			return nil
		})
	h := newRunner(t, m, map[string]application.JobFunc{"slack_sync": func(ctx context.Context) (map[string]any, error) {
		cancel() // the router's timeout fires while the job runs
		return nil, ctx.Err()
	}}, 4)
	if err := h.Handle(ctx, runMessage("run-1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRunJobReturnsAnErrorWhenTheOutcomeCannotBeRecorded(t *testing.T) {
	t.Parallel()
	m := newJobMocks(t)
	boom := errors.New("commit failed")
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(started("slack_sync", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobCompleted, gomock.Any(), "").Return(boom)
	err := newRunner(t, m, application.DefaultJobs(), 4).Handle(context.Background(), runMessage("run-1"))
	if !errors.Is(err, boom) || ports.IsPermanent(err) {
		t.Fatalf("err = %v, want a retryable %v (the message must not be acked)", err, boom)
	}
}

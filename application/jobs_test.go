package application_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// jobTx is a JobTx of mocks run by an inline unit of work that knows
// whether a transaction is open.
type jobTx struct {
	uow   inlineUoW[ports.JobTx]
	tx    *mocks.MockJobTx
	runs  *mocks.MockJobRuns
	pub   *mocks.MockPublisher
	audit *mocks.MockAuditLog
	inTx  *atomic.Bool
}

func newJobTx(t *testing.T) jobTx {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := jobTx{tx: mocks.NewMockJobTx(ctrl), runs: mocks.NewMockJobRuns(ctrl), pub: mocks.NewMockPublisher(ctrl),
		audit: mocks.NewMockAuditLog(ctrl), inTx: new(atomic.Bool)}
	m.uow = newInlineUoW[ports.JobTx](m.tx)
	m.tx.EXPECT().JobRuns().DoAndReturn(func() ports.JobRuns {
		m.inTx.Store(true)
		return m.runs
	}).AnyTimes()
	m.tx.EXPECT().Publisher().Return(m.pub).AnyTimes()
	m.tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	return m
}

// trackedUoW marks the end of each transaction so that a job can tell it
// runs outside one.
type trackedUoW struct{ m jobTx }

func (u trackedUoW) Do(ctx context.Context, fn func(context.Context, ports.JobTx) error) error {
	defer u.m.inTx.Store(false)
	return u.m.uow.Do(ctx, fn)
}

func jobRegistry(t *testing.T, jobs map[string]application.JobFunc) *application.JobRegistry {
	t.Helper()
	r, err := application.NewJobRegistry(jobs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func noop(context.Context) (map[string]any, error) { return map[string]any{"outcome": "done"}, nil }

var nineUTC = time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)

func TestJobRegistryRefusesBadNamesAndNilRunners(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		jobs     map[string]application.JobFunc
		wantText string
	}{
		{"no jobs", nil, "no jobs"},
		{"empty name", map[string]application.JobFunc{"": noop}, `job name ""`},
		{"upper case", map[string]application.JobFunc{"Nightly": noop}, `"Nightly"`},
		{"dash", map[string]application.JobFunc{"events-approval": noop}, `"events-approval"`},
		{"leading digit", map[string]application.JobFunc{"9am": noop}, `"9am"`},
		{"path", map[string]application.JobFunc{"../admin": noop}, `"../admin"`},
		{"64 characters", map[string]application.JobFunc{"a" + strings.Repeat("b", 63): noop}, "use lower-case"},
		{"nil runner", map[string]application.JobFunc{"directory_sync": nil}, `job "directory_sync" has a nil runner`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := application.NewJobRegistry(tt.jobs)
			if err == nil || r != nil {
				t.Fatalf("NewJobRegistry = %v, %v; want an error", r, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
		})
	}
}

func TestJobRegistryAndListJobs(t *testing.T) {
	t.Parallel()
	longest := "a" + strings.Repeat("z", 62)
	jobs := map[string]application.JobFunc{"nightly_resync": noop, "events_approval": noop, longest: noop}
	r := jobRegistry(t, jobs)
	h, err := application.NewListJobs(r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Handle(), []string{longest, "events_approval", "nightly_resync"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("jobs = %v, want %v (sorted)", got, want)
	}
	for _, name := range []string{"nightly_resync", "events_approval", longest} {
		if !h.Known(name) || !r.Known(name) {
			t.Errorf("Known(%q) = false", name)
		}
	}
	for _, name := range []string{"", "NIGHTLY_RESYNC", "unknown", "nightly_resync "} {
		if h.Known(name) {
			t.Errorf("Known(%q) = true", name)
		}
	}
	jobs["late"] = noop // the registry keeps its own copy
	if r.Known("late") {
		t.Error("a job added to the map after NewJobRegistry became known")
	}
	if _, err := application.NewListJobs(nil); err == nil {
		t.Error("NewListJobs(nil) succeeded")
	}
}

func TestSkippedJobSummary(t *testing.T) {
	t.Parallel()
	summary, err := application.SkippedJob("not configured")(context.Background())
	if want := map[string]any{"outcome": "skipped", "reason": "not configured"}; err != nil || !reflect.DeepEqual(summary, want) {
		t.Fatalf("summary = %v, %v; want %v", summary, err, want)
	}
}

func newEnqueueJob(t *testing.T, m jobTx) application.EnqueueJob {
	t.Helper()
	h, err := application.NewEnqueueJob(m.uow, jobRegistry(t, map[string]application.JobFunc{"events_approval": noop, "directory_sync": noop}))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestEnqueueJobCreatesTheRunQueuesItAndAuditsPeople(t *testing.T) {
	t.Parallel()
	// A slot in another zone, with nanoseconds, is kept in UTC to the microsecond.
	slot := nineUTC.Add(1500 * time.Nanosecond).In(time.FixedZone("PST", -8*3600))
	stored := nineUTC.Add(time.Microsecond)
	tests := []struct {
		name      string
		trigger   ports.JobTrigger
		actorKind string
		actorID   string
		wantAudit bool
	}{
		{"from the HTTP endpoint", ports.TriggerHTTP, "agent", "key_ops", true},
		{"from the CLI", ports.TriggerCLI, "user", "ops@host", true},
		{"from cron: not audited", ports.TriggerCron, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			run := ports.JobRun{ID: "run-1", Job: "events_approval", Slot: stored, Trigger: tt.trigger, Status: ports.JobPending}
			var msgs []ports.Message
			m.runs.EXPECT().Create(gomock.Any(), "events_approval", stored, tt.trigger).Return(run, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).DoAndReturn(published(t, &msgs))
			if tt.wantAudit {
				m.audit.EXPECT().Record(gomock.Any(), ports.AuditEntry{ActorKind: tt.actorKind, ActorID: tt.actorID, Action: "job.enqueue",
					SubjectKind: "job_run", SubjectID: "run-1", Outcome: ports.OutcomeSuccess,
					Details: map[string]any{"job": "events_approval", "slot": "2026-02-03T09:00:00.000001Z", "trigger": string(tt.trigger)}}).Return(nil)
			}
			got, err := newEnqueueJob(t, m).Handle(context.Background(), application.EnqueueJobInput{Job: "events_approval", Slot: slot,
				Trigger: tt.trigger, ActorKind: tt.actorKind, ActorID: tt.actorID})
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if !reflect.DeepEqual(got, run) {
				t.Errorf("run = %+v, want %+v", got, run)
			}
			var body ports.JobRunPayload
			decodeBody(t, msgs, ports.TopicJobRun, &body)
			if body.RunID != "run-1" || msgs[0].ID != "run-1" {
				t.Errorf("message %+v (body %+v), want id and body naming run-1", msgs[0], body)
			}
			if *m.uow.calls != 1 {
				t.Errorf("%d transactions, want the writes in one", *m.uow.calls)
			}
		})
	}
}

func TestEnqueueJobFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	in := application.EnqueueJobInput{Job: "directory_sync", Slot: nineUTC, Trigger: ports.TriggerHTTP, ActorKind: "agent", ActorID: "key_ops"}
	tests := []struct {
		name      string
		setup     func(m jobTx)
		commitErr error
		wantErr   error
	}{
		{"the slot is taken", func(m jobTx) {
			m.runs.EXPECT().Create(gomock.Any(), "directory_sync", nineUTC, ports.TriggerHTTP).Return(ports.JobRun{}, ports.ErrSlotTaken)
		}, nil, ports.ErrSlotTaken},
		{"the run cannot be created", func(m jobTx) {
			m.runs.EXPECT().Create(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.JobRun{}, boom)
		}, nil, boom},
		{"the message cannot be queued", func(m jobTx) {
			m.runs.EXPECT().Create(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.JobRun{ID: "r1"}, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(boom)
		}, nil, boom},
		{"the audit fails", func(m jobTx) {
			m.runs.EXPECT().Create(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.JobRun{ID: "r1"}, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
			m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(boom)
		}, nil, boom},
		{"the commit fails", func(m jobTx) {
			m.runs.EXPECT().Create(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.JobRun{ID: "r1"}, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
			m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
		}, boom, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			m.uow.commitErr = tt.commitErr
			tt.setup(m)
			run, err := newEnqueueJob(t, m).Handle(context.Background(), in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == ports.ErrSlotTaken && err != ports.ErrSlotTaken { //nolint:errorlint // the contract is the sentinel as is
				t.Errorf("err = %v, want ports.ErrSlotTaken as is", err)
			}
			if !reflect.DeepEqual(run, ports.JobRun{}) {
				t.Errorf("run %+v returned with an error", run)
			}
		})
	}
}

func TestEnqueueJobRejectsBadInputBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   application.EnqueueJobInput
		want error
	}{
		{"unknown job", application.EnqueueJobInput{Job: "list_resync", Slot: nineUTC, Trigger: ports.TriggerCron}, application.ErrUnknownJob},
		{"empty job", application.EnqueueJobInput{Slot: nineUTC, Trigger: ports.TriggerCron}, application.ErrUnknownJob},
		{"unknown trigger", application.EnqueueJobInput{Job: "directory_sync", Slot: nineUTC, Trigger: "webhook", ActorKind: "system"}, application.ErrInvalidInput},
		{"zero slot", application.EnqueueJobInput{Job: "directory_sync", Trigger: ports.TriggerCron}, application.ErrInvalidInput},
		{"http without an actor", application.EnqueueJobInput{Job: "directory_sync", Slot: nineUTC, Trigger: ports.TriggerHTTP}, application.ErrInvalidInput},
		{"cli without an actor", application.EnqueueJobInput{Job: "directory_sync", Slot: nineUTC, Trigger: ports.TriggerCLI, ActorID: "x"}, application.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			_, err := newEnqueueJob(t, m).Handle(context.Background(), tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if *m.uow.calls != 0 {
				t.Fatalf("%d transactions opened for bad input", *m.uow.calls)
			}
		})
	}
}

func newRunJob(t *testing.T, m jobTx, jobs map[string]application.JobFunc, maxAttempts int) application.RunJob {
	t.Helper()
	h, err := application.NewRunJob(trackedUoW{m}, jobRegistry(t, jobs), maxAttempts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func startedRun(job string, attempts int) ports.JobRun {
	return ports.JobRun{ID: "run-1", Job: job, Slot: nineUTC, Status: ports.JobProcessing, Attempts: attempts}
}

var runOne = application.RunJobInput{MessageID: "m1", RunID: "run-1"}

func TestRunJobRunsTheJobOutsideAnyTransactionAndRecordsCompletion(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	var calls atomic.Int32
	job := func(context.Context) (map[string]any, error) {
		calls.Add(1)
		if m.inTx.Load() {
			t.Error("the job ran inside a transaction")
		}
		return map[string]any{"approved": 2, "declined": 1}, nil
	}
	gomock.InOrder(
		m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(startedRun("events_approval", 1), nil),
		m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobCompleted, map[string]any{"approved": 2, "declined": 1}, "").Return(nil),
	)
	if err := newRunJob(t, m, map[string]application.JobFunc{"events_approval": job}, 4).Handle(context.Background(), runOne); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if calls.Load() != 1 || *m.uow.calls != 2 {
		t.Fatalf("job ran %d times in %d transactions, want once, between a start and a finish transaction", calls.Load(), *m.uow.calls)
	}
}

func TestRunJobRecordsAnUnconfiguredJobAsSkipped(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(startedRun("directory_sync", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobCompleted, map[string]any{"outcome": "skipped", "reason": "not configured"}, "").Return(nil)
	h := newRunJob(t, m, map[string]application.JobFunc{"directory_sync": application.SkippedJob("not configured")}, 4)
	if err := h.Handle(context.Background(), runOne); err != nil {
		t.Fatal(err)
	}
}

func TestRunJobFailureRecordsRetryingOrDeadLetter(t *testing.T) {
	t.Parallel()
	boom := errors.New("events platform: 503")
	tests := []struct {
		name     string
		attempts int
		jobErr   error
		want     ports.JobStatus
		label    string // how the error names the attempt
	}{
		{"first attempt", 1, boom, ports.JobRetrying, "attempt 1 of 4:"},
		{"second to last attempt", 3, boom, ports.JobRetrying, "attempt 3 of 4:"},
		{"last attempt", 4, boom, ports.JobDeadLetter, "attempt 4 of 4:"},
		// Past the count (after transient attempts): never "5 of 4".
		{"past the last attempt", 5, boom, ports.JobDeadLetter, "attempt 5:"},
		{"permanent error on the first attempt", 1, ports.Permanent(boom), ports.JobDeadLetter, "attempt 1 of 4:"},
		{"transient error past the last attempt", 7, ports.Transient("events", boom, time.Minute), ports.JobRetrying, "attempt 7 (a transient failure"},
		{"transient error marked permanent", 1, ports.Permanent(ports.Transient("events", boom, 0)), ports.JobDeadLetter, "attempt 1 of 4:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			partial := map[string]any{"approved": 1}
			m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(startedRun("events_approval", tt.attempts), nil)
			m.runs.EXPECT().Finish(gomock.Any(), "run-1", tt.want, partial, gomock.Cond(func(s string) bool {
				return strings.Contains(s, "events platform: 503") && strings.Contains(s, "run run-1") && strings.Contains(s, tt.label)
			})).Return(nil)
			h := newRunJob(t, m, map[string]application.JobFunc{
				"events_approval": func(context.Context) (map[string]any, error) { return partial, tt.jobErr },
			}, 4)
			err := h.Handle(context.Background(), runOne)
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the job's error returned so the router retries or dead-letters", err)
			}
			if got, want := ports.IsPermanent(err), ports.IsPermanent(tt.jobErr); got != want {
				t.Fatalf("IsPermanent(err) = %t, want %t", got, want)
			}
		})
	}
}

func TestRunJobDoesNotRunAFinishedRunAgain(t *testing.T) {
	t.Parallel()
	for _, status := range []ports.JobStatus{ports.JobCompleted, ports.JobAbandoned} {
		t.Run(string(status), func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			run := startedRun("events_approval", 2)
			run.Status = status
			m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(run, nil)
			// No Finish expectation: a call fails the test.
			h := newRunJob(t, m, map[string]application.JobFunc{"events_approval": func(context.Context) (map[string]any, error) {
				t.Error("a finished run ran again")
				return nil, nil
			}}, 4)
			if err := h.Handle(context.Background(), runOne); err != nil {
				t.Fatalf("Handle = %v, want nil (a redelivery of a finished run)", err)
			}
		})
	}
}

func TestRunJobRefusesARunTheStoreDidNotStart(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	run := startedRun("events_approval", 1)
	run.Status = ports.JobPending
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(run, nil)
	h := newRunJob(t, m, map[string]application.JobFunc{"events_approval": func(context.Context) (map[string]any, error) {
		t.Error("a run that is not processing ran")
		return nil, nil
	}}, 4)
	err := h.Handle(context.Background(), runOne)
	if err == nil || ports.IsPermanent(err) || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("err = %v, want a retryable error naming the status", err)
	}
}

func TestRunJobMessagesThatCannotRun(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	tests := []struct {
		name      string
		in        application.RunJobInput
		startErr  error // nil: Start not called
		wantErr   error
		permanent bool
	}{
		{"a message without a run id", application.RunJobInput{MessageID: "m1"}, nil, nil, true},
		{"an unknown run", runOne, ports.ErrNotFound, ports.ErrNotFound, true},
		{"the run cannot be started", runOne, boom, boom, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			if tt.startErr != nil {
				m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(ports.JobRun{}, tt.startErr)
			}
			h := newRunJob(t, m, map[string]application.JobFunc{"events_approval": func(context.Context) (map[string]any, error) {
				t.Error("the job ran")
				return nil, nil
			}}, 4)
			err := h.Handle(context.Background(), tt.in)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || ports.IsPermanent(err) != tt.permanent {
				t.Fatalf("err = %v (permanent %t), want %v, permanent %t", err, ports.IsPermanent(err), tt.wantErr, tt.permanent)
			}
			if tt.startErr == nil && *m.uow.calls != 0 {
				t.Fatalf("%d transactions for a malformed message", *m.uow.calls)
			}
		})
	}
}

func TestRunJobDeadLettersARunOfAnUnregisteredJob(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(startedRun("retired_job", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobDeadLetter, gomock.Nil(),
		gomock.Cond(func(s string) bool { return strings.Contains(s, "unknown job") })).Return(nil)
	err := newRunJob(t, m, map[string]application.JobFunc{"events_approval": noop}, 4).Handle(context.Background(), runOne)
	if !ports.IsPermanent(err) || !errors.Is(err, application.ErrUnknownJob) {
		t.Fatalf("err = %v, want a permanent ErrUnknownJob", err)
	}
}

func TestRunJobRecordsAPanicAsAFailedAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		attempts int
		want     ports.JobStatus
	}{
		{"retried", 1, ports.JobRetrying},
		{"on the last attempt", 3, ports.JobDeadLetter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(startedRun("directory_sync", tt.attempts), nil)
			m.runs.EXPECT().Finish(gomock.Any(), "run-1", tt.want, gomock.Nil(),
				gomock.Cond(func(s string) bool { return strings.Contains(s, "job panicked: nil map") })).Return(nil)
			h := newRunJob(t, m, map[string]application.JobFunc{"directory_sync": func(context.Context) (map[string]any, error) {
				panic("nil map")
			}}, 3)
			err := h.Handle(context.Background(), runOne)
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Fatalf("Handle = %v after a panic, want the panic as an error", err)
			}
		})
	}
}

func TestRunJobRecordsTheOutcomeAfterTheHandlerTimeRanOut(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(startedRun("directory_sync", 1), nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobRetrying, gomock.Any(), gomock.Any()).DoAndReturn(
		func(ctx context.Context, _ string, _ ports.JobStatus, _ map[string]any, _ string) error {
			if ctx.Err() != nil {
				t.Errorf("Finish got a done context: %v", ctx.Err())
			}
			if _, ok := ctx.Deadline(); !ok {
				t.Error("Finish has no deadline of its own")
			}
			return nil
		})
	h := newRunJob(t, m, map[string]application.JobFunc{"directory_sync": func(ctx context.Context) (map[string]any, error) {
		cancel() // the router's timeout fires while the job runs
		return nil, ctx.Err()
	}}, 4)
	if err := h.Handle(ctx, runOne); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRunJobReturnsAnErrorWhenTheOutcomeCannotBeRecorded(t *testing.T) {
	t.Parallel()
	commitFailed := errors.New("commit failed")
	jobFailed := errors.New("job failed")
	tests := []struct {
		name   string
		jobErr error
		status ports.JobStatus
	}{
		{"after a success", nil, ports.JobCompleted},
		{"after a failure: both errors", jobFailed, ports.JobRetrying},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newJobTx(t)
			m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(startedRun("directory_sync", 1), nil)
			m.runs.EXPECT().Finish(gomock.Any(), "run-1", tt.status, gomock.Any(), gomock.Any()).Return(commitFailed)
			h := newRunJob(t, m, map[string]application.JobFunc{"directory_sync": func(context.Context) (map[string]any, error) {
				return nil, tt.jobErr
			}}, 4)
			err := h.Handle(context.Background(), runOne)
			if !errors.Is(err, commitFailed) || ports.IsPermanent(err) {
				t.Fatalf("err = %v, want a retryable %v (the message must not be acked)", err, commitFailed)
			}
			if tt.jobErr != nil && !errors.Is(err, tt.jobErr) {
				t.Fatalf("err = %v lost the job's error", err)
			}
		})
	}
}

func TestJobUseCasesRefuseMissingDependencies(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	r := jobRegistry(t, map[string]application.JobFunc{"directory_sync": noop})
	tests := []struct {
		name string
		make func() error
	}{
		{"enqueue without a unit of work", func() error { _, err := application.NewEnqueueJob(nil, r); return err }},
		{"enqueue without a registry", func() error { _, err := application.NewEnqueueJob(m.uow, nil); return err }},
		{"run without a unit of work", func() error { _, err := application.NewRunJob(nil, r, 4); return err }},
		{"run without a registry", func() error { _, err := application.NewRunJob(m.uow, nil, 4); return err }},
		{"run with no attempt", func() error { _, err := application.NewRunJob(m.uow, r, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.make(); err == nil {
				t.Fatal("constructor succeeded, want an error")
			}
		})
	}
	if _, err := application.NewRunJob(m.uow, r, 1); err != nil {
		t.Fatalf("one attempt refused: %v", err)
	}
}

package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// The jobs the platform knows. Their real runners arrive with the Luma and
// Slack issues; until then DefaultJobs records their runs as skipped.
const (
	JobLumaApproval    = "luma_approval"    // approve or decline pending Luma guests
	JobSlackSync       = "slack_sync"       // match members to Slack users
	JobMailchimpResync = "mailchimp_resync" // push everyone to the email list
	JobStripeReconcile = "stripe_reconcile" // fetch billing events the webhooks missed
)

// ErrUnknownJob is wrapped by the errors for a job name that is not
// registered.
var ErrUnknownJob = errors.New("unknown job")

// JobFunc runs a job once and returns a summary of what it did, stored with
// the run. It may be called again for the same run (a retry, a redelivered
// message), so it must be idempotent. An error marked ports.Permanent is
// not retried.
type JobFunc func(ctx context.Context) (summary map[string]any, err error)

// SkippedJob returns a runner for a job that cannot run (an integration that
// is not configured): its runs complete with the summary
// {"outcome": "skipped", "reason": reason}, never as a silent success.
func SkippedJob(reason string) JobFunc {
	return func(context.Context) (map[string]any, error) {
		return map[string]any{"outcome": "skipped", "reason": reason}, nil
	}
}

// DefaultJobs returns every known job with a runner that records it as
// skipped because it is not configured. Replace entries as the real runners
// are wired: jobs := DefaultJobs(); jobs[JobSlackSync] = sync.Run.
func DefaultJobs() map[string]JobFunc {
	return map[string]JobFunc{
		JobLumaApproval: SkippedJob("not configured"),
		JobSlackSync:    SkippedJob("not configured"),
	}
}

var validJobName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// JobRegistry maps job names to their runners. It is fixed once built.
type JobRegistry struct {
	jobs map[string]JobFunc
}

// NewJobRegistry refuses an empty set, names other than lower-case
// snake_case and nil runners.
func NewJobRegistry(jobs map[string]JobFunc) (*JobRegistry, error) {
	if len(jobs) == 0 {
		return nil, errors.New("application: job registry: no jobs")
	}
	var errs []error
	for name, fn := range jobs {
		if !validJobName.MatchString(name) {
			errs = append(errs, fmt.Errorf("job name %q: use lower-case letters, digits and '_'", name))
		}
		if fn == nil {
			errs = append(errs, fmt.Errorf("job %q has a nil runner", name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("application: job registry: %w", errors.Join(errs...))
	}
	return &JobRegistry{jobs: maps.Clone(jobs)}, nil
}

// Known reports whether name is a registered job.
func (r *JobRegistry) Known(name string) bool {
	_, ok := r.jobs[name]
	return ok
}

// Names returns the registered jobs, sorted.
func (r *JobRegistry) Names() []string {
	return slices.Sorted(maps.Keys(r.jobs))
}

func (r *JobRegistry) lookup(name string) (JobFunc, error) {
	fn, ok := r.jobs[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownJob, name)
	}
	return fn, nil
}

// EnqueueJobHandler creates the run of a job for a slot and queues it for the
// worker, in one transaction: the run, its message and (for people and
// operators' tools) the audit entry commit together.
type EnqueueJobHandler struct {
	uow  ports.UnitOfWork
	jobs *JobRegistry
}

// NewEnqueueJobHandler refuses nil dependencies.
func NewEnqueueJobHandler(uow ports.UnitOfWork, jobs *JobRegistry) (EnqueueJobHandler, error) {
	if uow == nil || jobs == nil {
		return EnqueueJobHandler{}, errors.New("application: enqueue job: nil unit of work or job registry")
	}
	return EnqueueJobHandler{uow: uow, jobs: jobs}, nil
}

// Handle enqueues job for slot (kept in UTC, to the microsecond). actorKind
// and actorID say who asked; they are required for the http and cli triggers,
// which are audited. It returns an error wrapping ErrUnknownJob or
// ErrInvalidInput for bad input, and ports.ErrSlotTaken, as is, when the slot
// already has a run (for cron: another replica has it).
func (h EnqueueJobHandler) Handle(ctx context.Context, job string, slot time.Time, trigger ports.JobTrigger, actorKind, actorID string) (ports.JobRun, error) {
	if _, err := h.jobs.lookup(job); err != nil {
		return ports.JobRun{}, err
	}
	audited := false
	switch trigger {
	case ports.TriggerCron:
	case ports.TriggerHTTP, ports.TriggerCLI:
		audited = true
	default:
		return ports.JobRun{}, fmt.Errorf("%w: unknown job trigger %q", ErrInvalidInput, trigger)
	}
	if slot.IsZero() {
		return ports.JobRun{}, fmt.Errorf("%w: job %s: zero slot", ErrInvalidInput, job)
	}
	if audited && actorKind == "" {
		return ports.JobRun{}, fmt.Errorf("%w: job %s triggered by %s without an actor", ErrInvalidInput, job, trigger)
	}
	slot = slot.UTC().Truncate(time.Microsecond)

	var run ports.JobRun
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		run, err = tx.JobRuns().Create(ctx, job, slot, trigger)
		if err != nil {
			return err
		}
		payload, err := json.Marshal(ports.JobRunPayload{RunID: run.ID})
		if err != nil {
			return fmt.Errorf("job run message: %w", err)
		}
		// The run id doubles as the message id: logs and dead letters of the
		// message name the run.
		if err := tx.Publisher().Publish(ctx, ports.Message{ID: run.ID, Topic: ports.TopicJobRun, Payload: payload}); err != nil {
			return fmt.Errorf("queue run of job %s: %w", job, err)
		}
		if !audited {
			return nil
		}
		return tx.Audit().Record(ctx, ports.AuditEntry{
			ActorKind: actorKind, ActorID: actorID,
			Action: "job.enqueue", SubjectKind: "job_run", SubjectID: run.ID,
			Outcome: ports.OutcomeSuccess,
			Details: map[string]any{"job": job, "slot": slot.Format(time.RFC3339Nano), "trigger": string(trigger)},
		})
	})
	if errors.Is(err, ports.ErrSlotTaken) {
		return ports.JobRun{}, ports.ErrSlotTaken
	}
	if err != nil {
		return ports.JobRun{}, fmt.Errorf("enqueue job %s: %w", job, err)
	}
	return run, nil
}

// recordTimeout bounds the write of an attempt's outcome, which runs even
// when the handler's own time is up.
const recordTimeout = 5 * time.Second

// RunJobHandler handles a TopicJobRun message: it runs the job and records
// each attempt on the run. Every status write is a short transaction of its
// own, never the subscriber's, so a retried attempt cannot commit the writes
// of a failed one twice.
type RunJobHandler struct {
	uow         ports.UnitOfWork
	jobs        *JobRegistry
	maxAttempts int
}

// NewRunJobHandler refuses nil dependencies. maxAttempts is how many times
// the router tries a message (its retries plus one): the failure of that
// attempt moves the run to dead_letter instead of retrying.
func NewRunJobHandler(uow ports.UnitOfWork, jobs *JobRegistry, maxAttempts int) (RunJobHandler, error) {
	if uow == nil || jobs == nil {
		return RunJobHandler{}, errors.New("application: run job: nil unit of work or job registry")
	}
	if maxAttempts < 1 {
		return RunJobHandler{}, fmt.Errorf("application: run job: maxAttempts %d is below 1", maxAttempts)
	}
	return RunJobHandler{uow: uow, jobs: jobs, maxAttempts: maxAttempts}, nil
}

// Handle runs the job of the message's run. A malformed message or an
// unknown run fails permanently. A run already completed or abandoned is not
// run again (a redelivered message): Handle returns nil. Otherwise the run
// is started (one more attempt), the job runs, and the outcome is recorded:
// completed with its summary, or retrying (the error is returned so that
// the router tries again), or dead_letter on the last attempt or a permanent
// error.
func (h RunJobHandler) Handle(ctx context.Context, msg ports.Message) error {
	var p ports.JobRunPayload
	if err := json.Unmarshal(msg.Payload, &p); err != nil || p.RunID == "" {
		return ports.Permanent(fmt.Errorf("job run message %s: payload is not {\"run_id\": ...}", msg.ID))
	}
	var run ports.JobRun
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		run, err = tx.JobRuns().Start(ctx, p.RunID)
		return err
	})
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return ports.Permanent(fmt.Errorf("job run %s: %w", p.RunID, err))
	case err != nil:
		return fmt.Errorf("start job run %s: %w", p.RunID, err)
	}
	switch run.Status {
	case ports.JobCompleted, ports.JobAbandoned:
		return nil
	case ports.JobProcessing:
	default:
		return fmt.Errorf("job run %s: started run is %s, not processing", run.ID, run.Status)
	}

	summary, jobErr := h.run(ctx, run.Job)
	status, errText := ports.JobCompleted, ""
	if jobErr != nil {
		jobErr = fmt.Errorf("job %s, run %s, attempt %d of %d: %w", run.Job, run.ID, run.Attempts, h.maxAttempts, jobErr)
		status, errText = ports.JobRetrying, jobErr.Error()
		if ports.IsPermanent(jobErr) || run.Attempts >= h.maxAttempts {
			status = ports.JobDeadLetter
		}
	}
	// The outcome is written even if the handler's time ran out meanwhile.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err = h.uow.Do(wctx, func(ctx context.Context, tx ports.Tx) error {
		return tx.JobRuns().Finish(ctx, run.ID, status, summary, errText)
	})
	if err != nil {
		err = fmt.Errorf("record job run %s as %s: %w", run.ID, status, err)
		if jobErr != nil {
			return errors.Join(jobErr, err)
		}
		return err
	}
	return jobErr
}

// run calls the job's runner, turning a panic into an error so that the
// attempt is still recorded.
func (h RunJobHandler) run(ctx context.Context, job string) (summary map[string]any, err error) {
	fn, err := h.jobs.lookup(job)
	if err != nil {
		return nil, ports.Permanent(err)
	}
	defer func() {
		if v := recover(); v != nil {
			summary, err = nil, fmt.Errorf("job panicked: %v", v)
		}
	}()
	return fn(ctx)
}

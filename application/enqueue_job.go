package application

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// EnqueueJobInput says which job to run for which slot, and who asked: the
// actor is required for the http and cli triggers, which are audited.
type EnqueueJobInput struct {
	Job       string
	Slot      time.Time
	Trigger   ports.JobTrigger
	ActorKind string
	ActorID   string
}

// EnqueueJob creates the run of a job for a slot and queues it for the
// worker, in one transaction: the run, its message and (for people and
// operators' tools) the audit entry commit together.
type EnqueueJob struct {
	uow  ports.UnitOfWork[ports.JobTx]
	jobs *JobRegistry
}

// NewEnqueueJob refuses nil dependencies.
func NewEnqueueJob(uow ports.UnitOfWork[ports.JobTx], jobs *JobRegistry) (EnqueueJob, error) {
	if anyNil(uow, jobs) {
		return EnqueueJob{}, nilDependency("enqueue job")
	}
	return EnqueueJob{uow: uow, jobs: jobs}, nil
}

// Handle enqueues the job for the slot (kept in UTC, to the microsecond). It
// returns an error wrapping ErrUnknownJob or ErrInvalidInput for bad input,
// and ports.ErrSlotTaken, as is, when the slot already has a run (for cron:
// another replica has it).
func (h EnqueueJob) Handle(ctx context.Context, in EnqueueJobInput) (ports.JobRun, error) {
	if _, _, err := h.jobs.lookup(in.Job); err != nil {
		return ports.JobRun{}, err
	}
	audited, err := auditedTrigger(in.Trigger)
	if err != nil {
		return ports.JobRun{}, err
	}
	if in.Slot.IsZero() {
		return ports.JobRun{}, invalid("job %s: zero slot", in.Job)
	}
	if audited && in.ActorKind == "" {
		return ports.JobRun{}, invalid("job %s triggered by %s without an actor", in.Job, in.Trigger)
	}
	slot := in.Slot.UTC().Truncate(time.Microsecond)

	var run ports.JobRun
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.JobTx) error {
		var err error
		if run, err = tx.JobRuns().Create(ctx, in.Job, slot, in.Trigger); err != nil {
			return err
		}
		msg, err := ports.NewMessage(ports.TopicJobRun, ports.JobRunPayload{RunID: run.ID})
		if err != nil {
			return err
		}
		// The run id doubles as the message id: logs and dead letters of the
		// message name the run.
		msg.ID = run.ID
		if err := tx.Publisher().Publish(ctx, msg); err != nil {
			return fmt.Errorf("queue run of job %s: %w", in.Job, err)
		}
		if !audited {
			return nil
		}
		return tx.Audit().Record(ctx, ports.AuditEntry{
			ActorKind: in.ActorKind, ActorID: in.ActorID,
			Action: "job.enqueue", SubjectKind: "job_run", SubjectID: run.ID,
			Outcome: ports.OutcomeSuccess,
			Details: map[string]any{"job": in.Job, "slot": slot.Format(time.RFC3339Nano), "trigger": string(in.Trigger)},
		})
	})
	if errors.Is(err, ports.ErrSlotTaken) {
		return ports.JobRun{}, ports.ErrSlotTaken
	}
	if err != nil {
		return ports.JobRun{}, fmt.Errorf("enqueue job %s: %w", in.Job, err)
	}
	return run, nil
}

// auditedTrigger reports whether runs started by t are audited (people and
// operators' tools are; the scheduler is not).
func auditedTrigger(t ports.JobTrigger) (bool, error) {
	switch t {
	case ports.TriggerCron:
		return false, nil
	case ports.TriggerHTTP, ports.TriggerCLI:
		return true, nil
	default:
		return false, invalid("unknown job trigger %q", t)
	}
}

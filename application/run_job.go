package application

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// recordTimeout bounds the write of an attempt's outcome, which runs even
// when the handler's own time is up.
const recordTimeout = 5 * time.Second

// RunJobInput is a decoded job.run message.
type RunJobInput struct {
	MessageID string
	RunID     string
	Page      int // the page of a paged run (0: the first)
}

// RunJob runs a queued job run and records each attempt on it. Every status
// write is a short transaction of its own, never the subscriber's, so a
// retried attempt cannot commit the writes of a failed one twice.
type RunJob struct {
	uow         ports.UnitOfWork[ports.JobTx]
	jobs        *JobRegistry
	maxAttempts int
}

// NewRunJob refuses nil dependencies. maxAttempts is how many times the
// router tries a message (its retries plus one): the failure of that attempt
// moves the run to dead_letter instead of retrying.
func NewRunJob(uow ports.UnitOfWork[ports.JobTx], jobs *JobRegistry, maxAttempts int) (RunJob, error) {
	if anyNil(uow, jobs) {
		return RunJob{}, nilDependency("run job")
	}
	if maxAttempts < 1 {
		return RunJob{}, fmt.Errorf("application: run job: maxAttempts %d is below 1", maxAttempts)
	}
	return RunJob{uow: uow, jobs: jobs, maxAttempts: maxAttempts}, nil
}

// Handle runs the job of the run. A message without a run, or an unknown
// run, fails permanently. A run already completed or abandoned is not run
// again (a redelivered message): Handle returns nil. Otherwise the run is
// started (one more attempt), the job runs, and the outcome is recorded:
// completed with its summary, or retrying (the error is returned so that
// the router tries again), or dead_letter on the last attempt or a permanent
// error. A paged job runs one page per message (see handlePage).
func (h RunJob) Handle(ctx context.Context, in RunJobInput) error {
	if in.RunID == "" {
		return ports.Permanent(fmt.Errorf("job run message %s: payload is not {\"run_id\": ...}", in.MessageID))
	}
	var run ports.JobRun
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.JobTx) error {
		var err error
		if run, err = tx.JobRuns().Start(ctx, in.RunID); err != nil {
			return err
		}
		if run.Status == ports.JobProcessing && in.Page != run.Pages {
			return errStalePage // undo the attempt: the page is not the run's next
		}
		return nil
	})
	switch {
	case errors.Is(err, errStalePage):
		if in.Page < run.Pages {
			return nil // a page already done, delivered again
		}
		return ports.Permanent(fmt.Errorf("job run %s: message for page %d, but the run has done %d", in.RunID, in.Page, run.Pages))
	case errors.Is(err, ports.ErrNotFound):
		return ports.Permanent(fmt.Errorf("job run %s: %w", in.RunID, err))
	case err != nil:
		return fmt.Errorf("start job run %s: %w", in.RunID, err)
	}
	switch run.Status {
	case ports.JobCompleted, ports.JobAbandoned:
		return nil
	case ports.JobProcessing:
	case ports.JobPending, ports.JobFailed, ports.JobRetrying, ports.JobDeadLetter, ports.JobReplayed:
		return fmt.Errorf("job run %s: started run is %s, not processing", run.ID, run.Status)
	}
	fn, paged, err := h.jobs.lookup(run.Job)
	if err != nil {
		return h.record(ctx, run, nil, ports.Permanent(err))
	}
	if paged != nil {
		return h.handlePage(ctx, run, *paged)
	}
	summary, jobErr := runWhole(ctx, fn)
	return h.record(ctx, run, summary, jobErr)
}

// errStalePage rolls back the start of an attempt whose message names
// another page than the run's next.
var errStalePage = errors.New("job run message for another page")

// record writes the outcome of an attempt: completed with summary, or
// retrying (jobErr is returned so that the router tries again), or
// dead_letter on the last attempt or a permanent error. It releases a page
// intent: the page's provider answered with a failure, so its retry may
// send it again.
func (h RunJob) record(ctx context.Context, run ports.JobRun, summary map[string]any, jobErr error) error {
	status, errText := ports.JobCompleted, ""
	if jobErr != nil {
		jobErr = fmt.Errorf("job %s, run %s, %s: %w", run.Job, run.ID, h.attemptLabel(run.Attempts, jobErr), jobErr)
		status, errText = ports.JobRetrying, jobErr.Error()
		// A transient failure (a rate limit, an outage) is not counted
		// against the attempts: the router re-delivers it after its wait,
		// within its own retry budget, and the run stays retrying.
		if ports.IsPermanent(jobErr) || run.Attempts >= h.maxAttempts && !ports.IsTransient(jobErr) {
			status = ports.JobDeadLetter
		}
	}
	// The outcome is written even if the handler's time ran out meanwhile.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := h.uow.Do(wctx, func(ctx context.Context, tx ports.JobTx) error {
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

// attemptLabel names an attempt. A transient failure is re-delivered later,
// within the router's retry budget rather than a count of attempts, so its
// attempts have no "of N"; neither has an attempt past the count (after
// transient ones).
func (h RunJob) attemptLabel(attempt int, err error) string {
	if ports.IsTransient(err) {
		return fmt.Sprintf("attempt %d (a transient failure: retried until the retry budget runs out)", attempt)
	}
	if attempt > h.maxAttempts {
		return fmt.Sprintf("attempt %d", attempt)
	}
	return fmt.Sprintf("attempt %d of %d", attempt, h.maxAttempts)
}

// runWhole calls a whole job's runner, turning a panic into an error so
// that the attempt is still recorded.
func runWhole(ctx context.Context, fn JobFunc) (summary map[string]any, err error) {
	defer func() {
		if v := recover(); v != nil {
			summary, err = nil, fmt.Errorf("job panicked: %v", v)
		}
	}()
	return fn(ctx)
}

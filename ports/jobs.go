package ports

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// JobStatus follows the seed's Job Failure Recovery states:
// pending → processing → completed, or failed → retrying → dead_letter →
// replayed (then completed) or abandoned.
type JobStatus string

// The job statuses.
const (
	JobPending    JobStatus = "pending"
	JobProcessing JobStatus = "processing"
	JobCompleted  JobStatus = "completed"
	JobFailed     JobStatus = "failed"
	JobRetrying   JobStatus = "retrying"
	JobDeadLetter JobStatus = "dead_letter"
	JobReplayed   JobStatus = "replayed"
	JobAbandoned  JobStatus = "abandoned"
)

// ParseJobStatus parses one of the job statuses.
func ParseJobStatus(s string) (JobStatus, error) {
	switch st := JobStatus(s); st {
	case JobPending, JobProcessing, JobCompleted, JobFailed, JobRetrying, JobDeadLetter, JobReplayed, JobAbandoned:
		return st, nil
	default:
		return "", fmt.Errorf("unknown job status %q", s)
	}
}

// JobTrigger says what started a run.
type JobTrigger string

// The job triggers.
const (
	TriggerCron JobTrigger = "cron"
	TriggerHTTP JobTrigger = "http"
	TriggerCLI  JobTrigger = "cli"
)

// JobRun is one run of a named job in one slot.
type JobRun struct {
	ID         string
	Job        string
	Slot       time.Time
	Trigger    JobTrigger
	Status     JobStatus
	Attempts   int
	Summary    map[string]any
	Error      string
	CreatedAt  time.Time
	StartedAt  time.Time // zero until first processed
	FinishedAt time.Time // zero until completed or abandoned
	// Paged runs: Cursor is where the next page starts, Pages how many
	// pages are done, InFlight the intent of a page whose provider calls
	// may have begun in an attempt that did not finish it (nil: none).
	Cursor    string
	Pages     int
	InFlight  *PageIntent
	UpdatedAt time.Time
}

// PageIntent is recorded before a page's first provider call: Token names
// the attempt, Next is the cursor after the page, Last says it is the last.
type PageIntent struct {
	Token string
	Next  string
	Last  bool
	// Replaces is the token of an attempt that stopped during the page, for
	// a job whose pages may run again: ClaimPage takes the page over.
	Replaces string
}

// ErrPageTaken is returned by JobRuns.ClaimPage and SavePage when the page
// is no longer the run's next page for this attempt: another attempt holds
// or has finished it.
var ErrPageTaken = errors.New("job run page taken by another attempt")

// ErrSlotTaken is returned by JobRuns.Create when (job, slot) already has a
// run: another replica (or an earlier trigger) got there first.
var ErrSlotTaken = errors.New("job slot already has a run")

// JobRuns stores job runs; (job, slot) is unique across all replicas.
type JobRuns interface {
	// Create inserts a pending run, or returns ErrSlotTaken.
	Create(ctx context.Context, job string, slot time.Time, trigger JobTrigger) (JobRun, error)
	Get(ctx context.Context, id string) (JobRun, error)
	// Start marks the run processing and counts an attempt. A run coming back
	// from dead_letter or replayed starts counting again at 1, so the handler
	// can tell the router's last attempt; a completed or abandoned run is
	// returned unchanged.
	Start(ctx context.Context, id string) (JobRun, error)
	// Finish records the outcome of one attempt with the status it leads to,
	// and releases the intent of a page in flight.
	Finish(ctx context.Context, id string, status JobStatus, summary map[string]any, errText string) error
	// ClaimPage records the intent of page number page (the run's Pages)
	// for the attempt token, before its first provider call; ErrPageTaken
	// when the run has moved on or another intent is recorded.
	ClaimPage(ctx context.Context, id string, page int, intent PageIntent) error
	// SavePage ends page number page held by token: the run's cursor becomes
	// intent.Next, Pages grows by one, attempts start again, the summary and
	// error are replaced, and the last page completes the run. ErrPageTaken
	// when the page is not held by token any more.
	SavePage(ctx context.Context, id string, page int, intent PageIntent, summary map[string]any, errText string) error
	// SetStatus moves a run to status (replayed, abandoned, ...).
	SetStatus(ctx context.Context, id string, status JobStatus) error
	List(ctx context.Context, job string, limit int) ([]JobRun, error)
}

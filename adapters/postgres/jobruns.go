package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/internal/text"
	"github.com/womendefiningai/platform/ports"
)

// maxJobErrorLen bounds the error text kept with a run.
const maxJobErrorLen = 4000

// JobRuns implements ports.JobRuns on the job_runs table, whose unique key
// (job, slot) makes each slot run once across all replicas.
type JobRuns struct {
	q Querier
}

var _ ports.JobRuns = (*JobRuns)(nil)

// NewJobRuns returns the store on q: a pgx.Tx or the pool.
func NewJobRuns(q Querier) *JobRuns { return &JobRuns{q: q} }

const jobRunColumns = `id::text, job, slot, trigger, status, attempts, summary, error,
	created_at, started_at, finished_at, cursor, pages, page_token::text, page_next, page_last, updated_at`

// Create inserts a pending run of job for slot (kept to the microsecond, in
// UTC), or returns ports.ErrSlotTaken when the slot already has a run.
func (s *JobRuns) Create(ctx context.Context, job string, slot time.Time, trigger ports.JobTrigger) (ports.JobRun, error) {
	switch {
	case job == "":
		return ports.JobRun{}, errors.New("postgres: create job run: empty job name")
	case slot.IsZero():
		return ports.JobRun{}, fmt.Errorf("postgres: create job run of %s: zero slot", job)
	}
	run, err := scanJobRun(s.q.QueryRow(ctx, `INSERT INTO job_runs (job, slot, trigger)
		VALUES ($1, $2, $3)
		ON CONFLICT (job, slot) DO NOTHING
		RETURNING `+jobRunColumns,
		job, slot.UTC().Truncate(time.Microsecond), string(trigger)))
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.JobRun{}, ports.ErrSlotTaken
	}
	if err != nil {
		return ports.JobRun{}, fmt.Errorf("postgres: create job run of %s at %s: %w", job, slot.UTC().Format(time.RFC3339), err)
	}
	return run, nil
}

// Get returns one run, or ports.ErrNotFound (also for an id that is not a
// UUID).
func (s *JobRuns) Get(ctx context.Context, id string) (ports.JobRun, error) {
	if uuid.Validate(id) != nil {
		return ports.JobRun{}, ports.ErrNotFound
	}
	run, err := scanJobRun(s.q.QueryRow(ctx, `SELECT `+jobRunColumns+` FROM job_runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.JobRun{}, ports.ErrNotFound
	}
	if err != nil {
		return ports.JobRun{}, fmt.Errorf("postgres: get job run %s: %w", id, err)
	}
	return run, nil
}

// Start marks the run processing and counts an attempt, in one statement.
//
// Attempts counts the attempts of the current delivery round: a run that
// comes back from dead_letter or replayed (an operator replayed it, or the
// message was delivered again) starts again from one, so that the message
// handler can tell the router's last attempt. The dead letters keep the
// history of earlier rounds.
//
// A run that is already completed or abandoned is returned unchanged, with
// no attempt counted: the caller must check the returned status and not run
// it again (a redelivered message). Unknown ids give ports.ErrNotFound.
func (s *JobRuns) Start(ctx context.Context, id string) (ports.JobRun, error) {
	if uuid.Validate(id) != nil {
		return ports.JobRun{}, ports.ErrNotFound
	}
	run, err := scanJobRun(s.q.QueryRow(ctx, `UPDATE job_runs SET
			status = 'processing',
			attempts = CASE WHEN status IN ('dead_letter', 'replayed') THEN 1 ELSE attempts + 1 END,
			started_at = COALESCE(started_at, now()),
			finished_at = NULL,
			updated_at = now()
		WHERE id = $1 AND status NOT IN ('completed', 'abandoned')
		RETURNING `+jobRunColumns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		// Unknown, or finished: a statement of its own, so that it sees a
		// run that a concurrent transaction has just finished.
		run, err = scanJobRun(s.q.QueryRow(ctx, `SELECT `+jobRunColumns+` FROM job_runs WHERE id = $1`, id))
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.JobRun{}, ports.ErrNotFound
	}
	if err != nil {
		return ports.JobRun{}, fmt.Errorf("postgres: start job run %s: %w", id, err)
	}
	return run, nil
}

// Finish records the outcome of one attempt: status, summary (nil is {})
// and error text (cut to 4,000 bytes). A completed or abandoned run gets its
// finished time; any other status clears it.
//
// A run that is already completed or abandoned is final: Finish leaves it as
// it is and returns nil, so that a late, duplicate attempt cannot overwrite
// the outcome of the one that finished first.
func (s *JobRuns) Finish(ctx context.Context, id string, status ports.JobStatus, summary map[string]any, errText string) error {
	if _, err := ports.ParseJobStatus(string(status)); err != nil {
		return fmt.Errorf("postgres: finish job run %s: %w", id, err)
	}
	body, err := jsonObject(summary)
	if err != nil {
		return fmt.Errorf("postgres: finish job run %s: summary: %w", id, err)
	}
	if uuid.Validate(id) != nil {
		return ports.ErrNotFound
	}
	tag, err := s.q.Exec(ctx, `UPDATE job_runs SET
			status = $2,
			summary = $3,
			error = $4,
			finished_at = CASE WHEN $2 IN ('completed', 'abandoned') THEN now() END,
			page_token = NULL, page_next = NULL, page_last = NULL, page_started_at = NULL,
			updated_at = now()
		WHERE id = $1 AND status NOT IN ('completed', 'abandoned')`,
		id, string(status), body, text.Clip(errText, maxJobErrorLen))
	if err != nil {
		return fmt.Errorf("postgres: finish job run %s: %w", id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := s.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM job_runs WHERE id = $1)`, id).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: finish job run %s: %w", id, err)
	}
	if !exists {
		return ports.ErrNotFound
	}
	return nil
}

// ClaimPage records the intent of page number page for the attempt
// intent.Token, in one statement: only while the run is processing, has
// done exactly page pages, and holds no other intent (but the one
// intent.Replaces names, for a job whose pages may run again). Committed before the
// page's first provider call, it outlives a worker that dies during the
// call, and tells the attempt that resumes the run not to send the page
// again.
func (s *JobRuns) ClaimPage(ctx context.Context, id string, page int, intent ports.PageIntent) error {
	if uuid.Validate(id) != nil {
		return ports.ErrNotFound
	}
	if uuid.Validate(intent.Token) != nil {
		return fmt.Errorf("postgres: claim page %d of job run %s: token %q is not a UUID", page, id, intent.Token)
	}
	var replaces *string // NULL matches no token
	if intent.Replaces != "" {
		if uuid.Validate(intent.Replaces) != nil {
			return ports.ErrPageTaken
		}
		replaces = &intent.Replaces
	}
	tag, err := s.q.Exec(ctx, `UPDATE job_runs SET
			page_token = $3, page_next = $4, page_last = $5, page_started_at = now(), updated_at = now()
		WHERE id = $1 AND pages = $2 AND (page_token IS NULL OR page_token = $6::uuid) AND status = 'processing'`,
		id, page, intent.Token, intent.Next, intent.Last, replaces)
	if err != nil {
		return fmt.Errorf("postgres: claim page %d of job run %s: %w", page, id, err)
	}
	if tag.RowsAffected() == 0 {
		return ports.ErrPageTaken
	}
	return nil
}

// SavePage ends page number page held by intent.Token: the cursor moves to
// intent.Next, pages grows by one, attempts start again for the next page,
// and the last page completes the run. It changes nothing and returns
// ports.ErrPageTaken unless the run is processing, at that page, under that
// token (a late attempt that lost its page cannot overwrite the progress).
func (s *JobRuns) SavePage(ctx context.Context, id string, page int, intent ports.PageIntent, summary map[string]any, errText string) error {
	body, err := jsonObject(summary)
	if err != nil {
		return fmt.Errorf("postgres: save page %d of job run %s: summary: %w", page, id, err)
	}
	if uuid.Validate(id) != nil || uuid.Validate(intent.Token) != nil {
		return ports.ErrPageTaken
	}
	tag, err := s.q.Exec(ctx, `UPDATE job_runs SET
			cursor = $4, pages = pages + 1, attempts = 0,
			summary = $6, error = $7,
			status = CASE WHEN $5 THEN 'completed' ELSE 'processing' END,
			finished_at = CASE WHEN $5 THEN now() END,
			page_token = NULL, page_next = NULL, page_last = NULL, page_started_at = NULL,
			updated_at = now()
		WHERE id = $1 AND pages = $2 AND page_token = $3 AND status = 'processing'`,
		id, page, intent.Token, intent.Next, intent.Last, body, text.Clip(errText, maxJobErrorLen))
	if err != nil {
		return fmt.Errorf("postgres: save page %d of job run %s: %w", page, id, err)
	}
	if tag.RowsAffected() == 0 {
		return ports.ErrPageTaken
	}
	return nil
}

// SetStatus moves a run to status, keeping its summary and error. Abandoned
// and completed runs get their finished time.
func (s *JobRuns) SetStatus(ctx context.Context, id string, status ports.JobStatus) error {
	if _, err := ports.ParseJobStatus(string(status)); err != nil {
		return fmt.Errorf("postgres: set job run %s status: %w", id, err)
	}
	if uuid.Validate(id) != nil {
		return ports.ErrNotFound
	}
	tag, err := s.q.Exec(ctx, `UPDATE job_runs SET
			status = $2,
			finished_at = CASE WHEN $2 IN ('completed', 'abandoned') THEN COALESCE(finished_at, now()) END,
			updated_at = now()
		WHERE id = $1`, id, string(status))
	if err != nil {
		return fmt.Errorf("postgres: set job run %s status: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ports.ErrNotFound
	}
	return nil
}

// List returns up to limit runs (1 to 1000; 0 means 100) of job, or of every
// job for "", newest first.
func (s *JobRuns) List(ctx context.Context, job string, limit int) ([]ports.JobRun, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.q.Query(ctx, `SELECT `+jobRunColumns+` FROM job_runs
		WHERE ($1 = '' OR job = $1)
		ORDER BY created_at DESC, slot DESC, id
		LIMIT $2`, job, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list job runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.JobRun, error) { return scanJobRun(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list job runs: %w", err)
	}
	return runs, nil
}

func scanJobRun(row pgx.Row) (ports.JobRun, error) {
	var r ports.JobRun
	var trigger, status string
	var started, finished *time.Time
	var token, next *string
	var last *bool
	err := row.Scan(&r.ID, &r.Job, &r.Slot, &trigger, &status, &r.Attempts, &r.Summary, &r.Error,
		&r.CreatedAt, &started, &finished, &r.Cursor, &r.Pages, &token, &next, &last, &r.UpdatedAt)
	if err != nil {
		return ports.JobRun{}, err
	}
	if token != nil {
		r.InFlight = &ports.PageIntent{Token: *token}
		if next != nil {
			r.InFlight.Next = *next
		}
		r.InFlight.Last = last != nil && *last
	}
	r.UpdatedAt = r.UpdatedAt.UTC()
	if r.Status, err = ports.ParseJobStatus(status); err != nil {
		return ports.JobRun{}, err
	}
	r.Trigger = ports.JobTrigger(trigger)
	r.Slot = r.Slot.UTC()
	r.CreatedAt = r.CreatedAt.UTC()
	if started != nil {
		r.StartedAt = started.UTC()
	}
	if finished != nil {
		r.FinishedAt = finished.UTC()
	}
	return r, nil
}

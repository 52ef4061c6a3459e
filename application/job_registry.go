package application

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
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
		return skipped(reason), nil
	}
}

func skipped(reason string) map[string]any {
	return map[string]any{"outcome": "skipped", "reason": reason}
}

// BeginPage is called by a page once it knows where the next page starts
// (next) and whether it is the last, and before its first provider call. It
// commits the page's intent; after it returns nil the page's calls are made
// at most once, even if the worker dies during them. An error (the run
// moved on) must end the page without any call.
type BeginPage func(next string, last bool) error

// PageFunc runs one page of a paged job from cursor ("" for the first) and
// returns its counts: numbers are added to the run's summary, other values
// replace it. It must call begin exactly once, before any provider call,
// even when it makes none.
type PageFunc func(ctx context.Context, cursor string, begin BeginPage) (counts map[string]any, err error)

// PagedJob is a job of any length: each page is a message of its own, with
// its own transactions and its own time budget.
type PagedJob struct {
	Page PageFunc
	// Budget bounds one page (its reads, provider calls and writes).
	Budget time.Duration
	// Repeatable says that a page may run twice (it only reads from the
	// provider and writes idempotently): a page in flight when its worker
	// stopped runs again instead of being skipped, and the page may call
	// begin after its reads.
	Repeatable bool
}

var validJobName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// JobRegistry maps job names to their runners. It is fixed once built.
type JobRegistry struct {
	jobs  map[string]JobFunc
	paged map[string]PagedJob
}

// NewJobRegistry refuses an empty set, names other than lower-case
// snake_case and nil runners.
func NewJobRegistry(jobs map[string]JobFunc) (*JobRegistry, error) {
	return NewPagedJobRegistry(jobs, nil)
}

// NewPagedJobRegistry registers whole jobs and paged jobs; a name may be
// registered once. Paged jobs need a page runner and a positive budget.
func NewPagedJobRegistry(jobs map[string]JobFunc, paged map[string]PagedJob) (*JobRegistry, error) {
	if len(jobs)+len(paged) == 0 {
		return nil, errors.New("application: job registry: no jobs")
	}
	var errs []error
	check := func(name string, ok bool) {
		if !validJobName.MatchString(name) {
			errs = append(errs, fmt.Errorf("job name %q: use lower-case letters, digits and '_'", name))
		}
		if !ok {
			errs = append(errs, fmt.Errorf("job %q has a nil runner or no page budget", name))
		}
	}
	for name, fn := range jobs {
		check(name, fn != nil)
	}
	for name, j := range paged {
		check(name, j.Page != nil && j.Budget > 0)
		if _, dup := jobs[name]; dup {
			errs = append(errs, fmt.Errorf("job %q is registered twice", name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("application: job registry: %w", errors.Join(errs...))
	}
	return &JobRegistry{jobs: maps.Clone(jobs), paged: maps.Clone(paged)}, nil
}

// Known reports whether name is a registered job.
func (r *JobRegistry) Known(name string) bool {
	_, ok := r.jobs[name]
	_, paged := r.paged[name]
	return ok || paged
}

// Names returns the registered jobs, sorted.
func (r *JobRegistry) Names() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for name := range r.jobs {
			if !yield(name) {
				return
			}
		}
		for name := range r.paged {
			if !yield(name) {
				return
			}
		}
	})
}

// lookup returns the job's runner: a whole job (fn) or a paged one.
func (r *JobRegistry) lookup(name string) (fn JobFunc, paged *PagedJob, err error) {
	if fn, ok := r.jobs[name]; ok {
		return fn, nil, nil
	}
	if j, ok := r.paged[name]; ok {
		return nil, &j, nil
	}
	return nil, nil, fmt.Errorf("%w %q", ErrUnknownJob, name)
}

// ListJobs answers which jobs can be run or scheduled.
type ListJobs struct {
	jobs *JobRegistry
}

// NewListJobs refuses a nil registry.
func NewListJobs(jobs *JobRegistry) (ListJobs, error) {
	if anyNil(jobs) {
		return ListJobs{}, nilDependency("list jobs")
	}
	return ListJobs{jobs: jobs}, nil
}

// Handle returns the registered job names, sorted.
func (h ListJobs) Handle() []string { return h.jobs.Names() }

// Known reports whether name is a registered job.
func (h ListJobs) Known(name string) bool { return h.jobs.Known(name) }

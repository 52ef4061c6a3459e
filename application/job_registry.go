package application

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
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

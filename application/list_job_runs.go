package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// ListJobRunsInput filters runs by job ("" for all) and bounds how many
// (1 to 1000; 0 means 100).
type ListJobRunsInput struct {
	Job   string
	Limit int
}

// ListJobRuns shows operators the latest runs with their progress (pages,
// cursor), counts (summary) and errors.
type ListJobRuns struct {
	runs ports.JobRuns
	jobs *JobRegistry
}

// NewListJobRuns refuses nil dependencies.
func NewListJobRuns(runs ports.JobRuns, jobs *JobRegistry) (ListJobRuns, error) {
	if anyNil(runs, jobs) {
		return ListJobRuns{}, nilDependency("list job runs")
	}
	return ListJobRuns{runs: runs, jobs: jobs}, nil
}

// Handle lists runs, newest first; an unknown job or a limit out of range
// is invalid input.
func (h ListJobRuns) Handle(ctx context.Context, in ListJobRunsInput) ([]ports.JobRun, error) {
	if in.Job != "" && !h.jobs.Known(in.Job) {
		return nil, fmt.Errorf("%w %q", ErrUnknownJob, in.Job)
	}
	if in.Limit < 0 || in.Limit > 1000 {
		return nil, invalid("limit %d: use 1 to 1000", in.Limit)
	}
	return h.runs.List(ctx, in.Job, in.Limit)
}

// GetJobRun shows one run.
type GetJobRun struct {
	runs ports.JobRuns
}

// NewGetJobRun refuses a nil store.
func NewGetJobRun(runs ports.JobRuns) (GetJobRun, error) {
	if anyNil(runs) {
		return GetJobRun{}, nilDependency("get job run")
	}
	return GetJobRun{runs: runs}, nil
}

// Handle returns the run, or an error wrapping ports.ErrNotFound.
func (h GetJobRun) Handle(ctx context.Context, runID string) (ports.JobRun, error) {
	run, err := h.runs.Get(ctx, runID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.JobRun{}, fmt.Errorf("job run %q: %w", runID, err)
	}
	return run, err
}

// Package cron is the in-process scheduler of the platform's jobs: at each
// configured time of day (UTC) it enqueues the job's run for that slot.
//
// Every replica runs a scheduler, and each slot still runs once: the slot's
// uniqueness lives in PostgreSQL (job_runs has one row per job and slot), so
// all but one replica get ports.ErrSlotTaken, which is expected and logged at
// debug level. A scheduler that starts shortly after a slot (within the
// catch-up window) enqueues that slot too; if another replica already did,
// the unique key makes it a no-op.
package cron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/womendefiningai/platform/internal/schedule"
	"github.com/womendefiningai/platform/ports"
)

// Defaults and bounds of the scheduler.
const (
	// DefaultCatchUp is how late a slot may still be enqueued by default.
	DefaultCatchUp = time.Hour
	// retryInterval is the wait before enqueueing a slot again after a
	// failure (the database was down, say), within the catch-up window.
	retryInterval = 30 * time.Second
	// maxSleep caps one wait, so that a change of the wall clock (or a
	// suspended machine) is noticed within a minute.
	maxSleep = time.Minute
	// enqueueTimeout bounds one enqueue.
	enqueueTimeout = 30 * time.Second
)

// EnqueueFunc enqueues the run of job for slot. It returns
// ports.ErrSlotTaken (or an error wrapping it) when the slot already has a
// run.
type EnqueueFunc func(ctx context.Context, job string, slot time.Time) error

// Config configures a Scheduler.
type Config struct {
	// Jobs maps each job to its times of day, in UTC (see ParseTimes).
	Jobs map[string][]TimeOfDay
	// Enqueue creates a slot's run (required).
	Enqueue EnqueueFunc
	// Clock tells the time (default time.Now).
	Clock func() time.Time
	// Logger receives one line per slot (default: discard).
	Logger *slog.Logger
	// CatchUp is how late a slot may still be enqueued: on start, the most
	// recent slot of each job is enqueued if it passed less than CatchUp
	// ago, and a failed enqueue is retried until CatchUp has passed
	// (default DefaultCatchUp).
	CatchUp time.Duration
}

// Scheduler enqueues each job's slots when they come. Build it with New.
type Scheduler struct {
	jobs    map[string][]TimeOfDay
	names   []string
	enqueue EnqueueFunc
	clock   func() time.Time
	logger  *slog.Logger
	catchUp time.Duration

	mu      sync.Mutex
	running bool
	// handled is the latest slot of each job that needs nothing more: it
	// was enqueued (here or by another replica) or is too late to enqueue.
	handled map[string]time.Time
	// failed is set for a job whose latest due slot failed to enqueue.
	failed map[string]bool
}

// New validates cfg and returns a scheduler; call Run to start it.
func New(cfg Config) (*Scheduler, error) {
	var errs []error
	if cfg.Enqueue == nil {
		errs = append(errs, errors.New("no Enqueue function"))
	}
	if len(cfg.Jobs) == 0 {
		errs = append(errs, errors.New("no jobs"))
	}
	if cfg.CatchUp < 0 {
		errs = append(errs, fmt.Errorf("CatchUp %v is negative", cfg.CatchUp))
	}
	jobs := make(map[string][]TimeOfDay, len(cfg.Jobs))
	for name, times := range cfg.Jobs {
		if name == "" {
			errs = append(errs, errors.New("a job has no name"))
		}
		if len(times) == 0 {
			errs = append(errs, fmt.Errorf("job %q has no times", name))
		}
		seen := map[TimeOfDay]bool{}
		for _, t := range times {
			switch {
			case !t.Valid():
				errs = append(errs, fmt.Errorf("job %q: %d:%d is not a time of day", name, t.Hour, t.Minute))
			case seen[t]:
				errs = append(errs, fmt.Errorf("job %q: %s is listed twice", name, t))
			}
			seen[t] = true
		}
		ts := slices.Clone(times)
		schedule.Sort(ts)
		jobs[name] = ts
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("cron: %w", errors.Join(errs...))
	}
	s := &Scheduler{
		jobs:    jobs,
		names:   slices.Sorted(maps.Keys(jobs)),
		enqueue: cfg.Enqueue,
		clock:   cfg.Clock,
		logger:  cfg.Logger,
		catchUp: cfg.CatchUp,
		handled: map[string]time.Time{},
		failed:  map[string]bool{},
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.catchUp == 0 {
		s.catchUp = DefaultCatchUp
	}
	return s, nil
}

// Result is what became of one due slot in a Tick.
type Result struct {
	Job  string
	Slot time.Time
	// Err is nil when this scheduler enqueued the slot, ports.ErrSlotTaken
	// when the slot already had a run, and any other error when the enqueue
	// failed (it is tried again within the catch-up window).
	Err error
}

// Tick enqueues, for each job, its most recent slot at or before now, unless
// this scheduler already handled that slot or the slot is more than CatchUp
// old. It returns what became of each slot it tried. Run calls it; tests
// call it with the times they need.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Result
	for _, job := range s.names {
		if ctx.Err() != nil {
			break // shutting down: the next start catches up
		}
		slot := schedule.LastSlot(s.jobs[job], now)
		prev := s.handled[job]
		if !slot.After(prev) {
			continue
		}
		if late := now.Sub(slot); late > s.catchUp {
			level := slog.LevelWarn // a slot passed while this scheduler ran
			if prev.IsZero() {
				level = slog.LevelDebug // the last slot before this scheduler started
			}
			s.logger.Log(ctx, level, "cron: slot too late to enqueue",
				"job", job, "slot", slot, "late", late, "catch_up", s.catchUp)
			s.handled[job] = slot
			delete(s.failed, job)
			continue
		}
		err := s.enqueueOne(ctx, job, slot)
		out = append(out, Result{Job: job, Slot: slot, Err: err})
		switch {
		case err == nil:
			s.logger.Log(ctx, slog.LevelInfo, "cron: job enqueued", "job", job, "slot", slot)
		case errors.Is(err, ports.ErrSlotTaken):
			s.logger.Log(ctx, slog.LevelDebug, "cron: slot already has a run", "job", job, "slot", slot)
		case ctx.Err() != nil:
			s.logger.Log(ctx, slog.LevelDebug, "cron: enqueue interrupted by shutdown",
				"job", job, "slot", slot)
			s.failed[job] = true
			continue
		default:
			s.logger.Log(ctx, slog.LevelError, "cron: enqueue failed, will retry",
				"job", job, "slot", slot, "retry_in", retryInterval,
				"error", err.Error())
			s.failed[job] = true
			continue
		}
		s.handled[job] = slot
		delete(s.failed, job)
	}
	return out
}

func (s *Scheduler) enqueueOne(ctx context.Context, job string, slot time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	return s.enqueue(ctx, job, slot)
}

// Next returns when the scheduler has something to do after now: the next
// slot of any job, or a retry of a failed enqueue.
func (s *Scheduler) Next(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, job := range s.names {
		t := schedule.NextSlot(s.jobs[job], now)
		if s.failed[job] {
			t = now.Add(retryInterval)
		}
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// Run enqueues slots as they come until ctx ends, then returns nil. It first
// catches up the most recent slot of each job within the catch-up window.
// It refuses to run twice at the same time.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("cron: scheduler is already running")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	s.logger.Log(ctx, slog.LevelInfo, "cron: scheduler started", "jobs", s.schedule(), "catch_up", s.catchUp)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		now := s.clock()
		s.Tick(ctx, now)
		wait := min(s.Next(now).Sub(s.clock()), maxSleep)
		timer.Reset(max(wait, 0))
	}
}

// schedule lists each job's times for the start-up log line.
func (s *Scheduler) schedule() map[string][]string {
	out := make(map[string][]string, len(s.jobs))
	for job, times := range s.jobs {
		for _, t := range times {
			out[job] = append(out[job], t.String())
		}
	}
	return out
}

package cron_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/cron"
	"github.com/womendefiningai/platform/ports"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// enqueued is one call of the fake enqueue.
type enqueued struct {
	job  string
	slot time.Time
}

func (e enqueued) String() string { return e.job + "@" + e.slot.UTC().Format("2006-01-02T15:04") }

// fakeQueue records enqueues; fail decides each call's error.
type fakeQueue struct {
	mu    sync.Mutex
	calls []enqueued
	fail  func(job string, slot time.Time) error
	seen  chan enqueued
}

func (q *fakeQueue) enqueue(_ context.Context, job string, slot time.Time) error {
	q.mu.Lock()
	q.calls = append(q.calls, enqueued{job, slot})
	fail := q.fail
	q.mu.Unlock()
	if q.seen != nil {
		q.seen <- enqueued{job, slot}
	}
	if fail != nil {
		return fail(job, slot)
	}
	return nil
}

func (q *fakeQueue) take() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, c := range q.calls {
		out = append(out, c.String())
	}
	q.calls = nil
	return strings.Join(out, " ")
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newScheduler(t *testing.T, q *fakeQueue, jobs map[string][]cron.TimeOfDay, catchUp time.Duration) (*cron.Scheduler, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s, err := cron.New(cron.Config{
		Jobs:    jobs,
		Enqueue: q.enqueue,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CatchUp: catchUp,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

func defaultJobs() map[string][]cron.TimeOfDay {
	return map[string][]cron.TimeOfDay{"luma_approval": cron.DefaultTimes(), "slack_sync": cron.DefaultTimes()}
}

func utc(s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	noop := func(context.Context, string, time.Time) error { return nil }
	tests := []struct {
		name string
		cfg  cron.Config
	}{
		{"no enqueue", cron.Config{Jobs: defaultJobs()}},
		{"no jobs", cron.Config{Enqueue: noop}},
		{"job without times", cron.Config{Enqueue: noop, Jobs: map[string][]cron.TimeOfDay{"slack_sync": nil}}},
		{"job without name", cron.Config{Enqueue: noop, Jobs: map[string][]cron.TimeOfDay{"": cron.DefaultTimes()}}},
		{"hour 24", cron.Config{Enqueue: noop, Jobs: map[string][]cron.TimeOfDay{"x": {{Hour: 24}}}}},
		{"negative minute", cron.Config{Enqueue: noop, Jobs: map[string][]cron.TimeOfDay{"x": {{Hour: 1, Minute: -1}}}}},
		{"time twice", cron.Config{Enqueue: noop, Jobs: map[string][]cron.TimeOfDay{"x": {{Hour: 9}, {Hour: 9}}}}},
		{"negative catch-up", cron.Config{Enqueue: noop, Jobs: defaultJobs(), CatchUp: -time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := cron.New(tc.cfg); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}

func TestTickOnStartCatchesUpTheMostRecentSlotWithinTheWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		jobs    map[string][]cron.TimeOfDay
		catchUp time.Duration
		now     string
		want    string
	}{
		{"half an hour late", defaultJobs(), 0, "2026-01-15T09:30:00Z", "luma_approval@2026-01-15T09:00 slack_sync@2026-01-15T09:00"},
		{"exactly at the window's end", defaultJobs(), 0, "2026-01-15T10:00:00Z", "luma_approval@2026-01-15T09:00 slack_sync@2026-01-15T09:00"},
		{"past the default hour", defaultJobs(), 0, "2026-01-15T10:00:01Z", ""},
		{"past a custom window", defaultJobs(), 10 * time.Minute, "2026-01-15T09:11:00Z", ""},
		{"within a longer window", defaultJobs(), 3 * time.Hour, "2026-01-15T11:30:00Z", "luma_approval@2026-01-15T09:00 slack_sync@2026-01-15T09:00"},
		{"over midnight", defaultJobs(), 4 * time.Hour, "2026-01-16T00:30:00Z", "luma_approval@2026-01-15T21:00 slack_sync@2026-01-15T21:00"},
		{
			"only the most recent of several missed slots",
			map[string][]cron.TimeOfDay{"slack_sync": {{Hour: 9}, {Hour: 9, Minute: 15}, {Hour: 9, Minute: 30}}},
			0, "2026-01-15T09:40:00Z", "slack_sync@2026-01-15T09:30",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := &fakeQueue{}
			s, _ := newScheduler(t, q, tc.jobs, tc.catchUp)
			s.Tick(context.Background(), utc(tc.now))
			if got := q.take(); got != tc.want {
				t.Fatalf("enqueued %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTickEnqueuesEachSlotOnceAsItComes(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	s, _ := newScheduler(t, q, map[string][]cron.TimeOfDay{"slack_sync": cron.DefaultTimes()}, 0)
	ctx := context.Background()
	steps := []struct{ now, want string }{
		{"2026-01-15T08:59:59Z", ""}, // started long after yesterday's 21:00
		{"2026-01-15T09:00:00Z", "slack_sync@2026-01-15T09:00"},
		{"2026-01-15T09:00:00.5Z", ""},
		{"2026-01-15T09:45:00Z", ""},
		{"2026-01-15T21:00:02Z", "slack_sync@2026-01-15T21:00"},
		{"2026-01-16T09:00:00Z", "slack_sync@2026-01-16T09:00"},
	}
	for _, st := range steps {
		res := s.Tick(ctx, utc(st.now))
		if got := q.take(); got != st.want {
			t.Fatalf("Tick(%s) enqueued %q, want %q", st.now, got, st.want)
		}
		if len(res) != len(strings.Fields(st.want)) {
			t.Fatalf("Tick(%s) reported %v", st.now, res)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("Tick(%s) result %+v", st.now, r)
			}
		}
	}
	if next := s.Next(utc("2026-01-16T09:00:00Z")); !next.Equal(utc("2026-01-16T21:00:00Z")) {
		t.Fatalf("Next = %v, want 21:00 the same day", next)
	}
}

func TestTickTreatsATakenSlotAsDoneAndLogsItAtDebug(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{fail: func(string, time.Time) error { return fmt.Errorf("enqueue: %w", ports.ErrSlotTaken) }}
	s, logs := newScheduler(t, q, map[string][]cron.TimeOfDay{"slack_sync": cron.DefaultTimes()}, 0)
	ctx := context.Background()
	res := s.Tick(ctx, utc("2026-01-15T09:00:01Z"))
	if len(res) != 1 || !errors.Is(res[0].Err, ports.ErrSlotTaken) {
		t.Fatalf("results = %+v, want one with ErrSlotTaken", res)
	}
	s.Tick(ctx, utc("2026-01-15T09:00:31Z"))
	if got := q.take(); got != "slack_sync@2026-01-15T09:00" {
		t.Fatalf("enqueued %q, want the slot tried once", got)
	}
	out := logs.String()
	if !contains(out, "level=DEBUG") || !contains(out, "slot already has a run") || contains(out, "level=ERROR") || contains(out, "level=WARN") {
		t.Fatalf("logs = %s; want the taken slot at debug, nothing louder", out)
	}
}

func TestTickRetriesAFailedEnqueueWithinTheWindowOnly(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	failing := true
	q := &fakeQueue{fail: func(string, time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return errors.New("connection refused")
		}
		return nil
	}}
	s, logs := newScheduler(t, q, map[string][]cron.TimeOfDay{"luma_approval": cron.DefaultTimes()}, 0)
	ctx := context.Background()

	first := utc("2026-01-15T09:00:00Z")
	res := s.Tick(ctx, first)
	if len(res) != 1 || res[0].Err == nil || errors.Is(res[0].Err, ports.ErrSlotTaken) {
		t.Fatalf("results = %+v, want one failure", res)
	}
	if !contains(logs.String(), "level=ERROR") {
		t.Fatalf("a failed enqueue was not logged as an error: %s", logs)
	}
	if next := s.Next(first); !next.Equal(first.Add(30 * time.Second)) {
		t.Fatalf("Next after a failure = %v, want a retry 30s later", next)
	}
	s.Tick(ctx, first.Add(30*time.Second)) // still failing
	mu.Lock()
	failing = false
	mu.Unlock()
	s.Tick(ctx, first.Add(time.Minute)) // succeeds
	s.Tick(ctx, first.Add(90*time.Second))
	if got := q.take(); got != "luma_approval@2026-01-15T09:00 luma_approval@2026-01-15T09:00 luma_approval@2026-01-15T09:00" {
		t.Fatalf("enqueued %q, want three tries of the slot and no more", got)
	}
	if next := s.Next(first.Add(time.Minute)); !next.Equal(utc("2026-01-15T21:00:00Z")) {
		t.Fatalf("Next after success = %v, want the next slot", next)
	}

	// A slot that keeps failing is given up once the window has passed.
	mu.Lock()
	failing = true
	mu.Unlock()
	evening := utc("2026-01-15T21:00:00Z")
	s.Tick(ctx, evening)
	s.Tick(ctx, evening.Add(61*time.Minute))
	s.Tick(ctx, evening.Add(62*time.Minute))
	if got := q.take(); got != "luma_approval@2026-01-15T21:00" {
		t.Fatalf("enqueued %q, want one try and none after the window", got)
	}
	if !contains(logs.String(), "slot too late to enqueue") {
		t.Fatalf("the abandoned slot was not logged: %s", logs)
	}
	if next := s.Next(evening.Add(62 * time.Minute)); !next.Equal(utc("2026-01-16T09:00:00Z")) {
		t.Fatalf("Next = %v, want the next morning", next)
	}
}

func TestRunCatchesUpThenEnqueuesSlotsAsTheyComeAndStopsWithItsContext(t *testing.T) {
	t.Parallel()
	// The clock runs at real speed from 09:10:59.8 UTC: the 09:00 slot of
	// "morning" is caught up at once and the 09:11 slot of "later" comes
	// 200ms after the start.
	start := time.Now()
	offset := utc("2026-01-15T09:10:59.8Z").Sub(start)
	q := &fakeQueue{seen: make(chan enqueued, 8)}
	s, err := cron.New(cron.Config{
		Jobs: map[string][]cron.TimeOfDay{
			"morning": {{Hour: 9}},
			"later":   {{Hour: 9, Minute: 11}},
			"evening": {{Hour: 21}},
		},
		Enqueue: q.enqueue,
		Clock:   func() time.Time { return time.Now().Add(offset) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	want := []string{"morning@2026-01-15T09:00", "later@2026-01-15T09:11"}
	for _, w := range want {
		select {
		case got := <-q.seen:
			if got.String() != w {
				t.Fatalf("enqueued %s, want %s", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("nothing enqueued, want %s", w)
		}
	}
	if err := s.Run(ctx); err == nil {
		t.Fatal("a second Run of the same scheduler succeeded")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil when its context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	select {
	case extra := <-q.seen:
		t.Fatalf("unexpected enqueue %s", extra)
	default:
	}
}

func TestTickStopsQuietlyWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	q := &fakeQueue{fail: func(string, time.Time) error {
		cancel() // shutdown begins during the first enqueue
		return context.Canceled
	}}
	s, logs := newScheduler(t, q, defaultJobs(), 0)
	res := s.Tick(ctx, utc("2026-01-15T09:00:00Z"))
	if len(res) != 1 || !errors.Is(res[0].Err, context.Canceled) {
		t.Fatalf("results = %+v, want the one interrupted enqueue and no more", res)
	}
	if out := logs.String(); contains(out, "level=ERROR") {
		t.Fatalf("shutdown was logged as an error: %s", out)
	}
	// Both slots are still due for the next start.
	if next := s.Next(utc("2026-01-15T09:00:00Z")); !next.Equal(utc("2026-01-15T09:00:30Z")) {
		t.Fatalf("Next = %v, want a retry of the interrupted slot", next)
	}
	res = s.Tick(context.Background(), utc("2026-01-15T09:00:30Z"))
	if len(res) != 2 {
		t.Fatalf("after the interruption Tick tried %d slots, want both jobs' 09:00", len(res))
	}
}

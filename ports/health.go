package ports

import (
	"context"
	"time"

	"github.com/womendefiningai/platform/domain/ops"
)

//go:generate go tool mockgen -destination=mocks/health.go -package=mocks . HealthReadModel,LocalCalls,AlertLevels

// CallCounts is what one provider's calls did: how many, how many failed
// (rate-limit answers and refusals by an open breaker included), how many
// were rate limited, and when the last success and failure were.
type CallCounts struct {
	Provider    string
	Calls       int64
	Failures    int64
	RateLimited int64
	LastSuccess time.Time
	LastFailure time.Time
	// LastErrorClass is the class of the last failure: server_error,
	// rate_limited, timeout, network, circuit_open or client_error.
	LastErrorClass string
}

// Add sums o into c, keeping the latest times and the class of the latest
// failure.
func (c CallCounts) Add(o CallCounts) CallCounts {
	c.Calls += o.Calls
	c.Failures += o.Failures
	c.RateLimited += o.RateLimited
	if o.LastSuccess.After(c.LastSuccess) {
		c.LastSuccess = o.LastSuccess
	}
	if o.LastFailure.After(c.LastFailure) {
		c.LastFailure, c.LastErrorClass = o.LastFailure, o.LastErrorClass
	}
	return c
}

// ProcessSample is what one process reports about itself, about every 15
// seconds: its provider calls since the last sample, its breakers' states,
// and its API latency over the last minute.
type ProcessSample struct {
	ProcessID string
	At        time.Time
	Calls     []CallCounts
	// Breakers maps each provider to its breaker's state in this process.
	Breakers map[string]string
	// APIRequests and APIP95 are the HTTP requests this process answered
	// in the last minute and their 95th percentile duration.
	APIRequests int64
	APIP95      time.Duration
}

// HealthWindows are the windows the health view and the alerts look at.
type HealthWindows struct {
	Calls    time.Duration // provider calls and rate-limit hits (1 h)
	Jobs     time.Duration // job runs (24 h)
	Webhooks time.Duration // webhook success rate and p95 (24 h)
	API      time.Duration // API p95 (5 min)
	// StuckAfter: a webhook still unapplied after this counts as failed.
	StuckAfter time.Duration
}

// JobHealth is one job's runs in the window, by outcome, and its last run.
type JobHealth struct {
	Job         string
	Outcomes    map[JobStatus]int64
	LastStatus  JobStatus
	LastSummary map[string]any
	LastAt      time.Time
}

// WebhookHealth is how the billing webhooks fared in the window.
type WebhookHealth struct {
	// Received counts deliveries in the window; Applied those applied or
	// ignored by rule; Failed those that expired or stayed unapplied past
	// StuckAfter, or whose message was dead-lettered.
	Received, Applied, Failed int64
	// P95 is the 95th percentile from receipt to application.
	P95 time.Duration
	// Backlog counts every inbox row by status (not only the window's).
	Backlog map[string]int64
	// OpenDeadLetters counts every open dead letter.
	OpenDeadLetters int64
}

// HealthSnapshot is what the database holds about the platform's health,
// read in one statement.
type HealthSnapshot struct {
	// Calls are each provider's calls in the window, summed over processes.
	Calls []CallCounts
	// Breakers is the worst breaker state reported by any process in the
	// last two minutes, by provider.
	Breakers map[string]string
	Jobs     []JobHealth
	Webhooks WebhookHealth
	// APIP95 is the worst 95th percentile reported by a process over the
	// API window; APIRequests their requests.
	APIP95      time.Duration
	APIRequests int64
}

// HealthReadModel reads the health snapshot and records process samples.
type HealthReadModel interface {
	// Snapshot reads the health at now; self's breaker states are left
	// out (the caller knows its own, fresher).
	Snapshot(ctx context.Context, now time.Time, w HealthWindows, self string) (HealthSnapshot, error)
	Record(ctx context.Context, s ProcessSample) error
}

// LocalCalls is this process's view: calls not yet recorded, and its
// breakers' states now.
type LocalCalls interface {
	// ProcessID names this process in the shared samples.
	ProcessID() string
	Pending() []CallCounts
	Breakers() map[string]string
}

// AlertLevels holds the level last announced for each measure, shared by
// every replica.
type AlertLevels interface {
	// Claim returns true for the one caller that first claims slot (a
	// minute): that replica evaluates the alerts for it.
	Claim(ctx context.Context, slot time.Time) (bool, error)
	// Transition moves measure to level: under the measure's row lock it
	// reads the level last announced (ok if none); when it differs, announce
	// runs with it, and the new level is stored only if announce succeeds.
	// It reports whether a change was announced.
	Transition(ctx context.Context, measure string, to ops.Level, value float64, at time.Time,
		announce func(from ops.Level) error) (bool, error)
}

package application

import (
	"context"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ops"
	"github.com/womendefiningai/platform/ports"
)

// DatabaseService names the database in the health view; the other
// services are the providers the wiring names.
const DatabaseService = "database"

// DefaultHealthWindows are the seed's windows: an hour of provider calls,
// a day of jobs and webhooks, five minutes of API latency; a webhook not
// applied within 15 minutes counts as failed.
var DefaultHealthWindows = ports.HealthWindows{Calls: time.Hour, Jobs: 24 * time.Hour, Webhooks: 24 * time.Hour,
	API: 5 * time.Minute, StuckAfter: 15 * time.Minute}

// Service is an integration the health view reports on.
type Service struct {
	Name       string
	Configured bool
}

// ServiceHealth is one integration's health.
type ServiceHealth struct {
	Name           string
	Configured     bool
	State          ops.ServiceState
	LastSuccess    time.Time
	LastFailure    time.Time
	LastErrorClass string
	Calls          int64
	ErrorRate      float64 // over the calls window
	Breaker        string
	RateLimitHits  int64 // over the calls window
}

// IntegrationHealth is the operators' view of the platform's health.
type IntegrationHealth struct {
	At       time.Time
	Services []ServiceHealth
	Jobs     []ports.JobHealth
	Webhooks ports.WebhookHealth
	// WebhookSuccessRate is applied / (applied + failed) over the window
	// (1 without deliveries).
	WebhookSuccessRate float64
	Measures           Measures
	// Levels are the measures against their thresholds, in a fixed order.
	Levels []MeasureLevel
}

// MeasureLevel is one watched measure's value and level.
type MeasureLevel struct {
	Measure   string
	Value     float64
	Level     ops.Level
	Threshold ops.Threshold
}

// Measures are the values the alert thresholds watch.
type Measures struct {
	WebhookSuccessRate float64
	JobFailureRate     float64
	APIP95             time.Duration
	OpenDeadLetters    int64
	RateLimitHits      int64 // over the calls window (an hour)
}

// GetIntegrationHealth reads the health of every integration, job and
// webhook (ops:read), in one statement plus what this process holds.
type GetIntegrationHealth struct {
	read  ports.HealthReadModel
	local ports.LocalCalls
	clock ports.Clock
	HealthSettings
}

// HealthSettings say what the health view shows and how it judges it.
type HealthSettings struct {
	// Services lists the providers in the order they are shown (the
	// database comes first).
	Services []Service
	Windows  ports.HealthWindows
	// Thresholds are the alerts' (the view shows each measure's level).
	Thresholds AlertThresholds
}

// NewGetIntegrationHealth refuses nil dependencies, a window that is not
// positive, and thresholds that miss a measure.
func NewGetIntegrationHealth(read ports.HealthReadModel, local ports.LocalCalls, clock ports.Clock, settings HealthSettings) (GetIntegrationHealth, error) {
	windows, thresholds := settings.Windows, settings.Thresholds
	if anyNil(read, local, clock) {
		return GetIntegrationHealth{}, nilDependency("get integration health")
	}
	if windows.Calls <= 0 || windows.Jobs <= 0 || windows.Webhooks <= 0 || windows.API <= 0 || windows.StuckAfter <= 0 {
		return GetIntegrationHealth{}, invalid("every health window must be positive")
	}
	for _, m := range measureOrder {
		if _, ok := thresholds[m]; !ok {
			return GetIntegrationHealth{}, invalid("no threshold for %s", m)
		}
	}
	return GetIntegrationHealth{read: read, local: local, clock: clock, HealthSettings: settings}, nil
}

// Handle reads the health view.
func (h GetIntegrationHealth) Handle(ctx context.Context) (IntegrationHealth, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeOpsRead); err != nil {
		return IntegrationHealth{}, err
	}
	return h.view(ctx), nil
}

// view builds the view; a database that cannot answer is shown down, with
// what this process knows of the providers.
func (h GetIntegrationHealth) view(ctx context.Context) IntegrationHealth {
	now := h.clock.Now()
	snap, err := h.read.Snapshot(ctx, now, h.Windows, h.local.ProcessID())
	db := ServiceHealth{Name: DatabaseService, Configured: true, State: ops.StateOK, LastSuccess: now, Breaker: ops.BreakerClosed}
	if err != nil {
		db = ServiceHealth{Name: DatabaseService, Configured: true, State: ops.StateDown, LastFailure: now,
			LastErrorClass: "unavailable", Breaker: ops.BreakerClosed, ErrorRate: 1}
		snap = ports.HealthSnapshot{}
	}
	calls := map[string]ports.CallCounts{}
	for _, c := range snap.Calls {
		calls[c.Provider] = c
	}
	for _, c := range h.local.Pending() {
		calls[c.Provider] = calls[c.Provider].Add(c)
	}
	local := h.local.Breakers()
	out := IntegrationHealth{At: now, Services: []ServiceHealth{db}, Jobs: snap.Jobs, Webhooks: snap.Webhooks}
	var hits int64
	for _, s := range h.Services {
		c := calls[s.Name]
		breaker := worseBreaker(snap.Breakers[s.Name], local[s.Name])
		r := ops.ServiceReading{Configured: s.Configured, Breaker: breaker, Calls: c.Calls, Failures: c.Failures,
			RateLimited: c.RateLimited, LastSuccess: c.LastSuccess, LastFailure: c.LastFailure}
		out.Services = append(out.Services, ServiceHealth{Name: s.Name, Configured: s.Configured, State: ops.StateOf(r),
			LastSuccess: c.LastSuccess, LastFailure: c.LastFailure, LastErrorClass: c.LastErrorClass, Calls: c.Calls,
			ErrorRate: r.ErrorRate(), Breaker: breaker, RateLimitHits: c.RateLimited})
		hits += c.RateLimited
	}
	out.WebhookSuccessRate = successRate(snap.Webhooks)
	out.Measures = Measures{WebhookSuccessRate: out.WebhookSuccessRate, JobFailureRate: jobFailureRate(snap.Jobs),
		APIP95: snap.APIP95, OpenDeadLetters: snap.Webhooks.OpenDeadLetters, RateLimitHits: hits}
	values := out.Measures.Values()
	for _, m := range measureOrder {
		th := h.Thresholds[m]
		out.Levels = append(out.Levels, MeasureLevel{Measure: m, Value: values[m], Level: th.Level(values[m]), Threshold: th})
	}
	return out
}

func worseBreaker(a, b string) string {
	rank := map[string]int{ops.BreakerClosed: 0, ops.BreakerHalfOpen: 1, ops.BreakerOpen: 2}
	switch {
	case a == "" && b == "":
		return ops.BreakerClosed
	case rank[a] >= rank[b] && a != "":
		return a
	default:
		return b
	}
}

func successRate(w ports.WebhookHealth) float64 {
	if w.Applied+w.Failed == 0 {
		return 1
	}
	return float64(w.Applied) / float64(w.Applied+w.Failed)
}

// jobFailureRate is the share of the window's finished runs that failed
// (failed, dead-lettered or abandoned); 0 without finished runs.
func jobFailureRate(jobs []ports.JobHealth) float64 {
	var done, failed int64
	for _, j := range jobs {
		for st, n := range j.Outcomes {
			switch st {
			case ports.JobFailed, ports.JobDeadLetter, ports.JobAbandoned:
				failed += n
				done += n
			case ports.JobCompleted:
				done += n
			case ports.JobPending, ports.JobProcessing, ports.JobRetrying, ports.JobReplayed:
			}
		}
	}
	if done == 0 {
		return 0
	}
	return float64(failed) / float64(done)
}

// Package ops decides what operators are told about the platform's health:
// the state of each integration from what its calls did, the level of each
// watched measure against its thresholds, and which level changes are
// worth a notice (ok → warning → critical, and back to resolved; never a
// repeat of the level already announced).
package ops

import (
	"fmt"
	"math"
	"time"
)

// Level is how far a measure is past its thresholds.
type Level string

// The levels, from best to worst.
const (
	OK       Level = "ok"
	Warning  Level = "warning"
	Critical Level = "critical"
)

// ParseLevel accepts ok, warning or critical.
func ParseLevel(s string) (Level, error) {
	switch l := Level(s); l {
	case OK, Warning, Critical:
		return l, nil
	default:
		return "", fmt.Errorf("ops: unknown level %q", s)
	}
}

// Direction says which side of a threshold is bad.
type Direction int

// Directions of a threshold.
const (
	// Above: values above the threshold are bad (a failure rate).
	Above Direction = iota + 1
	// Below: values below the threshold are bad (a success rate).
	Below
)

// Threshold is a measure's warning and critical bounds.
type Threshold struct {
	Warning   float64
	Critical  float64
	Direction Direction
}

// NewThreshold checks that critical is at least as far past warning as the
// direction says, and that neither is NaN.
func NewThreshold(warning, critical float64, d Direction) (Threshold, error) {
	if math.IsNaN(warning) || math.IsNaN(critical) {
		return Threshold{}, fmt.Errorf("ops: a threshold is not a number")
	}
	switch d {
	case Above:
		if critical < warning {
			return Threshold{}, fmt.Errorf("ops: critical %g is below warning %g for a measure that is bad above", critical, warning)
		}
	case Below:
		if critical > warning {
			return Threshold{}, fmt.Errorf("ops: critical %g is above warning %g for a measure that is bad below", critical, warning)
		}
	default:
		return Threshold{}, fmt.Errorf("ops: unknown direction %d", d)
	}
	return Threshold{Warning: warning, Critical: critical, Direction: d}, nil
}

// Level is value's level: strictly past critical is critical, strictly past
// warning is warning (the seed's "> 10" and "< 99%").
func (t Threshold) Level(value float64) Level {
	past := func(bound float64) bool {
		if t.Direction == Below {
			return value < bound
		}
		return value > bound
	}
	switch {
	case past(t.Critical):
		return Critical
	case past(t.Warning):
		return Warning
	default:
		return OK
	}
}

// Notice is a change of a measure's level that operators are told about.
type Notice struct {
	Measure string
	From    Level
	To      Level
	Value   float64
}

// Resolved reports whether the notice says the measure is back to ok.
func (n Notice) Resolved() bool { return n.To == OK }

// Change returns the notice for a measure going from the level last
// announced to the level now measured, and false when the level is the same
// (no repeats).
func Change(measure string, from, to Level, value float64) (Notice, bool) {
	if from == to {
		return Notice{}, false
	}
	return Notice{Measure: measure, From: from, To: to, Value: value}, true
}

// ServiceState is an integration's state for operators.
type ServiceState string

// The service states.
const (
	StateOK            ServiceState = "ok"
	StateDegraded      ServiceState = "degraded"
	StateDown          ServiceState = "down"
	StateNotConfigured ServiceState = "not_configured"
)

// Breaker states, as the circuit breakers name them.
const (
	BreakerClosed   = "closed"
	BreakerHalfOpen = "half-open"
	BreakerOpen     = "open"
)

// ServiceReading is what is known of an integration's recent calls.
type ServiceReading struct {
	Configured  bool
	Breaker     string
	Calls       int64 // in the window (an hour)
	Failures    int64 // in the window, rate-limit answers included
	RateLimited int64 // in the window
	LastSuccess time.Time
	LastFailure time.Time
}

// ErrorRate is the share of the window's calls that failed (0 without calls).
func (r ServiceReading) ErrorRate() float64 {
	if r.Calls == 0 {
		return 0
	}
	return float64(r.Failures) / float64(r.Calls)
}

// degradedErrorRate is the error rate from which a service that still
// succeeds is degraded.
const degradedErrorRate = 0.05

// StateOf decides a service's state: not configured; down while its breaker
// is open or when its latest call failed and most calls of the window
// failed; degraded while the breaker tries a call, when it was rate limited,
// when its latest call failed, or past a 5% error rate; ok otherwise.
func StateOf(r ServiceReading) ServiceState {
	lastFailed := !r.LastFailure.IsZero() && r.LastFailure.After(r.LastSuccess)
	switch {
	case !r.Configured:
		return StateNotConfigured
	case r.Breaker == BreakerOpen:
		return StateDown
	case lastFailed && r.ErrorRate() >= 0.5:
		return StateDown
	case r.Breaker == BreakerHalfOpen, r.RateLimited > 0, lastFailed, r.ErrorRate() > degradedErrorRate:
		return StateDegraded
	default:
		return StateOK
	}
}

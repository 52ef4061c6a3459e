package ops_test

import (
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/ops"
)

func TestThresholdLevels(t *testing.T) {
	t.Parallel()
	success, _ := ops.NewThreshold(0.99, 0.95, ops.Below)
	deadLetters, _ := ops.NewThreshold(10, 50, ops.Above)
	for _, tc := range []struct {
		name  string
		th    ops.Threshold
		value float64
		want  ops.Level
	}{
		{"success at 99% is ok", success, 0.99, ops.OK},
		{"success under 99% warns", success, 0.985, ops.Warning},
		{"success at 95% still warns", success, 0.95, ops.Warning},
		{"success under 95% is critical", success, 0.94, ops.Critical},
		{"10 dead letters are ok", deadLetters, 10, ops.OK},
		{"11 dead letters warn", deadLetters, 11, ops.Warning},
		{"51 dead letters are critical", deadLetters, 51, ops.Critical},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.th.Level(tc.value); got != tc.want {
				t.Fatalf("Level(%g) = %s, want %s", tc.value, got, tc.want)
			}
		})
	}
}

func TestNewThresholdRefusesInvertedBounds(t *testing.T) {
	t.Parallel()
	if _, err := ops.NewThreshold(50, 10, ops.Above); err == nil {
		t.Fatal("critical below warning for an above-measure was accepted")
	}
	if _, err := ops.NewThreshold(0.95, 0.99, ops.Below); err == nil {
		t.Fatal("critical above warning for a below-measure was accepted")
	}
}

func TestChangeAnnouncesOnlyNewLevels(t *testing.T) {
	t.Parallel()
	if _, ok := ops.Change("m", ops.Warning, ops.Warning, 1); ok {
		t.Fatal("a repeat of the same level gave a notice")
	}
	n, ok := ops.Change("m", ops.Critical, ops.OK, 0)
	if !ok || !n.Resolved() || n.From != ops.Critical {
		t.Fatalf("critical→ok = %+v, %v; want a resolved notice", n, ok)
	}
}

func TestStateOf(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		name string
		r    ops.ServiceReading
		want ops.ServiceState
	}{
		{"not configured", ops.ServiceReading{}, ops.StateNotConfigured},
		{"quiet and closed", ops.ServiceReading{Configured: true, Breaker: ops.BreakerClosed}, ops.StateOK},
		{"breaker open", ops.ServiceReading{Configured: true, Breaker: ops.BreakerOpen}, ops.StateDown},
		{"half open", ops.ServiceReading{Configured: true, Breaker: ops.BreakerHalfOpen}, ops.StateDegraded},
		{"failing", ops.ServiceReading{Configured: true, Breaker: ops.BreakerClosed, Calls: 4, Failures: 3, LastFailure: now, LastSuccess: now.Add(-time.Minute)}, ops.StateDown},
		{"recovered", ops.ServiceReading{Configured: true, Breaker: ops.BreakerClosed, Calls: 4, Failures: 3, LastFailure: now.Add(-time.Minute), LastSuccess: now}, ops.StateDegraded},
		{"rate limited", ops.ServiceReading{Configured: true, Breaker: ops.BreakerClosed, Calls: 100, Failures: 1, RateLimited: 1, LastSuccess: now}, ops.StateDegraded},
		{"few failures", ops.ServiceReading{Configured: true, Breaker: ops.BreakerClosed, Calls: 100, Failures: 2, LastFailure: now.Add(-time.Minute), LastSuccess: now}, ops.StateOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ops.StateOf(tc.r); got != tc.want {
				t.Fatalf("StateOf = %s, want %s", got, tc.want)
			}
		})
	}
}

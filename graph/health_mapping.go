package graph

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ops"
	"github.com/womendefiningai/platform/graph/model"
)

func integrationHealthModel(h application.IntegrationHealth) *model.IntegrationHealth {
	out := &model.IntegrationHealth{At: h.At, Services: []model.ServiceHealth{}, Jobs: []model.JobHealth{}, Measures: []model.MeasureHealth{},
		Webhooks: &model.WebhookHealth{Received: clampInt32(h.Webhooks.Received), Applied: clampInt32(h.Webhooks.Applied),
			Failed: clampInt32(h.Webhooks.Failed), SuccessRate: h.WebhookSuccessRate, P95Seconds: h.Webhooks.P95.Seconds(),
			Backlog: []model.BacklogCount{}, OpenDeadLetters: clampInt32(h.Webhooks.OpenDeadLetters)}}
	for _, s := range h.Services {
		m := model.ServiceHealth{Name: s.Name, Configured: s.Configured, State: serviceStateModel(s.State),
			LastSuccessAt: timePtr(s.LastSuccess), LastFailureAt: timePtr(s.LastFailure), Calls: clampInt32(s.Calls),
			ErrorRate: s.ErrorRate, Breaker: breakerModel(s.Breaker), RateLimitHits: clampInt32(s.RateLimitHits)}
		if s.LastErrorClass != "" {
			c := s.LastErrorClass
			m.LastErrorClass = &c
		}
		out.Services = append(out.Services, m)
	}
	for _, j := range h.Jobs {
		m := model.JobHealth{Job: j.Job, Runs: []model.JobOutcomeCount{}, LastStatus: string(j.LastStatus),
			LastSummary: jobSummaryText(j.Job, j.LastSummary), LastRunAt: j.LastAt}
		for st, n := range j.Outcomes {
			m.Runs = append(m.Runs, model.JobOutcomeCount{Outcome: string(st), Count: clampInt32(n)})
		}
		sort.Slice(m.Runs, func(a, b int) bool { return m.Runs[a].Outcome < m.Runs[b].Outcome })
		out.Jobs = append(out.Jobs, m)
	}
	for st, n := range h.Webhooks.Backlog {
		out.Webhooks.Backlog = append(out.Webhooks.Backlog, model.BacklogCount{Status: st, Count: clampInt32(n)})
	}
	sort.Slice(out.Webhooks.Backlog, func(a, b int) bool { return out.Webhooks.Backlog[a].Status < out.Webhooks.Backlog[b].Status })
	for _, l := range h.Levels {
		out.Measures = append(out.Measures, model.MeasureHealth{Measure: l.Measure, Value: l.Value, Level: alertLevelModel(l.Level),
			Warning: l.Threshold.Warning, Critical: l.Threshold.Critical})
	}
	return out
}

// jobSummaryText renders a run's counts as "job: 28 approved, 2 declined".
func jobSummaryText(job string, summary map[string]any) string {
	keys := make([]string, 0, len(summary))
	for k := range summary {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		switch v := summary[k].(type) {
		case float64:
			parts = append(parts, fmt.Sprintf("%s %s", formatCount(v), k))
		case string, bool:
			parts = append(parts, fmt.Sprintf("%s: %v", k, v))
		}
	}
	if len(parts) == 0 {
		return job
	}
	return job + ": " + strings.Join(parts, ", ")
}

func formatCount(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

func clampInt32(n int64) int32 {
	return int32(min(max(n, math.MinInt32), math.MaxInt32)) //nolint:gosec // clamped to int32's range
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func serviceStateModel(s ops.ServiceState) model.ServiceState {
	switch s {
	case ops.StateOK:
		return model.ServiceStateOk
	case ops.StateDegraded:
		return model.ServiceStateDegraded
	case ops.StateDown:
		return model.ServiceStateDown
	case ops.StateNotConfigured:
		return model.ServiceStateNotConfigured
	}
	return model.ServiceStateDown
}

func breakerModel(s string) model.BreakerState {
	switch s {
	case ops.BreakerOpen:
		return model.BreakerStateOpen
	case ops.BreakerHalfOpen:
		return model.BreakerStateHalfOpen
	default:
		return model.BreakerStateClosed
	}
}

func alertLevelModel(l ops.Level) model.AlertLevel {
	switch l {
	case ops.Critical:
		return model.AlertLevelCritical
	case ops.Warning:
		return model.AlertLevelWarning
	case ops.OK:
	}
	return model.AlertLevelOk
}

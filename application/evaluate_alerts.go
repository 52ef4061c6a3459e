package application

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/womendefiningai/platform/domain/ops"
	"github.com/womendefiningai/platform/ports"
)

// The measures the alerts watch, by the names alerts, metrics and runbooks
// use.
const (
	MeasureWebhookSuccessRate = "webhook_success_rate"
	MeasureJobFailureRate     = "job_failure_rate"
	MeasureAPIP95             = "api_p95_seconds"
	MeasureOpenDeadLetters    = "open_dead_letters"
	MeasureRateLimitHits      = "rate_limit_hits_per_hour"
)

// AlertThresholds holds each measure's thresholds.
type AlertThresholds map[string]ops.Threshold

// DefaultAlertThresholds are the seed's.
func DefaultAlertThresholds() AlertThresholds {
	return AlertThresholds{
		MeasureWebhookSuccessRate: {Warning: 0.99, Critical: 0.95, Direction: ops.Below},
		MeasureJobFailureRate:     {Warning: 0.05, Critical: 0.10, Direction: ops.Above},
		MeasureAPIP95:             {Warning: 0.5, Critical: 2, Direction: ops.Above},
		MeasureOpenDeadLetters:    {Warning: 10, Critical: 50, Direction: ops.Above},
		MeasureRateLimitHits:      {Warning: 10, Critical: 100, Direction: ops.Above},
	}
}

// measureOrder is the order measures are evaluated and announced in.
var measureOrder = []string{MeasureWebhookSuccessRate, MeasureJobFailureRate, MeasureAPIP95, MeasureOpenDeadLetters, MeasureRateLimitHits}

// Values returns each watched measure's value.
func (m Measures) Values() map[string]float64 {
	return map[string]float64{
		MeasureWebhookSuccessRate: m.WebhookSuccessRate,
		MeasureJobFailureRate:     m.JobFailureRate,
		MeasureAPIP95:             m.APIP95.Seconds(),
		MeasureOpenDeadLetters:    float64(m.OpenDeadLetters),
		MeasureRateLimitHits:      float64(m.RateLimitHits),
	}
}

// EvaluateAlertsResult says what one evaluation did.
type EvaluateAlertsResult struct {
	// Evaluated is false when another replica had claimed the slot.
	Evaluated bool
	Levels    map[string]ops.Level
	Notices   []ops.Notice
}

// EvaluateAlerts compares the measures with their thresholds once per slot
// (a minute), on the one replica that claims it, and announces each change
// of level once: ok → warning → critical, and resolved back to ok.
type EvaluateAlerts struct {
	health  GetIntegrationHealth
	levels  ports.AlertLevels
	alerter ports.Alerter
}

// NewEvaluateAlerts refuses nil dependencies; the thresholds are the health
// view's.
func NewEvaluateAlerts(health GetIntegrationHealth, levels ports.AlertLevels, alerter ports.Alerter) (EvaluateAlerts, error) {
	if anyNil(health.read, levels, alerter) {
		return EvaluateAlerts{}, nilDependency("evaluate alerts")
	}
	return EvaluateAlerts{health: health, levels: levels, alerter: alerter}, nil
}

// Handle evaluates slot, if this caller claims it. A notice that cannot be
// sent leaves its level unchanged, so the next slot tries again.
func (h EvaluateAlerts) Handle(ctx context.Context, slot time.Time) (EvaluateAlertsResult, error) {
	claimed, err := h.levels.Claim(ctx, slot.UTC().Truncate(time.Minute))
	if err != nil || !claimed {
		return EvaluateAlertsResult{}, err
	}
	view := h.health.view(ctx)
	res := EvaluateAlertsResult{Evaluated: true, Levels: map[string]ops.Level{}}
	var errs []error
	for _, ml := range view.Levels {
		m, th, v, to := ml.Measure, ml.Threshold, ml.Value, ml.Level
		res.Levels[m] = to
		_, err := h.levels.Transition(ctx, m, to, v, view.At, func(from ops.Level) error {
			n, _ := ops.Change(m, from, to, v)
			if err := h.alerter.Alert(ctx, noticeAlert(n, th)); err != nil {
				return err
			}
			res.Notices = append(res.Notices, n)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

func noticeAlert(n ops.Notice, th ops.Threshold) ports.Alert {
	sev, title := ports.SeverityWarning, fmt.Sprintf("%s is %s (was %s)", n.Measure, n.To, n.From)
	switch n.To {
	case ops.Critical:
		sev = ports.SeverityCritical
	case ops.OK:
		sev, title = ports.SeverityInfo, fmt.Sprintf("%s resolved (was %s)", n.Measure, n.From)
	case ops.Warning:
	}
	return ports.Alert{Severity: sev, Title: title,
		Detail: fmt.Sprintf("%s = %s; warning past %s, critical past %s", n.Measure, fmtValue(n.Value), fmtValue(th.Warning), fmtValue(th.Critical)),
		Fields: map[string]string{"measure": n.Measure, "level": string(n.To), "previous": string(n.From),
			"value": fmtValue(n.Value), "runbook": "docs/runbooks/alert-" + n.Measure + ".md"}}
}

func fmtValue(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

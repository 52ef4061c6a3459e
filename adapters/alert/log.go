package alert

import (
	"context"
	"log/slog"

	"github.com/womendefiningai/platform/ports"
)

// Log writes alerts to a structured logger: critical at error level, warning
// at warn, info at info.
type Log struct{ logger *slog.Logger }

var _ ports.Alerter = (*Log)(nil)

// NewLog returns an alerter writing to logger.
func NewLog(logger *slog.Logger) *Log { return &Log{logger: logger} }

// Alert logs a, scrubbed, with its fields as attributes under "fields".
func (l *Log) Alert(ctx context.Context, a ports.Alert) error {
	a = scrub(a)
	var level slog.Level
	switch a.Severity {
	case ports.SeverityCritical:
		level = slog.LevelError
	case ports.SeverityInfo:
		level = slog.LevelInfo
	default: // SeverityWarning, and a severity this adapter does not know
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("alert_severity", string(a.Severity)),
		slog.String("detail", a.Detail),
	}
	if len(a.Fields) > 0 {
		fields := make([]any, 0, len(a.Fields))
		for _, k := range sortedKeys(a.Fields) {
			fields = append(fields, slog.String(k, a.Fields[k]))
		}
		attrs = append(attrs, slog.Group("fields", fields...))
	}
	l.logger.LogAttrs(ctx, level, "alert: "+a.Title, attrs...)
	return nil
}

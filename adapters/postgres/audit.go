package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// AuditLog implements ports.AuditLog on the append-only audit_log table. The
// table refuses UPDATE, DELETE and TRUNCATE itself (a trigger), so no code
// path can rewrite history.
type AuditLog struct {
	q Querier
}

var _ ports.AuditLog = (*AuditLog)(nil)

// NewAuditLog returns the audit log on q: a pgx.Tx, so that an entry commits
// with the change it describes, or the pool.
func NewAuditLog(q Querier) *AuditLog { return &AuditLog{q: q} }

// Record appends e. ActorKind, Action and a known Outcome are required; a
// zero At means the database's now().
func (l *AuditLog) Record(ctx context.Context, e ports.AuditEntry) error {
	if err := validateAuditEntry(e); err != nil {
		return fmt.Errorf("postgres: record audit entry: %w", err)
	}
	details, err := jsonObject(e.Details)
	if err != nil {
		return fmt.Errorf("postgres: record audit entry %s: details: %w", e.Action, err)
	}
	var at *time.Time
	if !e.At.IsZero() {
		at = &e.At
	}
	_, err = l.q.Exec(ctx, `INSERT INTO audit_log
			(at, actor_kind, actor_id, action, subject_kind, subject_id, outcome, details)
		VALUES (COALESCE($1::timestamptz, now()), $2, $3, $4, $5, $6, $7, $8)`,
		at, e.ActorKind, e.ActorID, e.Action, e.SubjectKind, e.SubjectID, e.Outcome, details)
	if err != nil {
		return fmt.Errorf("postgres: record audit entry %s: %w", e.Action, err)
	}
	return nil
}

func validateAuditEntry(e ports.AuditEntry) error {
	var errs []error
	if e.ActorKind == "" {
		errs = append(errs, errors.New("actor kind is empty"))
	}
	if e.Action == "" {
		errs = append(errs, errors.New("action is empty"))
	}
	switch e.Outcome {
	case ports.OutcomeSuccess, ports.OutcomeFailure, ports.OutcomeDenied:
	default:
		errs = append(errs, fmt.Errorf("unknown outcome %q", e.Outcome))
	}
	return errors.Join(errs...)
}

// AuditRecord is one stored audit entry with its id; At is always set.
type AuditRecord struct {
	ID int64
	ports.AuditEntry
}

// AuditFilter selects audit entries: empty fields and zero times match
// everything. Limit is 1 to 1000; 0 means 100.
type AuditFilter struct {
	ActorKind   string
	ActorID     string
	Action      string
	SubjectKind string
	SubjectID   string
	Outcome     string
	Since       time.Time // at or after
	Until       time.Time // before
	Limit       int
}

// List returns the entries matching f, newest first.
func (l *AuditLog) List(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var since, until *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	if !f.Until.IsZero() {
		until = &f.Until
	}
	rows, err := l.q.Query(ctx, `
		SELECT id, at, actor_kind, actor_id, action, subject_kind, subject_id, outcome, details
		FROM audit_log
		WHERE ($1 = '' OR actor_kind = $1)
		  AND ($2 = '' OR actor_id = $2)
		  AND ($3 = '' OR action = $3)
		  AND ($4 = '' OR subject_kind = $4)
		  AND ($5 = '' OR subject_id = $5)
		  AND ($6 = '' OR outcome = $6)
		  AND ($7::timestamptz IS NULL OR at >= $7)
		  AND ($8::timestamptz IS NULL OR at < $8)
		ORDER BY at DESC, id DESC
		LIMIT $9`,
		f.ActorKind, f.ActorID, f.Action, f.SubjectKind, f.SubjectID, f.Outcome, since, until, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditRecord, error) {
		var r AuditRecord
		err := row.Scan(&r.ID, &r.At, &r.ActorKind, &r.ActorID, &r.Action,
			&r.SubjectKind, &r.SubjectID, &r.Outcome, &r.Details)
		r.At = r.At.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit log: %w", err)
	}
	return out, nil
}

// jsonObject encodes m for a jsonb column that holds an object; nil is {}.
func jsonObject(m map[string]any) ([]byte, error) {
	if m == nil {
		return []byte(`{}`), nil
	}
	return json.Marshal(m)
}

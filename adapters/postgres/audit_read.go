package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// AuditReader implements ports.AuditReader: pages of audit_log, newest
// (highest id) first. The cursor is the last record's id.
type AuditReader struct {
	q Querier
}

var _ ports.AuditReader = (*AuditReader)(nil)

// NewAuditReader returns the audit reader on q.
func NewAuditReader(q Querier) *AuditReader { return &AuditReader{q: q} }

// List returns one page of entries matching f. An action ending in "."
// matches every action with that prefix; f.OnlyPrefixes limits the page to
// the actions with one of its prefixes.
func (r *AuditReader) List(ctx context.Context, f ports.AuditFilter) (ports.AuditPage, error) {
	if f.Limit < 1 {
		return ports.AuditPage{}, errors.New("postgres: list audit log: limit must be positive")
	}
	var after *int64
	if f.After != "" {
		id, err := strconv.ParseInt(f.After, 10, 64)
		if err != nil || id < 1 {
			return ports.AuditPage{}, ports.ErrInvalidCursor
		}
		after = &id
	}
	action, prefix := f.Action, ""
	if strings.HasSuffix(action, ".") {
		action, prefix = "", likePrefix(f.Action)
	}
	only := make([]string, 0, len(f.OnlyPrefixes))
	for _, p := range f.OnlyPrefixes {
		only = append(only, likePrefix(p))
	}
	rows, err := r.q.Query(ctx, `
		SELECT id, at, actor_kind, actor_id, action, subject_kind, subject_id, outcome, details
		FROM audit_log
		WHERE ($1 = '' OR action = $1)
		  AND ($2 = '' OR action LIKE $2)
		  AND ($3 = '' OR subject_kind = $3)
		  AND ($4 = '' OR subject_id = $4)
		  AND ($5 = '' OR actor_id = $5)
		  AND ($6::bigint IS NULL OR id < $6)
		  AND (cardinality($8::text[]) = 0 OR action LIKE ANY ($8::text[]))
		ORDER BY id DESC
		LIMIT $7`, action, prefix, f.SubjectKind, f.SubjectID, f.ActorID, after, f.Limit+1, only)
	if err != nil {
		return ports.AuditPage{}, fmt.Errorf("postgres: list audit log: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.AuditRecord, error) {
		var rec ports.AuditRecord
		var id int64
		err := row.Scan(&id, &rec.At, &rec.ActorKind, &rec.ActorID, &rec.Action,
			&rec.SubjectKind, &rec.SubjectID, &rec.Outcome, &rec.Details)
		rec.ID, rec.At = strconv.FormatInt(id, 10), rec.At.UTC()
		return rec, err
	})
	if err != nil {
		return ports.AuditPage{}, fmt.Errorf("postgres: list audit log: %w", err)
	}
	page := ports.AuditPage{Records: recs}
	if len(recs) > f.Limit {
		page.Records, page.HasMore = recs[:f.Limit], true
	}
	return page, nil
}

// likePrefix returns a LIKE pattern matching what starts with p.
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
}

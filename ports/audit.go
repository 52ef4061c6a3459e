package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/audit.go -package=mocks . AuditLog,AuditReader,JobRuns

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// AuditEntry records who did what to which subject, with what outcome.
// Details must not carry secrets, tokens or whole payloads; emails only where
// the action is about that email.
type AuditEntry struct {
	ActorKind   string // user, agent or system
	ActorID     string
	Action      string // for example "dead_letter.replay"
	SubjectKind string // for example "dead_letter"
	SubjectID   string
	Outcome     string
	Details     map[string]any
	At          time.Time // zero means the database's now()
}

// AuditLog is the append-only audit trail. Application code writes entries
// through a transaction's Audit(), in the same transaction as the change
// they describe.
type AuditLog interface {
	Record(ctx context.Context, e AuditEntry) error
}

// AuditRecord is a stored audit entry with its id.
type AuditRecord struct {
	ID string
	AuditEntry
}

// AuditFilter selects audit entries; empty fields select all. Entries come
// newest first.
type AuditFilter struct {
	Action      string // exact, or a prefix ending in "." ("rsvp.")
	SubjectKind string
	SubjectID   string
	ActorID     string
	// OnlyPrefixes, if any, limits the page to actions starting with one of
	// them (what the reader may see), whatever Action asks.
	OnlyPrefixes []string
	After        string // cursor of the last entry of the previous page
	Limit        int
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Records []AuditRecord
	HasMore bool
}

// AuditReader pages through the audit log, newest first; ErrInvalidCursor
// for a cursor it did not make (the cursor of a record is its ID).
type AuditReader interface {
	List(ctx context.Context, f AuditFilter) (AuditPage, error)
}

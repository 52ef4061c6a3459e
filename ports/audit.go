package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/audit.go -package=mocks . AuditLog,JobRuns,UnitOfWork,Tx

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
// through Tx.Audit(), in the same transaction as the change they describe.
type AuditLog interface {
	Record(ctx context.Context, e AuditEntry) error
}

// UnitOfWork runs fn in one database transaction: everything fn does through
// tx (domain writes, published and scheduled messages, audit entries) commits
// together or not at all. A non-nil error from fn rolls back; the commit's own
// error is returned.
type UnitOfWork interface {
	Do(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is what a use case may do inside one transaction.
type Tx interface {
	Publisher() Publisher
	Scheduler() Scheduler
	Audit() AuditLog
	JobRuns() JobRuns
	DeadLetters() DeadLetters
	People() People
	Memberships() Memberships
	Inbox() WebhookInbox
	BillingInbox() BillingInbox
}

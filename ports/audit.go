package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/audit.go -package=mocks . AuditLog,JobRuns

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

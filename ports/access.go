package ports

import (
	"context"
	"time"

	"github.com/womendefiningai/platform/domain/ledger"
)

//go:generate go tool mockgen -destination=mocks/access.go -package=mocks . AccessGrants,AccessReader,AccessTx

// The access ledger's topics (see the Topics block in messaging.go).
const (
	TopicAccessCheck    = "access.check"    // re-evaluate a person's access when a grant's window ends (scheduled)
	TopicAccessReminder = "access.reminder" // a complimentary grant ends soon: remind the person (scheduled)
)

// AccessCheckMessage is the body of a TopicAccessCheck message.
type AccessCheckMessage struct {
	PersonID string    `json:"person_id"`
	At       time.Time `json:"at"`
}

// AccessReminderMessage is the body of a TopicAccessReminder message: the
// grant whose end is near, and the end it had when the reminder was set.
type AccessReminderMessage struct {
	PersonID string    `json:"person_id"`
	GrantID  string    `json:"grant_id"`
	Until    time.Time `json:"until"`
}

// ReasonAccess is the member.changed reason of a change of access that no
// billing event caused (a grant, a revocation, an expiry, a reminder).
const ReasonAccess = "access"

// AccessGrants is the access ledger's store, in a transaction that holds
// the person's membership lock (Memberships.Update), so that evaluations of
// one person's access never interleave.
type AccessGrants interface {
	// ForPerson returns every grant of the person, ended ones included.
	ForPerson(ctx context.Context, personID string) ([]ledger.Grant, error)
	// Get returns one grant by id, or ErrNotFound.
	Get(ctx context.Context, grantID string) (ledger.Grant, error)
	// Open stores a new grant and returns it with its id.
	Open(ctx context.Context, g ledger.Grant) (ledger.Grant, error)
	// Save writes a stored grant's end, tier and revocation (by ID);
	// ErrNotFound when there is no such grant.
	Save(ctx context.Context, g ledger.Grant) error
	// SetActive records whether the person has access now and returns what
	// was recorded before.
	SetActive(ctx context.Context, personID string, active bool) (was bool, err error)
}

// AccessReader reads the ledger outside a transaction.
type AccessReader interface {
	// GrantsOf returns every grant of each person (those with none are
	// absent).
	GrantsOf(ctx context.Context, personIDs []string) (map[string][]ledger.Grant, error)
}

// AccessTx changes grants and what follows from them: the membership
// (hidden when access ends), messages, and the audit log.
type AccessTx interface {
	Outbox
	Audited
	Memberships() Memberships
	AccessGrants() AccessGrants
}

package ports

import (
	"context"
	"time"

	"github.com/womendefiningai/platform/domain/chatstatus"
)

//go:generate go tool mockgen -destination=mocks/chat.go -package=mocks . ChatDirectory,ChatStatusReader,ChatStatuses,ChatStatusTx

// ChatPageMax is the most accounts one directory page may carry.
const ChatPageMax = 1000

// ChatUser is one account of the chat workspace's directory.
type ChatUser struct {
	ID string
	// Email is the account's address, lower-cased and trimmed; "" when the
	// directory does not show it (an account without one, or a token that
	// may not read addresses).
	Email string
	// Account is the account's state: active, restricted or deleted.
	Account chatstatus.Account
	// Bot marks an application's account, which no person owns.
	Bot bool
}

// ChatUserPage is one page of the directory; Next is "" on the last.
type ChatUserPage struct {
	Users []ChatUser
	Next  string
}

// ChatDirectory reads the chat workspace's directory. It never writes.
//
// A provider's rate limit is returned as a *TransientError whose RetryAfter
// is the wait the provider asked for; other failures of the provider are
// transient too, and an unconfigured directory returns ErrNotConfigured.
type ChatDirectory interface {
	Configurable
	// ListUsers returns the page of accounts at cursor ("" for the first),
	// at most limit of them (1 to ChatPageMax); deleted and restricted
	// accounts are included.
	ListUsers(ctx context.Context, cursor string, limit int) (ChatUserPage, error)
	// LookupByEmail returns the account with the address, or ErrNotFound.
	LookupByEmail(ctx context.Context, email string) (ChatUser, error)
}

// ChatMember is a visible member whom a sync has still to match, with every
// verified address (lower-cased).
type ChatMember struct {
	PersonID string
	Emails   []string
	// Cursor is where the Unmatched page after this member starts.
	Cursor string
}

// ChatLinkView is a person's stored chat status.
type ChatLinkView struct {
	PersonID string
	Status   chatstatus.Status
	UserID   string
	SyncedAt time.Time
}

// ChatStatusReader reads what the chat sync needs and what it stored.
type ChatStatusReader interface {
	// MatchVisible returns, for each of emails (lower-cased) that is a
	// verified address of visible members, those members' person ids.
	MatchVisible(ctx context.Context, emails []string) (map[string][]string, error)
	// Unmatched returns up to limit visible members whose link the sync
	// named sync has not written and no sync has written at or after since
	// (when the sync began; zero: no such bound), those never synced first,
	// then the least recently synced; after is the Cursor of the previous
	// page's last member ("" for the first page). So a run that overlaps
	// another neither redoes nor refuses what either already decided.
	Unmatched(ctx context.Context, sync string, since time.Time, after string, limit int) ([]ChatMember, error)
	// Links returns the stored links of the people (absent: never synced).
	Links(ctx context.Context, personIDs []string) (map[string]ChatLinkView, error)
	// Summary counts the stored links by status.
	Summary(ctx context.Context) (map[chatstatus.Status]int, error)
}

// ChatStatuses stores each person's chat link.
type ChatStatuses interface {
	ChatStatusReader
	// Update locks the links of the people, in person-id order, creating
	// those never synced (status New), calls fn with them and the set of
	// those this sync already wrote (a person matched on an earlier page),
	// and writes every one back marked with sync. A link keeps the marks of
	// the last few syncs that wrote it, so a sync racing another still
	// knows its own. Two racing updates of a person run one after the
	// other, so the second sees the first's result.
	Update(ctx context.Context, sync string, personIDs []string, fn func(links map[string]*chatstatus.Link, written map[string]bool) error) error
}

// ChatStatusTx changes chat links and audits each change.
type ChatStatusTx interface {
	Audited
	ChatStatuses() ChatStatuses
}

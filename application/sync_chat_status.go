package application

import (
	"context"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
)

// ChatSyncOptions tune the chat workspace sync.
type ChatSyncOptions struct {
	// PageSize is how many accounts one directory page asks for, and how
	// many unmatched members one later page takes (1 to ports.ChatPageMax).
	PageSize int
	// Lookups is the per-run budget of look-ups by address.
	Lookups int
	// MaxWait is the longest rate-limit wait a page sits out; a longer one
	// defers the run (the page's error carries the wait to the worker).
	MaxWait time.Duration
}

// DefaultChatSync lists the directory in pages of 1,000 (nine calls for a
// workspace of 9,000), spends at most 40 look-ups per run (inside one
// minute of the directory's look-up tier, 50 a minute) and sits out rate
// limits of up to 10 seconds.
var DefaultChatSync = ChatSyncOptions{PageSize: ports.ChatPageMax, Lookups: 40, MaxWait: 10 * time.Second}

// SyncChatStatusInput is one page of a sync run: its cursor ("" starts a
// new sync) and the runtime's BeginPage.
type SyncChatStatusInput struct {
	Cursor string
	Begin  BeginPage
}

// SyncChatStatus matches the visible members to the chat workspace's
// accounts and keeps each member's chat status (domain/chatstatus),
// auditing every change. It runs as a paged job:
//
//  1. list pages: one directory page each (accounts in bulk, deleted and
//     restricted ones included); the members whose verified addresses match
//     an account (ignoring case) get that account's state;
//  2. then pages of the visible members no list page matched. When the
//     list showed every account's address, they are not found. Otherwise
//     (a token that may not read some addresses) each is looked up by
//     address, within the run's look-up budget, least recently synced
//     first; those past it wait for the next run.
//
// Directory calls are reads, so they come before the page begins; a page
// writes its links in one transaction, marked with the run's sync id so
// that a page delivered again, or a run racing it, changes nothing twice.
// The later pages leave out members any run decided since this one began:
// a run racing this one neither refuses nor looks up again what the other
// matched, and each run's summary counts what it decided itself.
type SyncChatStatus struct {
	directory ports.ChatDirectory
	reads     ports.ChatStatusReader
	uow       ports.UnitOfWork[ports.ChatStatusTx]
	clock     ports.Clock
	opts      ChatSyncOptions
}

// NewSyncChatStatus refuses nil dependencies and options out of range.
func NewSyncChatStatus(directory ports.ChatDirectory, reads ports.ChatStatusReader, uow ports.UnitOfWork[ports.ChatStatusTx], clock ports.Clock, opts ChatSyncOptions) (SyncChatStatus, error) {
	if anyNil(directory, reads, uow, clock) {
		return SyncChatStatus{}, nilDependency("sync chat status")
	}
	if opts.PageSize < 1 || opts.PageSize > ports.ChatPageMax || opts.Lookups < 0 || opts.MaxWait < 0 {
		return SyncChatStatus{}, fmt.Errorf("application: sync chat status: options %+v out of range", opts)
	}
	return SyncChatStatus{directory: directory, reads: reads, uow: uow, clock: clock, opts: opts}, nil
}

// Page is the paged job's runner.
func (h SyncChatStatus) Page(ctx context.Context, cursor string, begin BeginPage) (map[string]any, error) {
	return h.Handle(ctx, SyncChatStatusInput{Cursor: cursor, Begin: begin})
}

// Handle runs one page and returns its counts. Unconfigured, the run
// completes at once as skipped: not configured.
func (h SyncChatStatus) Handle(ctx context.Context, in SyncChatStatusInput) (map[string]any, error) {
	if in.Begin == nil {
		return nil, invalid("sync chat status: no BeginPage")
	}
	if !h.directory.Configured() {
		return skipped("not configured"), in.Begin("", true)
	}
	cur, err := parseChatCursor(in.Cursor, h.clock.Now())
	if err != nil {
		return nil, ports.Permanent(err)
	}
	if cur.Phase == phaseList {
		return h.listPage(ctx, cur, in.Begin)
	}
	return h.restPage(ctx, cur, in.Begin)
}

// listPage reads one directory page and applies what it shows.
func (h SyncChatStatus) listPage(ctx context.Context, cur chatCursor, begin BeginPage) (map[string]any, error) {
	if cur.Pages >= maxListPages {
		return nil, ports.Permanent(fmt.Errorf("chat directory still paging after %d pages", cur.Pages))
	}
	counts := chatCounts()
	var page ports.ChatUserPage
	err := h.waitOut(ctx, counts, func() (err error) {
		page, err = h.directory.ListUsers(ctx, cur.At, h.opts.PageSize)
		return err
	})
	if err != nil {
		return nil, err
	}
	counts["list_calls"] = 1
	next := cur
	next.At, next.Pages = page.Next, cur.Pages+1
	if page.Next == "" {
		next.Phase = phaseRest
	}
	emails := make([]string, 0, len(page.Users))
	byEmail := make(map[string]ports.ChatUser, len(page.Users))
	for _, u := range page.Users {
		switch {
		case u.Bot:
		case u.Email == "":
			next.Hidden++
		default:
			had, seen := byEmail[u.Email]
			if !seen {
				emails = append(emails, u.Email)
			}
			if !seen || rank(u.Account) < rank(had.Account) {
				byEmail[u.Email] = u
			}
		}
	}
	counts["accounts"] = len(page.Users)
	if err := begin(next.String(), false); err != nil {
		return nil, err
	}
	matches, err := h.reads.MatchVisible(ctx, emails)
	if err != nil {
		return nil, err
	}
	sightings := map[string]chatstatus.Sighting{}
	for email, people := range matches {
		u := byEmail[email]
		for _, id := range people {
			if had, ok := sightings[id]; !ok || rank(u.Account) < rank(had.Account) {
				sightings[id] = chatstatus.Sighting{Account: u.Account, UserID: u.ID}
			}
		}
	}
	return counts, h.apply(ctx, cur.Sync, sightings, counts)
}

// restPage decides a page of the members the list did not match.
func (h SyncChatStatus) restPage(ctx context.Context, cur chatCursor, begin BeginPage) (map[string]any, error) {
	counts := chatCounts()
	members, err := h.reads.Unmatched(ctx, cur.Sync, cur.Began, cur.At, h.opts.PageSize)
	if err != nil {
		return nil, err
	}
	next := cur
	if n := len(members); n > 0 {
		next.At = members[n-1].Cursor
	}
	conclusive := cur.Hidden == 0
	budget := 0
	if !conclusive {
		budget = max(h.opts.Lookups-cur.Lookups, 0)
		next.Lookups += min(budget, lookupCalls(members))
	}
	if err := begin(next.String(), len(members) < h.opts.PageSize); err != nil {
		return nil, err
	}
	sightings := make(map[string]chatstatus.Sighting, len(members))
	var lookErr error
	for _, m := range members {
		if conclusive {
			sightings[m.PersonID] = chatstatus.Sighting{Account: chatstatus.AccountMissing}
			continue
		}
		s, decided, err := h.lookUp(ctx, m.Emails, &budget, counts)
		if err != nil {
			lookErr = err // keep what was decided; the rest is retried
			break
		}
		if decided {
			sightings[m.PersonID] = s
		} else {
			bump(counts, "lookups_deferred", 1)
		}
	}
	if err := h.apply(ctx, cur.Sync, sightings, counts); err != nil {
		return nil, err
	}
	return counts, lookErr
}

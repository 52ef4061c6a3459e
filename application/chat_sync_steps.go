package application

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
)

// The phases of a chat sync run.
const (
	phaseList = "list"
	phaseRest = "rest"
)

// maxChatCursor bounds a stored cursor before it is parsed.
const maxChatCursor = 4096

// maxListPages bounds a run's directory pages (a million accounts at 1,000
// a page), so a directory that never stops paging cannot keep a run going.
const maxListPages = 1000

// chatCursor is where a chat sync run stands, stored as the run's cursor.
type chatCursor struct {
	Sync    string    `json:"sync"`              // the run's id, marked on every link it writes
	Began   time.Time `json:"began,omitzero"`    // when its first page ran (zero in cursors stored before it was kept)
	Phase   string    `json:"phase"`             // list or rest
	At      string    `json:"at,omitempty"`      // the directory's cursor, or the unmatched members' cursor
	Hidden  int       `json:"hidden,omitempty"`  // accounts listed without an address
	Lookups int       `json:"lookups,omitempty"` // look-ups spent
	Pages   int       `json:"pages,omitempty"`   // directory pages read
}

// parseChatCursor reads a stored cursor; "" starts a new sync at now.
func parseChatCursor(s string, now time.Time) (chatCursor, error) {
	if s == "" {
		return chatCursor{Sync: rand.Text(), Began: now, Phase: phaseList}, nil
	}
	if len(s) > maxChatCursor {
		return chatCursor{}, fmt.Errorf("chat sync cursor of %d bytes; at most %d", len(s), maxChatCursor)
	}
	var c chatCursor
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return chatCursor{}, fmt.Errorf("chat sync cursor: %w", err)
	}
	if c.Sync == "" || c.Phase != phaseList && c.Phase != phaseRest || c.Hidden < 0 || c.Lookups < 0 || c.Pages < 0 {
		return chatCursor{}, errors.New("chat sync cursor: missing sync id, unknown phase or negative count")
	}
	return c, nil
}

func (c chatCursor) String() string {
	b, _ := json.Marshal(c) //nolint:errchkjson // strings and ints only
	return string(b)
}

// chatCounts starts a page's counts: every key the run summary shows.
func chatCounts() map[string]any {
	out := map[string]any{"outcome": "synced", "list_calls": 0, "lookups": 0, "lookups_deferred": 0,
		"accounts": 0, "changes": 0, "refused": 0, "rate_limit_waits": 0}
	for _, st := range chatstatus.Statuses() {
		out[string(st)] = 0
	}
	return out
}

func bump(counts map[string]any, key string, n int) { counts[key] = counts[key].(int) + n }

// rank orders the accounts one person may have: an active one wins.
func rank(a chatstatus.Account) int {
	switch a {
	case chatstatus.AccountActive:
		return 0
	case chatstatus.AccountRestricted:
		return 1
	case chatstatus.AccountDeleted:
		return 2
	default: // missing
		return 3
	}
}

// apply records what the page saw in one transaction: each link moves by
// the domain's rule, each step is audited once, and a refused move keeps
// the link as it was.
func (h SyncChatStatus) apply(ctx context.Context, sync string, sightings map[string]chatstatus.Sighting, counts map[string]any) error {
	if len(sightings) == 0 {
		return nil
	}
	ids := make([]string, 0, len(sightings))
	for id := range sightings {
		ids = append(ids, id)
	}
	now := h.clock.Now()
	tally := map[string]int{}
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
		clear(tally)
		return tx.ChatStatuses().Update(ctx, sync, ids, func(links map[string]*chatstatus.Link, written map[string]bool) error {
			for id, l := range links {
				if err := observe(ctx, tx.Audit(), sync, id, l, sightings[id], written[id], now, tally); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("apply chat statuses: %w", err)
	}
	for k, n := range tally {
		bump(counts, k, n)
	}
	return nil
}

// observe applies one sighting to a locked link and audits each step. A
// link this sync already wrote (a second account on a later page) moves
// only for a better account.
func observe(ctx context.Context, audit ports.AuditLog, sync, id string, l *chatstatus.Link, s chatstatus.Sighting, written bool, now time.Time, tally map[string]int) error {
	before := l.Status()
	if written && rank(s.Account) >= statusRank(before) {
		return nil
	}
	changes, err := l.Observe(s, now)
	if errors.Is(err, chatstatus.ErrForbidden) {
		tally["refused"]++
	} else if err != nil {
		return fmt.Errorf("person %s: %w", id, err)
	}
	for _, c := range changes {
		tally["changes"]++
		if err := audit.Record(ctx, ports.AuditEntry{
			ActorKind: "system", ActorID: "chat_sync", Action: "chat_status.change",
			SubjectKind: "person", SubjectID: id, Outcome: ports.OutcomeSuccess, At: now,
			Details: map[string]any{"from": statusName(c.From), "to": string(c.To), "user_id": c.UserID, "sync": sync},
		}); err != nil {
			return err
		}
	}
	tally[string(l.Status())]++
	if written {
		tally[string(before)]-- // counted on the earlier page
	}
	return nil
}

// statusRank ranks a status as rank ranks the account that shows it.
func statusRank(s chatstatus.Status) int {
	switch s {
	case chatstatus.Active:
		return rank(chatstatus.AccountActive)
	case chatstatus.Inactive:
		return rank(chatstatus.AccountRestricted)
	case chatstatus.Deactivated:
		return rank(chatstatus.AccountDeleted)
	default: // new, not found
		return rank(chatstatus.AccountMissing)
	}
}

// statusName names New for the audit log.
func statusName(s chatstatus.Status) string {
	if s == chatstatus.New {
		return "new"
	}
	return string(s)
}

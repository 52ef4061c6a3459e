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
	Sync    string `json:"sync"`              // the run's id, marked on every link it writes
	Phase   string `json:"phase"`             // list or rest
	At      string `json:"at,omitempty"`      // the directory's cursor, or the unmatched members' cursor
	Hidden  int    `json:"hidden,omitempty"`  // accounts listed without an address
	Lookups int    `json:"lookups,omitempty"` // look-ups spent
	Pages   int    `json:"pages,omitempty"`   // directory pages read
}

// parseChatCursor reads a stored cursor; "" starts a new sync.
func parseChatCursor(s string) (chatCursor, error) {
	if s == "" {
		return chatCursor{Sync: rand.Text(), Phase: phaseList}, nil
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

// lookupCalls is how many look-ups deciding every member would take.
func lookupCalls(members []ports.ChatMember) int {
	n := 0
	for _, m := range members {
		n += len(m.Emails)
	}
	return n
}

// lookUp looks a member up by each address while budget lasts. decided is
// false when the budget ran out first.
func (h SyncChatStatus) lookUp(ctx context.Context, emails []string, budget *int, counts map[string]any) (chatstatus.Sighting, bool, error) {
	for _, email := range emails {
		if *budget == 0 {
			return chatstatus.Sighting{}, false, nil
		}
		*budget--
		var u ports.ChatUser
		err := h.waitOut(ctx, counts, func() (err error) {
			u, err = h.directory.LookupByEmail(ctx, email)
			return err
		})
		bump(counts, "lookups", 1)
		switch {
		case errors.Is(err, ports.ErrNotFound) || err == nil && u.Bot:
		case err != nil:
			return chatstatus.Sighting{}, false, err
		default:
			return chatstatus.Sighting{Account: u.Account, UserID: u.ID}, true, nil
		}
	}
	return chatstatus.Sighting{Account: chatstatus.AccountMissing}, true, nil
}

// waitOut makes a directory call, sitting out a rate limit of at most
// MaxWait that fits in the page's time (three times at most). A longer one
// is returned: it defers the run.
func (h SyncChatStatus) waitOut(ctx context.Context, counts map[string]any, call func() error) error {
	for range 3 {
		err := call()
		t, ok := ports.AsTransient(err)
		if !ok || t.CircuitOpen || t.RetryAfter <= 0 || t.RetryAfter > h.opts.MaxWait {
			return err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < t.RetryAfter {
			return err
		}
		bump(counts, "rate_limit_waits", 1)
		timer := time.NewTimer(t.RetryAfter)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
	return call()
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
		return tx.ChatStatuses().Update(ctx, sync, ids, func(links map[string]*chatstatus.Link) error {
			for id, l := range links {
				changes, err := l.Observe(sightings[id], now)
				if errors.Is(err, chatstatus.ErrForbidden) {
					tally["refused"]++
				} else if err != nil {
					return fmt.Errorf("person %s: %w", id, err)
				}
				for _, c := range changes {
					tally["changes"]++
					if err := tx.Audit().Record(ctx, ports.AuditEntry{
						ActorKind: "system", ActorID: "chat_sync", Action: "chat_status.change",
						SubjectKind: "person", SubjectID: id, Outcome: ports.OutcomeSuccess, At: now,
						Details: map[string]any{"from": statusName(c.From), "to": string(c.To), "user_id": c.UserID, "sync": sync},
					}); err != nil {
						return err
					}
				}
				tally[string(l.Status())]++
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

// statusName names New for the audit log.
func statusName(s chatstatus.Status) string {
	if s == chatstatus.New {
		return "new"
	}
	return string(s)
}

package application

import (
	"context"
	"errors"
	"time"

	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
)

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

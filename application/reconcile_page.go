package application

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// errPageFull stops the listing of a reconciliation page.
var errPageFull = errors.New("reconciliation page full")

// Page returns the runner of the daily reconciliation as a paged job over
// DefaultReconcileWindow (from clock, fixed by the first page): each page
// lists up to 1,000 of the provider's events after the last one seen, looks
// them up at once and ingests the missing; the last page then queues the
// waiting events again and expires the stale ones. Its pages only read from
// the provider and write idempotently, so it is registered Repeatable.
// Without billing the run completes at once, recorded as skipped.
func (h ReconcileBilling) Page(clock ports.Clock) PageFunc {
	return func(ctx context.Context, cursor string, begin BeginPage) (map[string]any, error) {
		if !h.billing.Configured() {
			return skipped("not configured"), begin("", true)
		}
		since, after, err := parseReconcileCursor(cursor, clock)
		if err != nil {
			return nil, ports.Permanent(err)
		}
		var evs []ports.BillingEvent
		err = h.billing.ListEvents(ctx, since, after, func(ev ports.BillingEvent) error {
			if evs = append(evs, ev); len(evs) == reconcileChunk {
				return errPageFull
			}
			return nil
		})
		full := errors.Is(err, errPageFull)
		if err != nil && !full {
			return nil, err
		}
		if len(evs) > 0 {
			after = evs[len(evs)-1].ID
		}
		if err := begin(formatReconcileCursor(since, after), !full); err != nil {
			return nil, err
		}
		res := ReconcileResult{Seen: len(evs)}
		err = h.reconcileChunk(ctx, evs, false, &res)
		if err == nil && !full {
			if err = h.waiting.requeueDue(ctx, &res); err == nil {
				err = h.waiting.expire(ctx, &res)
			}
		}
		return map[string]any{"outcome": "reconciled", "seen": res.Seen, "present": res.Present, "enqueued": res.Enqueued,
			"requeued": res.Requeued, "expired": res.Expired}, err
	}
}

// A reconciliation cursor is "<since, unix seconds>/<last event id seen>".
func formatReconcileCursor(since time.Time, after string) string {
	return strconv.FormatInt(since.Unix(), 10) + "/" + after
}

// parseReconcileCursor reads a cursor; the first page's is empty and
// starts the window at clock's now.
func parseReconcileCursor(cursor string, clock ports.Clock) (time.Time, string, error) {
	if cursor == "" {
		return clock.Now().Add(-DefaultReconcileWindow).Truncate(time.Second), "", nil
	}
	secs, after, ok := strings.Cut(cursor, "/")
	n, err := strconv.ParseInt(secs, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", fmt.Errorf("reconciliation cursor %q is not <unix seconds>/<event id>", cursor)
	}
	return time.Unix(n, 0).UTC(), after, nil
}

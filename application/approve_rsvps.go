package application

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// RSVPPageSize is how many guests one page of the approval job lists and
// decides: one list call and up to 25 status updates take about 8 s at the
// platform's 200 calls a minute, inside a page budget of 15 s.
const RSVPPageSize = 25

// MaxGuestPages bounds the guest-list pages one run reads of one event
// (50,000 pending guests at 25 a page): a guest list whose cursors run in a
// circle ends there, is recorded unavailable and the run goes on.
const MaxGuestPages = 2000

// approvalCursor is where the approval job stands: the run's own id (the
// decisions carry it, so the summary is counted from them), the event in
// hand, the event list's cursor at it, and the guest list's cursor.
type approvalCursor struct {
	Run    string `json:"run"`
	Event  string `json:"event"`
	After  string `json:"after"`
	Guests string `json:"guests,omitempty"`
	// Pages counts the guest-list pages read of this event in this run.
	Pages int `json:"pages,omitempty"`
	// Prev is the guest-list cursor before Guests: a next cursor equal to
	// it is a list running in a circle of two.
	Prev string `json:"prev,omitempty"`
}

func (c approvalCursor) encode() string {
	b, _ := json.Marshal(c) //nolint:errchkjson // four strings always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeApprovalCursor(s string) (approvalCursor, error) {
	var c approvalCursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil || c.Run == "" || c.Event == "" {
		return c, ports.Permanent(fmt.Errorf("%w: not an approval job cursor", ErrInvalidInput))
	}
	return c, nil
}

// ApproveRSVPs is the twice-daily approval job, one page at a time: for
// every upcoming event it pages through the guests pending approval and
// has DecideRSVPs decide them. The first page only names the run and the
// first event. The summary counts the run's decisions, per event and in
// total, from the store, so it is right however often a page was retried.
// A rate limit ends the page with a transient error: the worker retries it
// after Retry-After, from the same cursor, and guests already decided get
// no second call.
type ApproveRSVPs struct {
	platform ports.EventPlatform
	events   ports.EventReader
	decide   DecideRSVPs
	runs     ports.RSVPRuns
	alerter  ports.Alerter
}

// NewApproveRSVPs refuses nil dependencies. The clock is decide's.
func NewApproveRSVPs(platform ports.EventPlatform, events ports.EventReader, decide DecideRSVPs, runs ports.RSVPRuns, alerter ports.Alerter) (ApproveRSVPs, error) {
	if anyNil(platform, events, runs, alerter) || decide.uow == nil || decide.clock == nil {
		return ApproveRSVPs{}, nilDependency("approve rsvps")
	}
	return ApproveRSVPs{platform: platform, events: events, decide: decide, runs: runs, alerter: alerter}, nil
}

// Handle runs the page at cursor; it is the job's PageFunc. Unconfigured,
// the run is recorded as skipped, "not configured".
func (h ApproveRSVPs) Handle(ctx context.Context, cursor string, begin BeginPage) (map[string]any, error) {
	if !h.platform.Configured() {
		return skipped("not configured"), begin("", true)
	}
	if cursor == "" {
		return h.start(ctx, begin)
	}
	c, err := decodeApprovalCursor(cursor)
	if err != nil {
		return nil, err
	}
	ev, err := h.events.Get(ctx, c.Event)
	if errors.Is(err, ports.ErrNotFound) {
		next, last, err := h.nextEvent(ctx, c)
		if err != nil {
			return nil, err
		}
		return h.summary(ctx, c.Run, begin(next, last))
	}
	if err != nil {
		return nil, fmt.Errorf("approve rsvps: event %s: %w", c.Event, err)
	}
	var page ports.GuestPage
	if c.Pages >= MaxGuestPages {
		err = fmt.Errorf("%d pages read: %w", c.Pages, ports.ErrGuestListBroken)
	} else {
		page, err = h.platform.ListGuests(ctx, ports.GuestQuery{EventID: ev.PlatformID, Status: ports.GuestPendingApproval, Cursor: c.Guests, Limit: RSVPPageSize})
		if err == nil && page.HasMore && c.Prev != "" && page.Next == c.Prev {
			err = fmt.Errorf("the next cursor is the one before: %w", ports.ErrGuestListBroken)
		}
	}
	if errors.Is(err, ports.ErrNotFound) || errors.Is(err, ports.ErrGuestListBroken) {
		return h.skip(ctx, c, ev, err, begin)
	}
	if err != nil {
		return nil, fmt.Errorf("approve rsvps: list guests of event %s: %w", ev.ID, err)
	}
	next, last := "", false
	if page.HasMore {
		n := c
		n.Guests, n.Pages, n.Prev = page.Next, c.Pages+1, c.Guests
		next = n.encode()
	} else if next, last, err = h.nextEvent(ctx, c); err != nil {
		return nil, err
	}
	if err := begin(next, last); err != nil {
		return nil, err
	}
	if _, err := h.decide.Handle(ctx, DecideRSVPsInput{Event: ev, Guests: page.Guests, RunID: c.Run}); err != nil {
		return nil, err
	}
	return h.summary(ctx, c.Run, nil)
}

// start names the run and finds the first upcoming event.
func (h ApproveRSVPs) start(ctx context.Context, begin BeginPage) (map[string]any, error) {
	run, err := newToken()
	if err != nil {
		return nil, err
	}
	next, last, err := h.nextEvent(ctx, approvalCursor{Run: run})
	if err != nil {
		return nil, err
	}
	if err := begin(next, last); err != nil {
		return nil, err
	}
	return tallySummary(nil), nil
}

// nextEvent returns the cursor of the upcoming event after c's, or last
// when there is none.
func (h ApproveRSVPs) nextEvent(ctx context.Context, c approvalCursor) (next string, last bool, err error) {
	page, err := h.events.List(ctx, ports.EventFilter{When: ports.EventsUpcoming, Now: h.decide.clock.Now(), After: c.After, Limit: 1})
	if err != nil {
		return "", false, fmt.Errorf("approve rsvps: next event: %w", err)
	}
	if len(page.Events) == 0 {
		return "", true, nil
	}
	return approvalCursor{Run: c.Run, Event: page.Events[0].ID, After: page.Cursors[0]}.encode(), false, nil
}

// summary reads the run's decisions; pageErr, if any, wins.
func (h ApproveRSVPs) summary(ctx context.Context, run string, pageErr error) (map[string]any, error) {
	if pageErr != nil {
		return nil, pageErr
	}
	tally, err := h.runs.RunTally(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("approve rsvps: summary: %w", err)
	}
	return tallySummary(tally), nil
}

// tallySummary is the run's summary: "rsvps" holds the totals and
// "events" the counts per event id. Both are maps, so each page replaces
// them (numbers would be added up) with the store's current count.
func tallySummary(byEvent map[string]ports.RSVPTally) map[string]any {
	var total ports.RSVPTally
	events := make(map[string]any, len(byEvent))
	for id, t := range byEvent {
		total.Approved += t.Approved
		total.Declined += t.Declined
		total.LeftPending += t.LeftPending
		total.Errors += t.Errors
		total.Deferred += t.Deferred
		total.Deferrals += t.Deferrals
		events[id] = tallyMap(t)
	}
	return map[string]any{"rsvps": tallyMap(total), "events": events}
}

func tallyMap(t ports.RSVPTally) map[string]any {
	return map[string]any{"approved": t.Approved, "declined": t.Declined, "left_pending": t.LeftPending, "errors": t.Errors, "deferred": t.Deferred, "deferrals": t.Deferrals}
}

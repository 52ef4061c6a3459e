package luma_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/ports"
)

func newClient(t *testing.T, srv *lumafake.Server, cfg luma.Config) *luma.Client {
	t.Helper()
	cfg.APIURL = srv.URL
	if cfg.APIKey == "" {
		cfg.APIKey = lumafake.DefaultKey
	}
	c, err := luma.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreateAndGetEvent(t *testing.T) {
	t.Parallel()
	srv := lumafake.New()
	defer srv.Close()
	c := newClient(t, srv, luma.Config{})
	start := time.Date(2027, 3, 1, 18, 0, 0, 0, time.UTC)
	got, err := c.CreateEvent(t.Context(), ports.NewPlatformEvent{Name: "AI night", StartAt: start, EndAt: start.Add(2 * time.Hour),
		TimeZone: "Europe/Berlin", Capacity: 40, Description: "talks"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.URL != "https://lu.ma/"+got.ID || !got.StartAt.Equal(start) || got.TimeZone != "Europe/Berlin" {
		t.Errorf("created %+v", got)
	}
	evs := srv.Events()
	if len(evs) != 1 || evs[0].Capacity != 40 || !evs[0].EndAt.Equal(start.Add(2*time.Hour)) || evs[0].Description != "talks" {
		t.Errorf("stand-in holds %+v", evs)
	}
	if _, err := c.GetEvent(t.Context(), "evt-missing"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unknown event: %v, want ErrNotFound", err)
	}
	_, err = c.CreateEvent(t.Context(), ports.NewPlatformEvent{Name: "x", StartAt: start, TimeZone: "Mars/Olympus"})
	if !errors.Is(err, ports.ErrInvalidEvent) || !ports.IsPermanent(err) {
		t.Errorf("refused event: %v, want a permanent ErrInvalidEvent", err)
	}
}

func TestListGuestsPagesAndUpdateStatus(t *testing.T) {
	t.Parallel()
	srv := lumafake.New()
	defer srv.Close()
	srv.AddEvent("evt-1", "night", time.Now().Add(time.Hour))
	ids := make([]string, 7)
	for i := range ids {
		ids[i] = srv.AddGuest("evt-1", "g@example.org", "G")
	}
	c := newClient(t, srv, luma.Config{})
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := c.ListGuests(t.Context(), ports.GuestQuery{EventID: "evt-1", Status: ports.GuestPendingApproval, Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Guests) > 3 {
			t.Fatalf("page of %d", len(page.Guests))
		}
		for _, g := range page.Guests {
			seen = append(seen, g.ID)
			if g.Status != ports.GuestPendingApproval || g.Email != "g@example.org" {
				t.Errorf("guest %+v", g)
			}
			// Approving as we go does not move the next page.
			if err := c.UpdateGuestStatus(t.Context(), ports.GuestStatusUpdate{EventID: "evt-1", GuestID: g.ID, Status: ports.GuestApproved}); err != nil {
				t.Fatal(err)
			}
		}
		if !page.HasMore {
			break
		}
		cursor = page.Next
	}
	if len(seen) != len(ids) {
		t.Fatalf("listed %v, want %v", seen, ids)
	}
	for _, id := range ids {
		if g, _ := srv.Guest("evt-1", id); g.Status != "approved" {
			t.Errorf("guest %s is %s", id, g.Status)
		}
	}
	if _, err := c.ListGuests(t.Context(), ports.GuestQuery{EventID: "evt-1", Limit: ports.MaxGuestPage + 1}); !ports.IsPermanent(err) {
		t.Errorf("oversized page: %v, want permanent and no call", err)
	}
	if n := srv.Calls(luma.PathListGuests); n != 3 {
		t.Errorf("%d list calls, want 3", n)
	}
	err := c.UpdateGuestStatus(t.Context(), ports.GuestStatusUpdate{EventID: "evt-1", GuestID: "gst-none", Status: ports.GuestApproved})
	if !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unknown guest: %v", err)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     lumafake.Fault
		transient bool
		wait      time.Duration
	}{
		{"429 carries Retry-After", lumafake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 42}, true, 42 * time.Second},
		{"503 is transient", lumafake.Fault{Status: http.StatusServiceUnavailable}, true, 0},
		{"500 is transient", lumafake.Fault{Status: http.StatusInternalServerError}, true, 0},
		{"a timeout is transient", lumafake.Fault{Delay: 2 * time.Second}, true, 0},
		{"403 is permanent", lumafake.Fault{Status: http.StatusForbidden}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := lumafake.New()
			defer srv.Close()
			srv.AddEvent("evt-1", "night", time.Now())
			srv.Inject(func(int, *http.Request) *lumafake.Fault { f := tt.fault; return &f })
			c := newClient(t, srv, luma.Config{HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
			_, err := c.ListGuests(t.Context(), ports.GuestQuery{EventID: "evt-1", Limit: 10})
			te, ok := ports.AsTransient(err)
			if ok != tt.transient || (!tt.transient && !ports.IsPermanent(err)) {
				t.Fatalf("err = %v; transient %v, want %v", err, ok, tt.transient)
			}
			if ok && (te.RetryAfter != tt.wait || te.Provider != luma.Provider) {
				t.Errorf("transient %+v, want wait %s", te, tt.wait)
			}
		})
	}
}

func TestKeyAndConfiguration(t *testing.T) {
	t.Parallel()
	srv := lumafake.New()
	defer srv.Close()
	srv.AddEvent("evt-1", "night", time.Now())
	c := newClient(t, srv, luma.Config{APIKey: "wrong-key"})
	_, err := c.GetEvent(t.Context(), "evt-1")
	if !ports.IsPermanent(err) {
		t.Errorf("bad key: %v, want permanent", err)
	}
	if err != nil && containsKey(err.Error()) {
		t.Errorf("error carries the key: %v", err)
	}
	un, err := luma.New(luma.Config{})
	if err != nil || un.Configured() {
		t.Fatalf("unconfigured: %v %v", un.Configured(), err)
	}
	if _, err := un.GetEvent(t.Context(), "evt-1"); !errors.Is(err, ports.ErrNotConfigured) {
		t.Errorf("unconfigured call: %v", err)
	}
	if _, err := luma.New(luma.Config{APIKey: "k", APIURL: "ftp://x"}); err == nil {
		t.Error("accepted a non-http URL")
	}
}

func containsKey(s string) bool {
	for i := 0; i+len("wrong-key") <= len(s); i++ {
		if s[i:i+len("wrong-key")] == "wrong-key" {
			return true
		}
	}
	return false
}

// The client holds itself to the limit: at most RateLimit calls arrive in
// any RateWindow, so the stand-in, which enforces the same limit, never
// has to refuse one.
func TestRateWindowIsNeverExceeded(t *testing.T) {
	t.Parallel()
	srv := lumafake.New()
	defer srv.Close()
	srv.RateLimit, srv.RateWindow = 20, 300*time.Millisecond
	srv.AddEvent("evt-1", "night", time.Now())
	c := newClient(t, srv, luma.Config{RateLimit: 20, RateWindow: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	for range 65 {
		if _, err := c.GetEvent(ctx, "evt-1"); err != nil {
			t.Fatal(err)
		}
	}
	if most := srv.MaxInWindow(300 * time.Millisecond); most > 20 {
		t.Errorf("%d calls in one window, limit 20", most)
	}
	if srv.RateLimited() != 0 {
		t.Errorf("the stand-in refused %d calls", srv.RateLimited())
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("65 calls at 20 per 300ms took %s; the limit did not hold", took)
	}
}

// TestGuestListThatCannotBePagedIsRefused: a page longer than asked for,
// has_more without a cursor, and has_more with the cursor just sent (a
// list that would loop without end) are each a permanent
// ports.ErrGuestListBroken, which the approval job skips the event for.
func TestGuestListThatCannotBePagedIsRefused(t *testing.T) {
	t.Parallel()
	entry := map[string]any{"id": "gst-1", "user_email": "a@example.test", "approval_status": "pending_approval"}
	tests := []struct {
		name   string
		cursor string
		body   map[string]any
	}{
		{"20,000 entries for a limit of 25", "", map[string]any{"entries": func() []any {
			out := make([]any, 20000)
			for i := range out {
				out[i] = entry
			}
			return out
		}(), "has_more": false}},
		{"has_more without a cursor", "", map[string]any{"entries": []any{entry}, "has_more": true, "next_cursor": ""}},
		{"has_more with the cursor sent", "c-7", map[string]any{"entries": []any{entry}, "has_more": true, "next_cursor": "c-7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := lumafake.New()
			defer srv.Close()
			srv.Inject(func(int, *http.Request) *lumafake.Fault { return &lumafake.Fault{Body: tt.body} })
			c := newClient(t, srv, luma.Config{})
			_, err := c.ListGuests(t.Context(), ports.GuestQuery{EventID: "evt-1", Cursor: tt.cursor, Limit: 25})
			if !errors.Is(err, ports.ErrGuestListBroken) || !ports.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent ErrGuestListBroken", err)
			}
		})
	}
}

// TestCreateEventOutcome: a lost answer (Luma acted, the client timed out)
// and a gateway's 502 are ErrOutcomeUnknown; a 503, a 429 and a refusal
// are certain (not ErrOutcomeUnknown): Luma made nothing.
func TestCreateEventOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   lumafake.Fault
		unknown bool
		created int
	}{
		{"answer lost after the creation", lumafake.Fault{Lost: time.Second}, true, 1},
		{"502 from a gateway", lumafake.Fault{Status: http.StatusBadGateway}, true, 0},
		{"503", lumafake.Fault{Status: http.StatusServiceUnavailable, RetryAfter: 3}, false, 0},
		{"429", lumafake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 3}, false, 0},
		{"403", lumafake.Fault{Status: http.StatusForbidden}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := lumafake.New()
			defer srv.Close()
			srv.Inject(func(int, *http.Request) *lumafake.Fault { f := tt.fault; return &f })
			c := newClient(t, srv, luma.Config{HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
			start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
			_, err := c.CreateEvent(t.Context(), ports.NewPlatformEvent{Name: "night", StartAt: start, EndAt: start.Add(time.Hour), TimeZone: "UTC", Capacity: 5})
			if err == nil || errors.Is(err, ports.ErrOutcomeUnknown) != tt.unknown {
				t.Fatalf("err = %v; outcome unknown %v, want %v", err, errors.Is(err, ports.ErrOutcomeUnknown), tt.unknown)
			}
			if n := len(srv.Events()); n != tt.created {
				t.Errorf("%d events at the stand-in, want %d", n, tt.created)
			}
		})
	}
}

package luma

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// The wire types of the calls, as Luma's OpenAPI document names them.
type (
	createEventRequest struct {
		Name          string `json:"name"`
		StartAt       string `json:"start_at"`
		Timezone      string `json:"timezone"`
		EndAt         string `json:"end_at,omitempty"`
		DescriptionMD string `json:"description_md,omitempty"`
		MaxCapacity   int    `json:"max_capacity,omitempty"`
	}
	createEventResponse struct {
		ID string `json:"id"`
	}
	eventResponse struct {
		ID       string    `json:"id"`
		URL      string    `json:"url"`
		Name     string    `json:"name"`
		StartAt  time.Time `json:"start_at"`
		EndAt    time.Time `json:"end_at"`
		Timezone string    `json:"timezone"`
	}
	guestEntry struct {
		ID             string    `json:"id"`
		UserEmail      string    `json:"user_email"`
		UserName       string    `json:"user_name"`
		ApprovalStatus string    `json:"approval_status"`
		RegisteredAt   time.Time `json:"registered_at"`
	}
	guestListResponse struct {
		Entries    []guestEntry `json:"entries"`
		HasMore    bool         `json:"has_more"`
		NextCursor string       `json:"next_cursor"`
	}
	updateStatusRequest struct {
		EventID   string `json:"event_id"`
		GuestID   string `json:"guest_id"`
		Status    string `json:"status"`
		SendEmail bool   `json:"send_email"`
	}
)

// The paths of the current /v1/events/* family.
const (
	PathCreateEvent  = "/v1/events/create"
	PathGetEvent     = "/v1/events/get"
	PathListGuests   = "/v1/events/guests/list"
	PathUpdateStatus = "/v1/events/guests/update-status"
)

// CreateEvent creates the event on Luma and returns it as Luma shows it
// (with its public URL, read back from Luma).
func (c *Client) CreateEvent(ctx context.Context, e ports.NewPlatformEvent) (ports.PlatformEvent, error) {
	req := createEventRequest{
		Name: e.Name, StartAt: e.StartAt.UTC().Format(time.RFC3339), Timezone: e.TimeZone,
		DescriptionMD: e.Description, MaxCapacity: e.Capacity,
	}
	if !e.EndAt.IsZero() {
		req.EndAt = e.EndAt.UTC().Format(time.RFC3339)
	}
	var resp createEventResponse
	if err := c.do(ctx, "create event", http.MethodPost, PathCreateEvent, nil, req, &resp); err != nil {
		var apiErr *Error
		switch {
		case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
			return ports.PlatformEvent{}, fmt.Errorf("%w: %w", err, ports.ErrInvalidEvent)
		case outcomeUnknown(err):
			return ports.PlatformEvent{}, fmt.Errorf("%w: %w", err, ports.ErrOutcomeUnknown)
		}
		return ports.PlatformEvent{}, err
	}
	if resp.ID == "" {
		return ports.PlatformEvent{}, ports.Permanent(errors.New("luma: create event: the answer has no id"))
	}
	got, err := c.GetEvent(ctx, resp.ID)
	if err != nil {
		// The event exists: return its id, so that the caller records it.
		return ports.PlatformEvent{ID: resp.ID, Name: e.Name, StartAt: e.StartAt, EndAt: e.EndAt, TimeZone: e.TimeZone}, err
	}
	return got, nil
}

// GetEvent returns the event; ports.ErrNotFound when Luma does not know it.
func (c *Client) GetEvent(ctx context.Context, id string) (ports.PlatformEvent, error) {
	if id == "" {
		return ports.PlatformEvent{}, ports.ErrNotFound
	}
	var resp eventResponse
	if err := c.do(ctx, "get event", http.MethodGet, PathGetEvent, url.Values{"event_id": {id}}, nil, &resp); err != nil {
		return ports.PlatformEvent{}, err
	}
	return ports.PlatformEvent{ID: resp.ID, URL: resp.URL, Name: resp.Name, StartAt: resp.StartAt, EndAt: resp.EndAt, TimeZone: resp.Timezone}, nil
}

// ListGuests returns one page of the event's guests with the status asked.
func (c *Client) ListGuests(ctx context.Context, q ports.GuestQuery) (ports.GuestPage, error) {
	if q.EventID == "" || q.Limit < 1 || q.Limit > ports.MaxGuestPage {
		return ports.GuestPage{}, ports.Permanent(fmt.Errorf("luma: list guests: need an event and a limit of 1..%d", ports.MaxGuestPage))
	}
	v := url.Values{"event_id": {q.EventID}, "pagination_limit": {itoa(q.Limit)}}
	if q.Status != "" {
		v.Set("approval_status", string(q.Status))
	}
	if q.Cursor != "" {
		v.Set("pagination_cursor", q.Cursor)
	}
	var resp guestListResponse
	if err := c.do(ctx, "list guests", http.MethodGet, PathListGuests, v, nil, &resp); err != nil {
		return ports.GuestPage{}, err
	}
	if len(resp.Entries) > q.Limit {
		return ports.GuestPage{}, ports.Permanent(fmt.Errorf("luma: list guests: %d entries for a limit of %d: %w", len(resp.Entries), q.Limit, ports.ErrGuestListBroken))
	}
	page := ports.GuestPage{Guests: make([]ports.PlatformGuest, 0, len(resp.Entries)), Next: resp.NextCursor, HasMore: resp.HasMore}
	switch {
	case page.HasMore && page.Next == "":
		return ports.GuestPage{}, ports.Permanent(fmt.Errorf("luma: list guests: has_more without a next_cursor: %w", ports.ErrGuestListBroken))
	case page.HasMore && page.Next == q.Cursor:
		return ports.GuestPage{}, ports.Permanent(fmt.Errorf("luma: list guests: the next_cursor is the one sent: %w", ports.ErrGuestListBroken))
	}
	for _, g := range resp.Entries {
		st, err := ports.ParseGuestStatus(g.ApprovalStatus)
		if err != nil {
			st = "" // a status the application does not act on (invited, session, ...)
		}
		page.Guests = append(page.Guests, ports.PlatformGuest{ID: g.ID, Email: g.UserEmail, Name: g.UserName, Status: st, RegisteredAt: g.RegisteredAt})
	}
	return page, nil
}

// UpdateGuestStatus sets the guest's approval status. Luma sends the guest
// its own email about the change.
func (c *Client) UpdateGuestStatus(ctx context.Context, u ports.GuestStatusUpdate) error {
	if u.EventID == "" || u.GuestID == "" {
		return ports.Permanent(errors.New("luma: update guest status: need an event and a guest"))
	}
	if _, err := ports.ParseGuestStatus(string(u.Status)); err != nil {
		return ports.Permanent(fmt.Errorf("luma: update guest status: %w", err))
	}
	req := updateStatusRequest{EventID: u.EventID, GuestID: u.GuestID, Status: string(u.Status), SendEmail: true}
	return c.do(ctx, "update guest status", http.MethodPost, PathUpdateStatus, nil, req, nil)
}

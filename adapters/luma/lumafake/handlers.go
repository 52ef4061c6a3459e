package lumafake

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func (s *Server) createEvent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string `json:"name"`
		StartAt       string `json:"start_at"`
		Timezone      string `json:"timezone"`
		EndAt         string `json:"end_at"`
		DescriptionMD string `json:"description_md"`
		MaxCapacity   int    `json:"max_capacity"`
		Visibility    string `json:"visibility"`
		MeetingURL    string `json:"meeting_url"`
	}
	if !decode(w, r, &in) {
		return
	}
	start, err := time.Parse(time.RFC3339, in.StartAt)
	if in.Name == "" || err != nil || in.Timezone == "" {
		problem(w, http.StatusBadRequest, "name, start_at (RFC 3339) and timezone are required")
		return
	}
	if _, err := time.LoadLocation(in.Timezone); err != nil {
		problem(w, http.StatusBadRequest, "unknown timezone")
		return
	}
	end := start.Add(time.Hour)
	if in.EndAt != "" {
		if end, err = time.Parse(time.RFC3339, in.EndAt); err != nil || !end.After(start) {
			problem(w, http.StatusBadRequest, "end_at must be RFC 3339 and after start_at")
			return
		}
	}
	if in.MaxCapacity < 0 {
		problem(w, http.StatusBadRequest, "max_capacity must not be negative")
		return
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("evt-%06d", s.seq)
	s.events[id] = &Event{ID: id, Name: in.Name, Timezone: in.Timezone, Description: in.DescriptionMD, StartAt: start, EndAt: end, Capacity: in.MaxCapacity}
	s.order = append(s.order, id)
	s.mu.Unlock()
	reply(w, map[string]string{"id": id})
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("event_id")
	s.mu.Lock()
	e, ok := s.events[id]
	var ev Event
	if ok {
		ev = *e
	}
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "event not found")
		return
	}
	reply(w, map[string]any{"id": ev.ID, "url": "https://lu.ma/" + ev.ID, "name": ev.Name,
		"start_at": ev.StartAt.UTC().Format(time.RFC3339), "end_at": ev.EndAt.UTC().Format(time.RFC3339), "timezone": ev.Timezone})
}

func (s *Server) listGuests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, status := q.Get("event_id"), q.Get("approval_status")
	limit, err := strconv.Atoi(q.Get("pagination_limit"))
	if err != nil || limit < 1 || limit > 100 {
		problem(w, http.StatusBadRequest, "pagination_limit must be 1..100")
		return
	}
	switch status {
	case "", "pending_approval", "approved", "declined", "waitlist", "invited", "session":
	default:
		problem(w, http.StatusBadRequest, "unknown approval_status")
		return
	}
	after := ""
	if c := q.Get("pagination_cursor"); c != "" {
		var ok bool
		if after, ok = decodeCursor(c); !ok {
			problem(w, http.StatusBadRequest, "invalid pagination_cursor")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.events[id]; !ok {
		problem(w, http.StatusNotFound, "event not found")
		return
	}
	entries := []map[string]any{}
	passed, more, last := after == "", false, ""
	for _, g := range s.guests[id] {
		if !passed {
			passed = g.ID == after
			continue
		}
		if status != "" && g.Status != status {
			continue
		}
		if len(entries) == limit {
			more = true
			break
		}
		entries = append(entries, map[string]any{"id": g.ID, "user_email": g.Email, "user_name": g.Name,
			"approval_status": g.Status, "registered_at": "2026-01-01T00:00:00Z"})
		last = g.ID
	}
	next := ""
	if more {
		next = encodeCursor(last)
	}
	reply(w, map[string]any{"entries": entries, "has_more": more, "next_cursor": next})
}

func (s *Server) updateStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		EventID   string `json:"event_id"`
		GuestID   string `json:"guest_id"`
		Status    string `json:"status"`
		SendEmail *bool  `json:"send_email"`
		Message   string `json:"message"`
	}
	if !decode(w, r, &in) {
		return
	}
	switch in.Status {
	case "approved", "declined", "pending_approval", "waitlist":
	default:
		problem(w, http.StatusBadRequest, "status must be approved, declined, pending_approval or waitlist")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.guests[in.EventID] {
		if g.ID == in.GuestID {
			g.Status = in.Status
			s.updates[g.ID]++
			reply(w, map[string]any{})
			return
		}
	}
	problem(w, http.StatusNotFound, "guest not found")
}

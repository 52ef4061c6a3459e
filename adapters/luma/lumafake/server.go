// Package lumafake is an httptest stand-in for Luma's public API that
// enforces the contract the luma client relies on: the x-luma-api-key
// header, the /v1/events/* paths and methods, the request bodies (known
// fields only, required ones present, times in RFC 3339, a known time zone
// and status), page sizes of 1 to 100, cursors it issued, and Luma's rate
// limit (200 requests a minute by default: the next one is answered 429
// with Retry-After). It counts every call, and can inject 429s, 5xx
// answers and slow answers (timeouts). Like Luma, it sends a signed
// guest.registered webhook for a guest (SendGuestRegistered, webhook.go).
//
// The guest list is paged by an opaque cursor naming the last guest of the
// page, so a page's guests changing status does not move the next page.
package lumafake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// DefaultKey is the key the stand-in accepts unless Key is changed first.
const DefaultKey = "luma-test-key"

// Fault is an injected answer: Status (429, 500, ...) with RetryAfter
// seconds, after Delay. A zero Status with a Delay answers normally, late.
// Body, with a zero Status, is answered as 200 with that JSON instead of
// the stand-in's own answer (an oversized page, a cursor that never
// moves). Lost makes the stand-in act on the call at once and hold its
// answer that long: a client that gives up sooner never learns that the
// call took effect.
type Fault struct {
	Status     int
	RetryAfter int
	Delay      time.Duration
	Body       any
	Lost       time.Duration
}

// Guest is a guest as the stand-in stores it.
type Guest struct {
	ID     string
	Email  string
	Name   string
	Status string
}

// Event is an event as the stand-in stores it.
type Event struct {
	ID, Name, Timezone, Description string
	StartAt, EndAt                  time.Time
	Capacity                        int
}

// Server is the stand-in. Its exported fields may be set before the first
// call.
type Server struct {
	*httptest.Server
	Key string
	// RateLimit requests are allowed in any RateWindow (200 a minute).
	RateLimit  int
	RateWindow time.Duration

	mu      sync.Mutex
	events  map[string]*Event
	order   []string // event ids in creation order
	guests  map[string][]*Guest
	calls   map[string]int // by path
	updates map[string]int // update-status calls by guest id
	arrived []time.Time
	limited int // answers 429 because of the rate limit
	fault   func(n int, r *http.Request) *Fault
	n       int
	seq     int
}

// New starts a stand-in; Close it when done.
func New() *Server {
	s := &Server{Key: DefaultKey, RateLimit: 200, RateWindow: time.Minute,
		events: map[string]*Event{}, guests: map[string][]*Guest{}, calls: map[string]int{}, updates: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/events/create", s.createEvent)
	mux.HandleFunc("GET /v1/events/get", s.getEvent)
	mux.HandleFunc("GET /v1/events/guests/list", s.listGuests)
	mux.HandleFunc("POST /v1/events/guests/update-status", s.updateStatus)
	s.Server = httptest.NewServer(s.guard(mux))
	return s
}

// Inject sets the fault function, asked before every call with the call's
// number (from 1, counting every call); nil answers normally.
func (s *Server) Inject(f func(n int, r *http.Request) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// AddEvent stores an event as if created on Luma.
func (s *Server) AddEvent(id, name string, start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[id] = &Event{ID: id, Name: name, StartAt: start, EndAt: start.Add(time.Hour), Timezone: "UTC"}
	s.order = append(s.order, id)
}

// RemoveEvent deletes an event, as a leader deleting it on Luma does: the
// stand-in then answers 404 for it.
func (s *Server) RemoveEvent(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.events, id)
}

// AddGuest registers a guest pending approval and returns its id.
func (s *Server) AddGuest(eventID, email, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	g := &Guest{ID: fmt.Sprintf("gst-%06d", s.seq), Email: email, Name: name, Status: "pending_approval"}
	s.guests[eventID] = append(s.guests[eventID], g)
	return g.ID
}

// Guest returns a copy of the guest.
func (s *Server) Guest(eventID, guestID string) (Guest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.guests[eventID] {
		if g.ID == guestID {
			return *g, true
		}
	}
	return Guest{}, false
}

// Events returns the events created and not removed, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, 0, len(s.order))
	for _, id := range s.order {
		if e, ok := s.events[id]; ok {
			out = append(out, *e)
		}
	}
	return out
}

// Calls returns how many calls reached path (whatever their answer).
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Updates returns the update-status calls per guest id that succeeded.
func (s *Server) Updates() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.updates))
	for k, v := range s.updates {
		out[k] = v
	}
	return out
}

// RateLimited returns how many calls were refused for the rate limit.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// MaxInWindow returns the most calls that arrived within any span of per.
func (s *Server) MaxInWindow(per time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	most, lo := 0, 0
	for hi, t := range s.arrived {
		for t.Sub(s.arrived[lo]) >= per {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// guard checks the key, counts the call, applies the rate limit and any
// injected fault.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		now := time.Now()
		s.n++
		n := s.n
		s.calls[r.URL.Path]++
		if r.Header.Get("x-luma-api-key") != s.Key {
			s.mu.Unlock()
			problem(w, http.StatusUnauthorized, "invalid api key")
			return
		}
		inWindow := 0
		for i := len(s.arrived) - 1; i >= 0 && now.Sub(s.arrived[i]) < s.RateWindow; i-- {
			inWindow++
		}
		s.arrived = append(s.arrived, now)
		if inWindow >= s.RateLimit {
			s.limited++
			s.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(int(s.RateWindow.Seconds()+0.999)))
			problem(w, http.StatusTooManyRequests, "rate limited")
			return
		}
		var f *Fault
		if s.fault != nil {
			f = s.fault(n, r)
		}
		s.mu.Unlock()
		if f != nil && s.answerFault(w, r, f, next) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// answerFault applies the injected fault f and reports whether it answered
// the call; false lets the call through, answered normally.
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f *Fault, next http.Handler) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		problem(w, f.Status, http.StatusText(f.Status))
	case f.Body != nil:
		reply(w, f.Body)
	case f.Lost > 0:
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		select {
		case <-time.After(f.Lost):
		case <-r.Context().Done():
			return true
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	default:
		return false
	}
	return true
}

func problem(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body with known fields only.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		problem(w, http.StatusUnsupportedMediaType, "json body expected")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		problem(w, http.StatusBadRequest, "invalid body: "+err.Error())
		return false
	}
	return true
}

func encodeCursor(guestID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + guestID))
}

func decodeCursor(c string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) < 7 || string(raw[:6]) != "after:" {
		return "", false
	}
	return string(raw[6:]), true
}

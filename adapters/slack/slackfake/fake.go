// Package slackfake serves a Slack workspace for tests on slack-go's own
// slacktest server. slacktest answers users.lookupByEmail with one fixed
// user and has no users.list at all; this package adds both, backed by the
// workspace's accounts, and enforces Slack's published contract:
//
//   - the bot token travels in the form ("token") or as a Bearer header;
//     any other answers not_authed / invalid_auth;
//   - users.list pages by cursor, limit 1 to 1,000, deleted accounts
//     included, next_cursor "" on the last page; an unknown cursor answers
//     invalid_cursor;
//   - users.lookupByEmail matches the address ignoring case and answers
//     users_not_found otherwise;
//   - an injected rate limit answers 429 with Retry-After.
//
// Every request is counted at the server, by method.
package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Token is the bot token the server accepts.
const Token = "xoxb-test-token" //nolint:gosec // a fake server's test token, not a credential

// Account is one account of the fake workspace.
type Account struct {
	ID         string
	Email      string
	Restricted bool
	Deleted    bool
	Bot        bool
	// HideEmail leaves the address out of users.list (a token without
	// users:read.email); users.lookupByEmail still finds it.
	HideEmail bool
}

// Server is a running fake workspace.
type Server struct {
	sts *slacktest.Server

	mu       sync.Mutex
	accounts []Account
	index    map[string]int // id → position
	calls    map[string]int
	pages    []string // cursors of the users.list pages answered with ok
	limited  []limit
	endless  bool
}

type limit struct {
	method, cursor string
	retryAfter     int
}

// New starts a server with the accounts, in users.list order. Stop it with
// Close.
func New(accounts ...Account) *Server {
	s := &Server{index: map[string]int{}, calls: map[string]int{}}
	s.Put(accounts...)
	s.sts = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/users.list", s.counted("users.list", s.usersList))
		c.Handle("/users.lookupByEmail", s.counted("users.lookupByEmail", s.lookupByEmail))
	})
	s.sts.Start()
	return s
}

// URL is the API root, for the adapter's APIURL.
func (s *Server) URL() string { return s.sts.GetAPIURL() }

// Close stops the server.
func (s *Server) Close() { s.sts.Stop() }

// Put adds accounts, or replaces those with the same id in place.
func (s *Server) Put(accounts ...Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range accounts {
		if i, ok := s.index[a.ID]; ok {
			s.accounts[i] = a
			continue
		}
		s.index[a.ID] = len(s.accounts)
		s.accounts = append(s.accounts, a)
	}
}

// RateLimit makes the next request of method (for users.list, the one at
// cursor; "" is the first page) answer 429 with Retry-After seconds.
func (s *Server) RateLimit(method, cursor string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited = append(s.limited, limit{method: method, cursor: cursor, retryAfter: retryAfter})
}

// Endless makes users.list misbehave: its last page hands out the first
// page's cursor instead of "", so a client that follows it never ends.
func (s *Server) Endless() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endless = true
}

// Calls counts the requests of method ("" for all of them), the rate
// limited ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method != "" {
		return s.calls[method]
	}
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// Pages returns the cursor of every users.list page answered, in order.
func (s *Server) Pages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.pages...)
}

func (s *Server) counted(method string, h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.calls[method]++
		s.mu.Unlock()
		token := r.PostForm.Get("token")
		if token == "" {
			token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		switch token {
		case Token:
		case "":
			answer(w, map[string]any{"ok": false, "error": "not_authed"})
			return
		default:
			answer(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		h(w, r, method)
	}
}

// takeLimit removes and returns an injected rate limit for the request.
func (s *Server) takeLimit(method, cursor string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.limited {
		if l.method == method && (method != "users.list" || l.cursor == cursor) {
			s.limited = append(s.limited[:i], s.limited[i+1:]...)
			return l.retryAfter, true
		}
	}
	return 0, false
}

func (s *Server) usersList(w http.ResponseWriter, r *http.Request, method string) {
	cursor := r.PostForm.Get("cursor")
	if secs, ok := s.takeLimit(method, cursor); ok {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	n, err := strconv.Atoi(r.PostForm.Get("limit"))
	if err != nil || n < 1 || n > 1000 {
		answer(w, map[string]any{"ok": false, "error": "invalid_limit"})
		return
	}
	from := 0
	if cursor != "" {
		if from, err = decodeCursor(cursor); err != nil {
			answer(w, map[string]any{"ok": false, "error": "invalid_cursor"})
			return
		}
	}
	s.mu.Lock()
	if from > len(s.accounts) {
		s.mu.Unlock()
		answer(w, map[string]any{"ok": false, "error": "invalid_cursor"})
		return
	}
	to := min(from+n, len(s.accounts))
	members := make([]slack.User, 0, to-from)
	for _, a := range s.accounts[from:to] {
		members = append(members, a.user(!a.HideEmail))
	}
	s.pages = append(s.pages, cursor)
	next := ""
	switch {
	case to < len(s.accounts):
		next = encodeCursor(to)
	case s.endless:
		next = encodeCursor(0)
	}
	s.mu.Unlock()
	answer(w, map[string]any{"ok": true, "members": members, "response_metadata": map[string]string{"next_cursor": next}})
}

func (s *Server) lookupByEmail(w http.ResponseWriter, r *http.Request, method string) {
	if secs, ok := s.takeLimit(method, ""); ok {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if email == "" {
		answer(w, map[string]any{"ok": false, "error": "invalid_email"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if a.Email != "" && strings.EqualFold(a.Email, email) {
			answer(w, map[string]any{"ok": true, "user": a.user(true)})
			return
		}
	}
	answer(w, map[string]any{"ok": false, "error": "users_not_found"})
}

func (a Account) user(withEmail bool) slack.User {
	u := slack.User{ID: a.ID, Name: strings.ToLower(a.ID), Deleted: a.Deleted, IsBot: a.Bot, IsRestricted: a.Restricted}
	if withEmail {
		u.Profile.Email = a.Email
	}
	return u
}

// CursorAt is the users.list cursor of the page that starts at offset.
func CursorAt(offset int) string { return encodeCursor(offset) }

func encodeCursor(offset int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "user:%d", offset))
}

func decodeCursor(c string) (int, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	rest, ok := strings.CutPrefix(string(b), "user:")
	if !ok {
		return 0, fmt.Errorf("cursor %q", c)
	}
	return strconv.Atoi(rest)
}

func answer(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// Package mailchimpfake is an in-process stand-in for the Mailchimp
// Marketing API v3, for tests of any package that talks to Mailchimp through
// adapters/mailchimp.
//
// It enforces the published contract and records every breach in
// Violations (tests assert there are none): HTTP Basic auth with the key,
// the API root /3.0, the paths of the calls the platform makes, member
// hashes equal to md5(lowercase(trimmed email)) (a PUT may name the OLD
// hash of an existing member to change its address), JSON bodies with their
// required fields and known fields only, at most 500 members a batch, at
// most 10 requests in flight, and consent: a `status` that would subscribe
// (or re-confirm) an unsubscribed or cleaned member is refused with
// Mailchimp's 400 "Member In Compliance State" and recorded.
//
// It is stateful like Mailchimp: members by hash with email, status, merge
// fields, active tags and an archived flag; journey triggers are recorded.
// An archived member that had unsubscribed or been cleaned cannot be re-added
// (400 "Member In Compliance State", as Mailchimp answers).
//
// Faults are injected with FailNext and SetFaultRate. They come before any
// other handling and change no state. With a fault rate, which requests fail
// is decided by a random source seeded with Seed (1 by default), so a
// sequence of calls made one after the other fails the same way every run.
package mailchimpfake

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// connLimit is Mailchimp's limit of simultaneous connections per user.
const connLimit = 10

// apiRoot is the path prefix of the API, as on Mailchimp's hosts.
const apiRoot = "/3.0"

// defaultHang is how long a timeout fault holds a request when neither the
// client nor the test gives up first: Mailchimp's own 120 s.
const defaultHang = 120 * time.Second

// FaultKind is a failure the fake can inject.
type FaultKind string

// The faults.
const (
	Fault429       FaultKind = "429"         // 429 Too Many Requests, problem+json
	Fault500       FaultKind = "500"         // 500 Internal Server Error, problem+json
	Fault403NoBody FaultKind = "403-no-body" // 403 with an empty body: Mailchimp's connection-limit answer
	FaultTimeout   FaultKind = "timeout"     // no answer until the request's context ends (or SetHang elapses: then 504)
)

var allFaults = []FaultKind{Fault429, Fault500, Fault403NoBody, FaultTimeout}

// Call is one request the fake received.
type Call struct {
	Method     string
	Path       string // relative to URL(): "/lists/L1/members/<hash>"
	Query      string // the raw query, "" when none
	Body       []byte
	Authorized bool      // HTTP Basic auth carried the key
	Fault      FaultKind // the injected fault, "" when none
	Status     int       // the fake's answer; 0 when the client gave up first
}

// Member is the state of one member of the list.
type Member struct {
	Email       string
	Status      ports.SubscriberStatus // consent status; an archived member keeps the one it had
	MergeFields map[string]string
	Tags        []string // the active tags, sorted
	Archived    bool
}

// Trigger is one journey trigger the fake accepted.
type Trigger struct {
	JourneyID string
	StepID    string
	Email     string
}

// Owner is what the stand-in needs from whoever runs it: a *testing.T or
// *testing.B in tests, or a long-running owner outside them (`wdai dev`),
// where Fatal reports a misuse of the stand-in and Cleanup runs at its end.
type Owner interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Server is the fake Mailchimp API. Its methods are safe for concurrent use.
type Server struct {
	tb      Owner
	srv     *httptest.Server
	apiKey  string
	listID  string
	mux     *http.ServeMux
	closing chan struct{}

	mu          sync.Mutex
	members     map[string]*member // by subscriber hash
	calls       []Call
	triggers    []Trigger
	violations  []string
	failNext    []FaultKind
	faultRate   float64
	faultKinds  []FaultKind
	rng         *rand.Rand
	delay       time.Duration
	hang        time.Duration
	inFlight    int
	maxInFlight int
	instance    int
}

type member struct {
	email    string
	status   ports.SubscriberStatus // never "archived": see archived
	merge    map[string]string
	tags     map[string]bool // the active tags
	archived bool
}

// New starts a fake for one API key and one list; it stops when the test
// ends. Give its URL() to the client as the API root.
func New(tb Owner, apiKey, listID string) *Server {
	tb.Helper()
	s := &Server{
		tb:      tb,
		apiKey:  apiKey,
		listID:  listID,
		closing: make(chan struct{}),
		members: make(map[string]*member),
		rng:     newRand(1),
		hang:    defaultHang,
	}
	s.routes()
	s.srv = httptest.NewServer(s)
	tb.Cleanup(func() {
		close(s.closing) // releases held requests
		s.srv.Close()
	})
	return s
}

// URL is the API root, the equivalent of https://us6.api.mailchimp.com/3.0.
func (s *Server) URL() string { return s.srv.URL + apiRoot }

// newRand is the seeded source of fault decisions.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)) //nolint:gosec // deterministic fault injection, not security
}

// SetStatus sets the consent status of email's member, adding the member
// when it is missing. SubscriberArchived archives it, keeping its status.
func (s *Server) SetStatus(email string, status ports.SubscriberStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := subscriberHash(email)
	m := s.members[h]
	if m == nil {
		m = &member{email: strings.TrimSpace(email), status: ports.SubscriberSubscribed, merge: map[string]string{}, tags: map[string]bool{}}
		s.members[h] = m
	}
	if status == ports.SubscriberArchived {
		m.archived = true
		return
	}
	m.status = status
	m.archived = false
}

// Member returns the member under email's hash.
func (s *Server) Member(email string) (Member, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.members[subscriberHash(email)]
	if m == nil {
		return Member{}, false
	}
	return m.export(), true
}

// Members returns every member, archived ones included, sorted by email.
func (s *Server) Members() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Member, 0, len(s.members))
	for _, m := range s.members {
		out = append(out, m.export())
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Email, b.Email) })
	return out
}

func (m *member) export() Member {
	out := Member{Email: m.email, Status: m.status, MergeFields: make(map[string]string, len(m.merge)), Archived: m.archived}
	for k, v := range m.merge {
		out.MergeFields[k] = v
	}
	out.Tags = m.activeTags()
	return out
}

func (m *member) activeTags() []string {
	tags := []string{}
	for t, on := range m.tags {
		if on {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return tags
}

// Calls returns the requests received so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.calls)
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body)
	}
	return out
}

// CallCount returns how many requests were received.
func (s *Server) CallCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Triggers returns the journey triggers accepted, in order.
func (s *Server) Triggers() []Trigger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.triggers)
}

// Violations returns the breaches of the contract seen, one line each.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// AssertNoViolations fails tb for each contract breach seen.
func (s *Server) AssertNoViolations(tb testing.TB) {
	tb.Helper()
	for _, v := range s.Violations() {
		tb.Errorf("mailchimp contract violation: %s", v)
	}
}

// MaxInFlight returns the largest number of requests the fake was handling
// at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// FailNext makes the next n requests fail with kind, before any fault rate.
func (s *Server) FailNext(n int, kind FaultKind) {
	s.tb.Helper()
	if !slices.Contains(allFaults, kind) {
		s.tb.Fatalf("mailchimpfake: unknown fault kind %q", kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext = append(s.failNext, kind)
	}
}

// SetFaultRate makes each request fail with probability p (0 turns it off),
// with one of kinds drawn at random (all kinds when none is given). The
// draws come from the source Seed sets.
func (s *Server) SetFaultRate(p float64, kinds ...FaultKind) {
	s.tb.Helper()
	if p < 0 || p > 1 {
		s.tb.Fatalf("mailchimpfake: fault rate %v is not in [0, 1]", p)
	}
	if len(kinds) == 0 {
		kinds = allFaults
	}
	for _, k := range kinds {
		if !slices.Contains(allFaults, k) {
			s.tb.Fatalf("mailchimpfake: unknown fault kind %q", k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultRate = p
	s.faultKinds = slices.Clone(kinds)
}

// Seed restarts the random source of fault decisions from seed.
func (s *Server) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng = newRand(seed)
}

// SetDelay delays every answer by d (for concurrency tests).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetHang sets how long a timeout fault holds a request when the client
// does not give up first (120 s by default, Mailchimp's own limit).
func (s *Server) SetHang(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = d
}

// violation records a breach of the contract.
func (s *Server) violation(r *http.Request, format string, args ...any) {
	msg := r.Method + " " + strings.TrimPrefix(r.URL.Path, apiRoot) + ": " + fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP records the call, counts it in flight, injects faults, delays,
// checks auth and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	_, pass, hasAuth := r.BasicAuth()
	authorized := hasAuth && pass == s.apiKey

	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	overLimit := s.inFlight > connLimit
	idx := len(s.calls)
	s.calls = append(s.calls, Call{
		Method:     r.Method,
		Path:       strings.TrimPrefix(r.URL.Path, apiRoot),
		Query:      r.URL.RawQuery,
		Body:       body,
		Authorized: authorized,
	})
	if overLimit {
		s.violation(r, "more than %d requests in flight", connLimit)
	}
	fault := s.nextFault()
	s.calls[idx].Fault = fault
	delay, hang := s.delay, s.hang
	s.mu.Unlock()

	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.calls[idx].Status = sw.status
		s.mu.Unlock()
	}()

	switch {
	case overLimit:
		s.problem(sw, http.StatusTooManyRequests, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")
		return
	case fault != "":
		s.fault(sw, r, fault, hang)
		return
	}
	if delay > 0 && !s.wait(r, delay) {
		return
	}
	if !hasAuth {
		s.mu.Lock()
		s.violation(r, "no HTTP Basic auth")
		s.mu.Unlock()
	}
	if !authorized {
		s.problem(sw, http.StatusUnauthorized, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter.")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mux.ServeHTTP(sw, r)
}

// nextFault returns the fault for this request, "" for none. Callers hold mu.
func (s *Server) nextFault() FaultKind {
	if len(s.failNext) > 0 {
		k := s.failNext[0]
		s.failNext = s.failNext[1:]
		return k
	}
	if s.faultRate > 0 && s.rng.Float64() < s.faultRate {
		return s.faultKinds[s.rng.IntN(len(s.faultKinds))]
	}
	return ""
}

// wait holds the request for d; false when the client or the test gave up.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}

func (s *Server) fault(w http.ResponseWriter, r *http.Request, kind FaultKind, hang time.Duration) {
	switch kind {
	case Fault429:
		s.problem(w, http.StatusTooManyRequests, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")
	case Fault500:
		s.problem(w, http.StatusInternalServerError, "Internal Server Error", "An unexpected internal error has occurred. Please contact Support for more information.")
	case Fault403NoBody:
		w.WriteHeader(http.StatusForbidden)
	case FaultTimeout:
		if s.wait(r, hang) {
			s.problem(w, http.StatusGatewayTimeout, "Gateway Timeout", "The request timed out.")
		}
	}
}

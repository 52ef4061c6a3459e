// Package stripefake is a stateful, test-controlled stand-in for the parts of
// the Stripe API the platform uses, speaking API version 2023-10-16: the test
// sets subscriptions and adds events, the code under test reads them through
// the real adapter. It also signs webhooks, builds the events the platform
// handles, and starts Stripe's own stripe-mock (StartStripeMock).
//
// Like Stripe, it answers 401 to any key but its own, 400 to unknown
// parameters (line item fields included; stripe-mock checks only top-level
// names) and to customer with customer_email, and 404 resource_missing to an
// unknown subscription.
package stripefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the Stripe API version whose shapes the fake serves.
const APIVersion = "2023-10-16"

// Subscription is a subscription as the fake serves it.
type Subscription struct {
	ID                string
	Customer          string
	Status            string // Stripe's word: active, past_due, canceled, ...
	PriceID           string
	CancelAtPeriodEnd bool
	CurrentPeriodEnd  time.Time // zero is served as 0
	// LatestInvoice is the latest invoice's id; empty means "in_" followed
	// by the subscription id without its "sub_" prefix.
	LatestInvoice string
	// LatestInvoiceAttempt is the latest invoice's attempt_count.
	LatestInvoiceAttempt int
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Form   url.Values // POST body
	// StripeVersion is the Stripe-Version header (stripe-go v76 sends
	// 2023-10-16).
	StripeVersion string
	// Authorized is false when the request carried a wrong or no key.
	Authorized bool
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

// Server is the fake Stripe API, an httptest server closed at the test's
// cleanup. It is safe for concurrent use.
type Server struct {
	tb  Owner
	srv *httptest.Server
	key string

	mu       sync.Mutex
	subs     map[string]Subscription
	events   []storedEvent // in the order added
	requests []Request
	failures []int
	seq      int
	prefix   string  // of event ids: "evt_fake_" unless SetEventIDPrefix
	prices   []Price // in the order set (prices.go)
	// customers records what erasure did to a customer: "deleted" or
	// "cleared" (erasure.go).
	customers map[string]string
}

type storedEvent struct {
	id      string
	typ     string
	created int64
	raw     json.RawMessage
}

// New starts a fake with no subscriptions and no events.
func New(tb Owner) *Server {
	tb.Helper()
	s := &Server{tb: tb, key: "sk_test_stripefake_" + strconv.FormatInt(time.Now().UnixNano(), 36), subs: map[string]Subscription{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/subscriptions/{id}", s.getSubscription)
	mux.HandleFunc("GET /v1/events", s.listEvents)
	mux.HandleFunc("GET /v1/prices", s.listPrices)
	mux.HandleFunc("POST /v1/checkout/sessions", s.createCheckoutSession)
	mux.HandleFunc("POST /v1/billing_portal/sessions", s.createPortalSession)
	mux.HandleFunc("DELETE /v1/subscriptions/{id}", s.cancelSubscription)
	mux.HandleFunc("POST /v1/subscriptions/{id}", s.updateSubscription)
	mux.HandleFunc("DELETE /v1/customers/{id}", s.deleteCustomer)
	mux.HandleFunc("POST /v1/customers/{id}", s.updateCustomer)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, stripeError{
			Type:    "invalid_request_error",
			Message: fmt.Sprintf("Unrecognized request URL (%s: %s). stripefake serves only what the platform uses.", r.Method, r.URL.Path),
		})
	})
	s.srv = httptest.NewServer(s.middleware(mux))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the fake's root, to use as the adapter's API URL (no /v1).
func (s *Server) URL() string { return s.srv.URL }

// SecretKey is the only key the fake accepts, as "Authorization: Bearer <key>".
func (s *Server) SecretKey() string { return s.key }

// SetSubscription creates or replaces a subscription.
func (s *Server) SetSubscription(sub Subscription) {
	s.tb.Helper()
	if sub.ID == "" {
		s.tb.Fatal("stripefake: SetSubscription needs an ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[sub.ID] = sub
}

// Subscription returns the subscription with the id, if set.
func (s *Server) Subscription(id string) (Subscription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[id]
	return sub, ok
}

// AddEvent adds an event (JSON with at least id, type and created, such as
// the builders in this package return) to GET /v1/events.
func (s *Server) AddEvent(event []byte) {
	s.tb.Helper()
	var head struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Created int64  `json:"created"`
	}
	if err := json.Unmarshal(event, &head); err != nil {
		s.tb.Fatalf("stripefake: AddEvent: %v", err)
	}
	if head.ID == "" || head.Type == "" || head.Created <= 0 {
		s.tb.Fatalf("stripefake: AddEvent: event needs id, type and created")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.id == head.ID {
			s.tb.Fatalf("stripefake: AddEvent: duplicate event id %s", head.ID)
		}
	}
	s.events = append(s.events, storedEvent{id: head.ID, typ: head.Type, created: head.Created, raw: append(json.RawMessage(nil), event...)})
}

// ChangeSubscription is one step of a subscription's life: it sets sub and
// adds a customer.subscription.* event of eventType about it, created at
// at, with a generated id. It returns the event, ready for SignedWebhook.
func (s *Server) ChangeSubscription(eventType string, at time.Time, sub Subscription) []byte {
	s.tb.Helper()
	if !strings.HasPrefix(eventType, "customer.subscription.") {
		s.tb.Fatalf("stripefake: ChangeSubscription: %q is not a customer.subscription.* event", eventType)
	}
	s.SetSubscription(sub)
	ev := SubscriptionEvent(s.NewEventID(), eventType, at, sub)
	s.AddEvent(ev)
	return ev
}

// NewEventID returns a fresh event id.
func (s *Server) NewEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	prefix := s.prefix
	if prefix == "" {
		prefix = "evt_fake_"
	}
	return fmt.Sprintf("%s%06d", prefix, s.seq)
}

// SetEventIDPrefix makes later event ids start with prefix, so that a
// stand-in restarted against the same database (`wdai dev`) never reuses an
// id the platform has already stored.
func (s *Server) SetEventIDPrefix(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefix = prefix
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// FailNext makes the next n authorized requests answer status with a Stripe
// error body (api_error for 5xx, rate_limit_error for 429,
// invalid_request_error otherwise), after recording them. stripe-go retries
// 409, 503 and, for GET, any 5xx.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, status)
	}
}

// SignedWebhook signs event with secret as Stripe does now, and returns the
// body and the Stripe-Signature header value.
func (s *Server) SignedWebhook(secret string, event []byte) (body []byte, header string) {
	return SignedWebhookAt(secret, event, time.Now())
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, stripeError{Type: "invalid_request_error", Message: "Invalid form body: " + err.Error()})
			return
		}
		authorized := r.Header.Get("Authorization") == "Bearer "+s.key
		req := Request{
			Method:        r.Method,
			Path:          r.URL.Path,
			Query:         r.URL.Query(),
			Form:          r.PostForm,
			StripeVersion: r.Header.Get("Stripe-Version"),
			Authorized:    authorized,
		}
		s.mu.Lock()
		s.seq++
		requestID := fmt.Sprintf("req_fake_%06d", s.seq)
		s.requests = append(s.requests, req)
		fail := 0
		if authorized && len(s.failures) > 0 {
			fail, s.failures = s.failures[0], s.failures[1:]
		}
		s.mu.Unlock()

		w.Header().Set("Request-Id", requestID)
		if !authorized {
			// Like Stripe, never echo the key.
			writeError(w, http.StatusUnauthorized, stripeError{
				Type:    "invalid_request_error",
				Message: "Invalid API Key provided: " + redactKey(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")),
			})
			return
		}
		if fail != 0 {
			typ := "invalid_request_error"
			switch {
			case fail >= 500:
				typ = "api_error"
			case fail == http.StatusTooManyRequests:
				typ = "rate_limit_error"
			}
			writeError(w, fail, stripeError{Type: typ, Message: fmt.Sprintf("stripefake: injected %d", fail)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !checkParams(w, q, "expand") {
		return
	}
	expand := listParam(q, "expand")
	for _, e := range expand {
		if e != "latest_invoice" {
			writeError(w, http.StatusBadRequest, stripeError{
				Type: "invalid_request_error", Param: "expand",
				Message: fmt.Sprintf("stripefake: can only expand latest_invoice, not %q", e),
			})
			return
		}
	}
	id := r.PathValue("id")
	sub, found := s.Subscription(id)
	if !found {
		writeError(w, http.StatusNotFound, stripeError{
			Type: "invalid_request_error", Code: "resource_missing", Param: "id",
			Message: fmt.Sprintf("No such subscription: '%s'", id),
			DocURL:  "https://stripe.com/docs/error-codes/resource-missing",
		})
		return
	}
	writeJSON(w, http.StatusOK, subscriptionObject(sub, len(expand) > 0))
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !checkParams(w, q, "created", "delivery_success", "limit", "starting_after", "type", "types") {
		return
	}
	f, bad := parseEventFilter(q)
	if bad != nil {
		writeError(w, http.StatusBadRequest, *bad)
		return
	}

	s.mu.Lock()
	all := slices.Clone(s.events)
	s.mu.Unlock()
	// Newest first; among equal times, the one added later first.
	slices.Reverse(all)
	slices.SortStableFunc(all, func(a, b storedEvent) int { return compareInt64(b.created, a.created) })

	var match []storedEvent
	for _, e := range all {
		if f.matches(e) {
			match = append(match, e)
		}
	}
	if after := q.Get("starting_after"); after != "" {
		i := slices.IndexFunc(match, func(e storedEvent) bool { return e.id == after })
		if i < 0 {
			writeError(w, http.StatusNotFound, stripeError{
				Type: "invalid_request_error", Code: "resource_missing", Param: "starting_after",
				Message: fmt.Sprintf("No such event: '%s'", after),
			})
			return
		}
		match = match[i+1:]
	}
	hasMore := len(match) > f.limit
	if hasMore {
		match = match[:f.limit]
	}
	data := make([]json.RawMessage, len(match))
	for i, e := range match {
		data[i] = e.raw
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": "/v1/events", "has_more": hasMore, "data": data})
}

// eventFilter is the query of a list of events.
type eventFilter struct {
	// bounds are created, created[gt], created[gte], created[lt] and
	// created[lte], each if set.
	bounds [5]struct {
		set bool
		v   int64
	}
	types   []string
	typ     string // the type parameter, a pattern, if hasType
	hasType bool
	limit   int
}

// parseEventFilter reads the query of a list of events, or returns the error
// Stripe answers an invalid one with (status 400).
func parseEventFilter(q url.Values) (eventFilter, *stripeError) {
	bad := func(param, msg string) *stripeError {
		return &stripeError{Type: "invalid_request_error", Param: param, Message: msg}
	}
	for key := range q {
		if strings.HasPrefix(key, "created[") && !slices.Contains([]string{"created[gt]", "created[gte]", "created[lt]", "created[lte]"}, key) {
			return eventFilter{}, bad(key, "Received unknown parameter: "+key)
		}
	}
	f := eventFilter{types: listParam(q, "types"), typ: q.Get("type"), hasType: q.Has("type"), limit: 10}
	if len(f.types) > 20 {
		return eventFilter{}, bad("types", "types may have at most 20 entries")
	}
	if len(f.types) > 0 && f.hasType {
		return eventFilter{}, bad("type", "You may only specify one of these parameters: type, types.")
	}
	for i, name := range []string{"created", "created[gt]", "created[gte]", "created[lt]", "created[lte]"} {
		if q.Has(name) {
			v, err := strconv.ParseInt(q.Get(name), 10, 64)
			if err != nil {
				return eventFilter{}, bad(name, fmt.Sprintf("Invalid integer: %s", q.Get(name)))
			}
			f.bounds[i].set, f.bounds[i].v = true, v
		}
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > 100 {
			return eventFilter{}, bad("limit", "limit must be an integer between 1 and 100")
		}
		f.limit = n
	}
	return f, nil
}

// matches reports whether e passes the filter's created bounds and types.
func (f eventFilter) matches(e storedEvent) bool {
	switch {
	case f.bounds[0].set && e.created != f.bounds[0].v,
		f.bounds[1].set && e.created <= f.bounds[1].v,
		f.bounds[2].set && e.created < f.bounds[2].v,
		f.bounds[3].set && e.created >= f.bounds[3].v,
		f.bounds[4].set && e.created > f.bounds[4].v,
		len(f.types) > 0 && !slices.Contains(f.types, e.typ),
		f.hasType && !typeMatches(f.typ, e.typ):
		return false
	}
	return true
}

func (s *Server) createCheckoutSession(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if !checkParams(w, f, "mode", "line_items", "customer", "customer_email", "client_reference_id",
		"success_url", "cancel_url", "metadata", "allow_promotion_codes", "subscription_data", "ui_mode", "expand", "expires_at") {
		return
	}
	bad := func(param, msg string) {
		writeError(w, http.StatusBadRequest, stripeError{Type: "invalid_request_error", Param: param, Message: msg})
	}
	mode := f.Get("mode")
	switch mode {
	case "payment", "setup", "subscription":
	case "":
		bad("mode", "Missing required param: mode.")
		return
	default:
		bad("mode", fmt.Sprintf("Invalid mode: %s", mode))
		return
	}
	if f.Get("success_url") == "" {
		bad("success_url", "Missing required param: success_url.")
		return
	}
	if f.Has("customer") && f.Has("customer_email") {
		bad("customer", "You may only specify one of these parameters: customer, customer_email.")
		return
	}
	if mode == "subscription" {
		if f.Get("line_items[0][price]") == "" {
			bad("line_items", "Missing required param: line_items[0][price].")
			return
		}
		for key := range f {
			if strings.HasPrefix(key, "line_items[") && !lineItemKey(key) {
				bad(key, "Received unknown parameter: "+key)
				return
			}
		}
	}
	// Stripe closes a session 24 hours after creation unless expires_at
	// names a time 30 minutes to 24 hours ahead.
	expiresAt := time.Now().Add(24 * time.Hour).Unix()
	if f.Has("expires_at") {
		at, err := strconv.ParseInt(f.Get("expires_at"), 10, 64)
		ahead := time.Until(time.Unix(at, 0))
		if err != nil || ahead < 30*time.Minute-time.Minute || ahead > 24*time.Hour+time.Minute {
			bad("expires_at", "The expires_at timestamp must be between 30 minutes and 24 hours from Checkout Session creation.")
			return
		}
		expiresAt = at
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("cs_test_fake_%06d", s.seq)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "object": "checkout.session", "mode": mode, "status": "open",
		"url":                 "https://checkout.stripe.com/c/pay/" + id,
		"customer":            nullIfEmpty(f.Get("customer")),
		"customer_email":      nullIfEmpty(f.Get("customer_email")),
		"client_reference_id": nullIfEmpty(f.Get("client_reference_id")),
		"success_url":         f.Get("success_url"),
		"cancel_url":          nullIfEmpty(f.Get("cancel_url")),
		"subscription":        nil,
		"expires_at":          expiresAt,
		"livemode":            false,
	})
}

func (s *Server) createPortalSession(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if !checkParams(w, f, "customer", "return_url", "configuration", "locale", "flow_data", "expand") {
		return
	}
	if f.Get("customer") == "" {
		writeError(w, http.StatusBadRequest, stripeError{Type: "invalid_request_error", Param: "customer", Message: "Missing required param: customer."})
		return
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("bps_fake_%06d", s.seq)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "object": "billing_portal.session", "customer": f.Get("customer"),
		"return_url": nullIfEmpty(f.Get("return_url")), "livemode": false,
		"url": "https://billing.stripe.com/p/session/" + id,
	})
}

// checkParams answers 400, as Stripe does, for a parameter whose base name
// (before any "[") is not allowed, and reports whether all were allowed.
func checkParams(w http.ResponseWriter, v url.Values, allowed ...string) bool {
	for key := range v {
		base, _, _ := strings.Cut(key, "[")
		if !slices.Contains(allowed, base) {
			writeError(w, http.StatusBadRequest, stripeError{Type: "invalid_request_error", Param: key, Message: "Received unknown parameter: " + key})
			return false
		}
	}
	return true
}

// listParam returns the values of a list parameter sent as name, name[] or
// name[0], name[1], ... (stripe-go's form), in index order.
func listParam(v url.Values, name string) []string {
	out := append([]string(nil), v[name]...)
	out = append(out, v[name+"[]"]...)
	for i := 0; ; i++ {
		vals, ok := v[fmt.Sprintf("%s[%d]", name, i)]
		if !ok {
			break
		}
		out = append(out, vals...)
	}
	return out
}

// lineItemKey reports whether key is a line item field a subscription
// checkout takes.
func lineItemKey(key string) bool {
	rest, ok := strings.CutPrefix(key, "line_items[")
	if !ok {
		return false
	}
	idx, field, ok := strings.Cut(rest, "]")
	if _, err := strconv.Atoi(idx); !ok || err != nil {
		return false
	}
	switch field {
	case "[price]", "[quantity]", "[tax_rates][0]", "[adjustable_quantity][enabled]":
		return true
	default:
		return false
	}
}

func typeMatches(pattern, typ string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(typ, prefix)
	}
	return pattern == typ
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	default:
		return 0
	}
}

type stripeError struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Param   string `json:"param,omitempty"`
	Message string `json:"message"`
	DocURL  string `json:"doc_url,omitempty"`
}

func writeError(w http.ResponseWriter, status int, e stripeError) {
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func redactKey(key string) string {
	if len(key) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(key)-4) + key[len(key)-4:]
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

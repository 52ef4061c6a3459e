package stripefake

import (
	"fmt"
	"net/http"
)

// Customer reports what was done to a customer: "deleted", "cleared"
// (personal fields emptied) or "" (nothing).
func (s *Server) Customer(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.customers[id]
}

func (s *Server) missingSubscription(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, stripeError{
		Type: "invalid_request_error", Code: "resource_missing", Param: "id",
		Message: fmt.Sprintf("No such subscription: '%s'", id),
	})
}

// cancelSubscription is DELETE /v1/subscriptions/{id}: canceled now.
func (s *Server) cancelSubscription(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r.PostForm, "invoice_now", "prorate", "cancellation_details", "expand") {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	sub, ok := s.subs[id]
	if ok {
		sub.Status, sub.CancelAtPeriodEnd = "canceled", false
		s.subs[id] = sub
	}
	s.mu.Unlock()
	if !ok {
		s.missingSubscription(w, id)
		return
	}
	writeJSON(w, http.StatusOK, subscriptionObject(sub, false))
}

// updateSubscription is POST /v1/subscriptions/{id}; only
// cancel_at_period_end is served.
func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r.PostForm, "cancel_at_period_end", "expand") {
		return
	}
	v := r.PostForm.Get("cancel_at_period_end")
	if v != "true" && v != "false" {
		writeError(w, http.StatusBadRequest, stripeError{Type: "invalid_request_error", Param: "cancel_at_period_end", Message: "Invalid boolean: " + v})
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	sub, ok := s.subs[id]
	if ok && sub.Status != "canceled" {
		sub.CancelAtPeriodEnd = v == "true"
		s.subs[id] = sub
	}
	s.mu.Unlock()
	if !ok {
		s.missingSubscription(w, id)
		return
	}
	writeJSON(w, http.StatusOK, subscriptionObject(sub, false))
}

// deleteCustomer is DELETE /v1/customers/{id}: Stripe cancels the
// customer's subscriptions at once.
func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	if s.customers == nil {
		s.customers = map[string]string{}
	}
	s.customers[id] = "deleted"
	for sid, sub := range s.subs {
		if sub.Customer == id {
			sub.Status, sub.CancelAtPeriodEnd = "canceled", false
			s.subs[sid] = sub
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "customer", "deleted": true})
}

// updateCustomer is POST /v1/customers/{id}; only emptying the personal
// fields is served.
func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if !checkParams(w, f, "name", "email", "phone", "description", "address", "shipping") {
		return
	}
	for key, vals := range f {
		for _, v := range vals {
			if v != "" {
				writeError(w, http.StatusBadRequest, stripeError{Type: "invalid_request_error", Param: key, Message: "stripefake: only clearing " + key + " is served"})
				return
			}
		}
	}
	id := r.PathValue("id")
	s.mu.Lock()
	if s.customers == nil {
		s.customers = map[string]string{}
	}
	if s.customers[id] != "deleted" {
		s.customers[id] = "cleared"
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "customer"})
}

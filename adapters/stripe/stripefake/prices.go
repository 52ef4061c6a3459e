package stripefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// Price is a price in the fake's catalogue, with its product.
type Price struct {
	ID        string
	LookupKey string // "" is served as null
	Metadata  map[string]string
	Active    bool
	// UnitAmount is in the currency's minor unit; Currency is lower case.
	UnitAmount int64
	Currency   string
	// Interval ("month", "year", ...) makes the price recurring; "" makes
	// it one_time.
	Interval      string
	IntervalCount int

	ProductID          string
	ProductName        string
	ProductDescription string
	ProductActive      bool
	ProductMetadata    map[string]string
}

// SetPrices replaces the catalogue served by GET /v1/prices.
func (s *Server) SetPrices(prices ...Price) {
	s.tb.Helper()
	for _, p := range prices {
		if p.ID == "" || p.ProductID == "" {
			s.tb.Fatal("stripefake: a Price needs an ID and a ProductID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prices = slices.Clone(prices)
}

// listPrices serves GET /v1/prices: the filters active and type, pages of
// limit (at most 100) after starting_after, and expand[]=data.product.
func (s *Server) listPrices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !checkParams(w, q, "active", "type", "limit", "starting_after", "expand") {
		return
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, stripeError{Type: "invalid_request_error", Param: "limit", Message: "limit must be between 1 and 100"})
			return
		}
		limit = n
	}
	expandProduct := slices.Contains(listParam(q, "expand"), "data.product")
	s.mu.Lock()
	all := slices.Clone(s.prices)
	s.mu.Unlock()
	var match []Price
	for _, p := range all {
		if (q.Get("active") == "true" && !p.Active) || (q.Get("active") == "false" && p.Active) {
			continue
		}
		if t := q.Get("type"); t != "" && t != priceType(p) {
			continue
		}
		match = append(match, p)
	}
	if after := q.Get("starting_after"); after != "" {
		i := slices.IndexFunc(match, func(p Price) bool { return p.ID == after })
		if i < 0 {
			writeError(w, http.StatusNotFound, stripeError{Type: "invalid_request_error", Code: "resource_missing", Param: "starting_after",
				Message: fmt.Sprintf("No such price: '%s'", after)})
			return
		}
		match = match[i+1:]
	}
	hasMore := len(match) > limit
	if hasMore {
		match = match[:limit]
	}
	data := make([]json.RawMessage, len(match))
	for i, p := range match {
		data[i] = priceJSON(p, expandProduct)
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": "/v1/prices", "has_more": hasMore, "data": data})
}

func priceType(p Price) string {
	if p.Interval == "" {
		return "one_time"
	}
	return "recurring"
}

func priceJSON(p Price, expandProduct bool) json.RawMessage {
	meta := func(m map[string]string) map[string]string {
		if m == nil {
			return map[string]string{}
		}
		return m
	}
	var product any = p.ProductID
	if expandProduct {
		product = map[string]any{"id": p.ProductID, "object": "product", "active": p.ProductActive, "name": p.ProductName,
			"description": p.ProductDescription, "metadata": meta(p.ProductMetadata)}
	}
	var lookup any
	if p.LookupKey != "" {
		lookup = p.LookupKey
	}
	var recurring any
	if p.Interval != "" {
		recurring = map[string]any{"interval": p.Interval, "interval_count": max(p.IntervalCount, 1), "usage_type": "licensed"}
	}
	raw, _ := json.Marshal(map[string]any{"id": p.ID, "object": "price", "active": p.Active, "currency": p.Currency,
		"unit_amount": p.UnitAmount, "lookup_key": lookup, "metadata": meta(p.Metadata), "product": product,
		"recurring": recurring, "type": priceType(p), "billing_scheme": "per_unit"})
	return raw
}

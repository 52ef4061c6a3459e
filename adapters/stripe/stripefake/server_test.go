package stripefake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// call makes one request with the key and returns the status and decoded body.
func call(t *testing.T, fake *stripefake.Server, key, method, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, fake.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: decode: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func errorOf(body map[string]any) map[string]any {
	e, _ := body["error"].(map[string]any)
	return e
}

func TestAuthAndErrors(t *testing.T) {
	t.Parallel()
	fake := stripefake.New(t)
	fake.SetSubscription(stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active", PriceID: "price_1"})
	tests := []struct {
		name   string
		key    string
		method string
		path   string
		form   url.Values
		status int
		code   string
	}{
		{"no key", "", "GET", "/v1/subscriptions/sub_1", nil, 401, ""},
		{"wrong key", "sk_test_nope", "GET", "/v1/subscriptions/sub_1", nil, 401, ""},
		{"known subscription", fake.SecretKey(), "GET", "/v1/subscriptions/sub_1", nil, 200, ""},
		{"unknown subscription", fake.SecretKey(), "GET", "/v1/subscriptions/sub_2", nil, 404, "resource_missing"},
		{"unknown route", fake.SecretKey(), "GET", "/v1/customers/cus_1", nil, 404, ""},
		{"unknown query parameter", fake.SecretKey(), "GET", "/v1/subscriptions/sub_1?expnd[0]=latest_invoice", nil, 400, ""},
		{"unknown events filter", fake.SecretKey(), "GET", "/v1/events?created[gtee]=1", nil, 400, ""},
		{"type and types", fake.SecretKey(), "GET", "/v1/events?type=a&types[0]=b", nil, 400, ""},
		{"limit over 100", fake.SecretKey(), "GET", "/v1/events?limit=101", nil, 400, ""},
		{"unknown starting_after", fake.SecretKey(), "GET", "/v1/events?starting_after=evt_none", nil, 404, "resource_missing"},
		{
			"checkout with customer and customer_email", fake.SecretKey(), "POST", "/v1/checkout/sessions",
			url.Values{"mode": {"subscription"}, "line_items[0][price]": {"p"}, "success_url": {"https://x.test"}, "customer": {"cus_1"}, "customer_email": {"a@x.test"}},
			400, "",
		},
		{
			"checkout with an unknown line item field", fake.SecretKey(), "POST", "/v1/checkout/sessions",
			url.Values{"mode": {"subscription"}, "line_items[0][prise]": {"p"}, "line_items[0][price]": {"p"}, "success_url": {"https://x.test"}},
			400, "",
		},
		{
			"checkout without success_url", fake.SecretKey(), "POST", "/v1/checkout/sessions",
			url.Values{"mode": {"subscription"}, "line_items[0][price]": {"p"}}, 400, "",
		},
		{"portal without customer", fake.SecretKey(), "POST", "/v1/billing_portal/sessions", url.Values{"return_url": {"https://x.test"}}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, fake, tt.key, tt.method, tt.path, tt.form)
			if status != tt.status {
				t.Fatalf("status = %d (%v), want %d", status, body, tt.status)
			}
			if tt.status >= 400 {
				e := errorOf(body)
				if e == nil || e["message"] == "" || e["type"] == "" {
					t.Errorf("error body = %v", body)
				}
				if code, _ := e["code"].(string); code != tt.code {
					t.Errorf("code = %q, want %q", code, tt.code)
				}
				if msg, _ := e["message"].(string); strings.Contains(msg, fake.SecretKey()) || (tt.key != "" && strings.Contains(msg, tt.key)) {
					t.Errorf("error echoes a key: %q", msg)
				}
			}
		})
	}
	if reqs := fake.Requests(); len(reqs) != len(tests) || reqs[0].Authorized || !reqs[2].Authorized {
		t.Errorf("recorded %d requests (%+v), want %d with authorization flags", len(reqs), reqs[:min(len(reqs), 3)], len(tests))
	}
}

func TestSubscriptionShape(t *testing.T) {
	t.Parallel()
	fake := stripefake.New(t)
	end := t0.AddDate(0, 1, 0)
	fake.SetSubscription(stripefake.Subscription{
		ID: "sub_1", Customer: "cus_1", Status: "past_due", PriceID: "price_1",
		CancelAtPeriodEnd: true, CurrentPeriodEnd: end, LatestInvoiceAttempt: 2,
	})
	if got, ok := fake.Subscription("sub_1"); !ok || got.LatestInvoiceAttempt != 2 {
		t.Fatalf("Subscription(sub_1) = %+v, %v", got, ok)
	}
	if _, ok := fake.Subscription("sub_2"); ok {
		t.Fatal("Subscription(sub_2) found")
	}

	_, plain := call(t, fake, fake.SecretKey(), "GET", "/v1/subscriptions/sub_1", nil)
	if plain["latest_invoice"] != "in_1" {
		t.Errorf("latest_invoice = %v, want the id in_1", plain["latest_invoice"])
	}
	_, expanded := call(t, fake, fake.SecretKey(), "GET", "/v1/subscriptions/sub_1?expand[]=latest_invoice", nil)
	inv, _ := expanded["latest_invoice"].(map[string]any)
	if inv["id"] != "in_1" || inv["attempt_count"] != 2.0 {
		t.Errorf("expanded latest_invoice = %v", expanded["latest_invoice"])
	}
	items, _ := expanded["items"].(map[string]any)
	data, _ := items["data"].([]any)
	item, _ := data[0].(map[string]any)
	price, _ := item["price"].(map[string]any)
	if expanded["status"] != "past_due" || expanded["customer"] != "cus_1" || expanded["cancel_at_period_end"] != true ||
		expanded["current_period_end"] != float64(end.Unix()) || price["id"] != "price_1" {
		t.Errorf("subscription = %v", expanded)
	}
}

func TestEventListing(t *testing.T) {
	t.Parallel()
	fake := stripefake.New(t)
	types := []string{"customer.subscription.created", "customer.subscription.updated", "invoice.payment_failed"}
	for i := range 9 {
		id := fmt.Sprintf("evt_%d", i)
		at := t0.Add(time.Duration(i/2) * time.Minute) // pairs share a second
		if types[i%3] == "invoice.payment_failed" {
			fake.AddEvent(stripefake.InvoicePaymentFailedEvent(id, at, stripefake.Invoice{ID: "in_" + id, Subscription: "sub_1"}))
		} else {
			fake.AddEvent(stripefake.SubscriptionEvent(id, types[i%3], at, stripefake.Subscription{ID: "sub_1", Status: "active"}))
		}
	}
	ids := func(body map[string]any) string {
		var out []string
		data, _ := body["data"].([]any)
		for _, d := range data {
			e, _ := d.(map[string]any)
			out = append(out, e["id"].(string))
		}
		return fmt.Sprintf("%v has_more=%v", out, body["has_more"])
	}
	tests := []struct {
		query string
		want  string
	}{
		{"", "[evt_8 evt_7 evt_6 evt_5 evt_4 evt_3 evt_2 evt_1 evt_0] has_more=false"},
		{"?limit=4", "[evt_8 evt_7 evt_6 evt_5] has_more=true"},
		{"?limit=4&starting_after=evt_5", "[evt_4 evt_3 evt_2 evt_1] has_more=true"},
		{"?limit=4&starting_after=evt_1", "[evt_0] has_more=false"},
		{fmt.Sprintf("?created[gte]=%d", t0.Add(3*time.Minute).Unix()), "[evt_8 evt_7 evt_6] has_more=false"},
		{fmt.Sprintf("?created[gt]=%d&created[lt]=%d", t0.Unix(), t0.Add(2*time.Minute).Unix()), "[evt_3 evt_2] has_more=false"},
		{"?types[0]=invoice.payment_failed&types[1]=customer.subscription.created", "[evt_8 evt_6 evt_5 evt_3 evt_2 evt_0] has_more=false"},
		{"?types[]=invoice.payment_failed", "[evt_8 evt_5 evt_2] has_more=false"},
		{"?type=customer.subscription.*&limit=2", "[evt_7 evt_6] has_more=true"},
	}
	for _, tt := range tests {
		status, body := call(t, fake, fake.SecretKey(), "GET", "/v1/events"+tt.query, nil)
		if got := ids(body); status != 200 || got != tt.want {
			t.Errorf("GET /v1/events%s = %d %s, want %s", tt.query, status, got, tt.want)
		}
	}
}

func TestChangeSubscriptionAndSignedWebhook(t *testing.T) {
	t.Parallel()
	fake := stripefake.New(t)
	s := stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active", PriceID: "price_1"}
	ev := fake.ChangeSubscription("customer.subscription.updated", t0, s)
	if got, ok := fake.Subscription("sub_1"); !ok || got != s {
		t.Errorf("Subscription = %+v, %v", got, ok)
	}
	var decoded struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Created    int64  `json:"created"`
		APIVersion string `json:"api_version"`
	}
	if err := json.Unmarshal(ev, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.ID == "" || decoded.Type != "customer.subscription.updated" || decoded.Created != t0.Unix() || decoded.APIVersion != stripefake.APIVersion {
		t.Errorf("event = %+v", decoded)
	}
	_, body := call(t, fake, fake.SecretKey(), "GET", "/v1/events", nil)
	if data, _ := body["data"].([]any); len(data) != 1 {
		t.Errorf("events = %v, want the one change", body)
	}
	payload, header := fake.SignedWebhook("whsec_x", ev)
	if string(payload) != string(ev) || !strings.HasPrefix(header, "t=") || !strings.Contains(header, ",v1=") {
		t.Errorf("SignedWebhook = %q", header)
	}
}

// fatalRecorder stands in for a test that StartStripeMock fails.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartStripeMockFailsWithoutTheBinary(t *testing.T) {
	t.Setenv("STRIPE_MOCK_BIN", "/nonexistent/stripe-mock")
	t.Setenv("PATH", "")
	t.Chdir(t.TempDir()) // no module root, so no <root>/bin/stripe-mock
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		stripefake.StartStripeMock(rec)
		t.Error("StartStripeMock returned without a binary")
	}()
	<-done
	if !strings.Contains(rec.msg, "run `make tools`") {
		t.Errorf("failure message = %q, want it to say run `make tools`", rec.msg)
	}
}

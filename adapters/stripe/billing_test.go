package stripe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

func newFake(t *testing.T) (*stripefake.Server, *stripe.Billing) {
	t.Helper()
	fake := stripefake.New(t)
	b, err := stripe.NewBilling(stripe.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL(), MaxNetworkRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return fake, b
}

func TestNewBillingRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  stripe.Config
	}{
		{"no key", stripe.Config{}},
		{"blank key", stripe.Config{SecretKey: "  "}},
		{"URL with /v1", stripe.Config{SecretKey: "sk_test_1", APIURL: "http://127.0.0.1:12111/v1"}},
		{"URL with /v1/", stripe.Config{SecretKey: "sk_test_1", APIURL: "http://127.0.0.1:12111/v1/"}},
		{"not a URL", stripe.Config{SecretKey: "sk_test_1", APIURL: "127.0.0.1:12111"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := stripe.NewBilling(tt.cfg); err == nil {
				t.Fatal("NewBilling succeeded, want an error")
			}
		})
	}
}

func TestGetSubscriptionMapsEveryField(t *testing.T) {
	t.Parallel()
	end := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		sub  stripefake.Subscription
		want ports.BillingSubscription
	}{
		{
			name: "active",
			sub:  stripefake.Subscription{ID: "sub_a", Customer: "cus_a", Status: "active", PriceID: "price_m", CurrentPeriodEnd: end},
			want: ports.BillingSubscription{ID: "sub_a", CustomerID: "cus_a", Status: membership.ProviderActive, PriceID: "price_m", CurrentPeriodEnd: end},
		},
		{
			name: "scheduled cancellation",
			sub:  stripefake.Subscription{ID: "sub_b", Customer: "cus_b", Status: "trialing", PriceID: "price_y", CancelAtPeriodEnd: true, CurrentPeriodEnd: end},
			want: ports.BillingSubscription{ID: "sub_b", CustomerID: "cus_b", Status: membership.ProviderTrialing, PriceID: "price_y", CancelAtPeriodEnd: true, CurrentPeriodEnd: end},
		},
		{
			name: "past due on the third attempt",
			sub:  stripefake.Subscription{ID: "sub_c", Customer: "cus_c", Status: "past_due", PriceID: "price_m", CurrentPeriodEnd: end, LatestInvoiceAttempt: 3},
			want: ports.BillingSubscription{ID: "sub_c", CustomerID: "cus_c", Status: membership.ProviderPastDue, PriceID: "price_m", CurrentPeriodEnd: end, LatestInvoiceAttempt: 3},
		},
		{
			name: "incomplete_expired",
			sub:  stripefake.Subscription{ID: "sub_d", Customer: "cus_d", Status: "incomplete_expired", PriceID: "price_m", CurrentPeriodEnd: end, LatestInvoiceAttempt: 1},
			want: ports.BillingSubscription{ID: "sub_d", CustomerID: "cus_d", Status: membership.ProviderIncompleteExpired, PriceID: "price_m", CurrentPeriodEnd: end, LatestInvoiceAttempt: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, b := newFake(t)
			fake.SetSubscription(tt.sub)
			got, err := b.GetSubscription(context.Background(), tt.sub.ID)
			if err != nil {
				t.Fatalf("GetSubscription: %v", err)
			}
			if got != tt.want {
				t.Errorf("GetSubscription =\n%+v\nwant\n%+v", got, tt.want)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %+v, want one", reqs)
			}
			r := reqs[0]
			if r.Method != "GET" || r.Path != "/v1/subscriptions/"+tt.sub.ID || r.Query.Get("expand[0]") != "latest_invoice" || r.StripeVersion != stripe.APIVersion {
				t.Errorf("request = %+v, want GET /v1/subscriptions/%s expanding latest_invoice at %s", r, tt.sub.ID, stripe.APIVersion)
			}
		})
	}
}

func TestGetSubscriptionErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("unknown id", func(t *testing.T) {
		t.Parallel()
		_, b := newFake(t)
		if _, err := b.GetSubscription(ctx, "sub_missing"); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("error = %v, want ErrNotFound", err)
		}
	})
	t.Run("unknown status", func(t *testing.T) {
		t.Parallel()
		fake, b := newFake(t)
		fake.SetSubscription(stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "cancelled", PriceID: "price_m"})
		if _, err := b.GetSubscription(ctx, "sub_1"); !errors.Is(err, membership.ErrUnknownStatus) {
			t.Fatalf("error = %v, want ErrUnknownStatus", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		fake := stripefake.New(t)
		fake.SetSubscription(sub)
		const wrong = "sk_test_wrong_key_0123456789"
		b, err := stripe.NewBilling(stripe.Config{SecretKey: wrong, APIURL: fake.URL()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.GetSubscription(ctx, sub.ID)
		if err == nil || errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("error = %v, want an authentication error", err)
		}
		if !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), fake.SecretKey()) {
			t.Errorf("error %q: want the 401 and no key", err)
		}
	})
	t.Run("unrecognised URL is not a missing subscription", func(t *testing.T) {
		t.Parallel()
		fake := stripefake.New(t)
		fake.SetSubscription(sub)
		b, err := stripe.NewBilling(stripe.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL() + "/api"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.GetSubscription(ctx, sub.ID); err == nil || errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("error = %v, want an error other than ErrNotFound", err)
		}
	})
	t.Run("server error without retries", func(t *testing.T) {
		t.Parallel()
		fake, b := newFake(t)
		fake.SetSubscription(sub)
		fake.FailNext(1, 503)
		_, err := b.GetSubscription(ctx, sub.ID)
		if err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("error = %v, want the 503", err)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("%d requests, want 1 (retries disabled)", n)
		}
	})
	t.Run("server error and rate limit are transient, a wrong request is not", func(t *testing.T) {
		t.Parallel()
		fake, b := newFake(t)
		fake.SetSubscription(sub)
		for _, status := range []int{500, 503, 429} {
			fake.FailNext(1, status)
			_, err := b.GetSubscription(ctx, sub.ID)
			if te, ok := ports.AsTransient(err); !ok || te.Provider != "stripe" {
				t.Errorf("HTTP %d gave %v, want a transient stripe error", status, err)
			}
		}
		fake.FailNext(1, 400)
		if _, err := b.GetSubscription(ctx, sub.ID); err == nil || ports.IsTransient(err) {
			t.Errorf("HTTP 400 gave %v, want a non-transient error", err)
		}
		if _, err := b.GetSubscription(ctx, "sub_missing"); ports.IsTransient(err) {
			t.Errorf("a missing subscription is transient: %v", err)
		}
	})
	t.Run("retry-after and a proxy's 503 page", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "sub_proxy") {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("<html>down</html>"))
				return
			}
			w.Header().Set("Retry-After", "42")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`))
		}))
		defer srv.Close()
		b, err := stripe.NewBilling(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.GetSubscription(ctx, "sub_1")
		if te, ok := ports.AsTransient(err); !ok || te.RetryAfter != 42*time.Second {
			t.Errorf("429 with Retry-After: 42 gave %v (%+v), want transient with RetryAfter 42s", err, te)
		}
		if _, err := b.GetSubscription(ctx, "sub_proxy"); !ports.IsTransient(err) {
			t.Errorf("a 503 HTML page gave %v, want transient", err)
		}
	})
	t.Run("refused connection is transient", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		b, err := stripe.NewBilling(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.GetSubscription(ctx, "sub_1"); !ports.IsTransient(err) {
			t.Errorf("refused connection gave %v, want transient", err)
		}
	})
	t.Run("server error retried", func(t *testing.T) {
		t.Parallel()
		fake := stripefake.New(t)
		fake.SetSubscription(sub)
		b, err := stripe.NewBilling(stripe.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL(), MaxNetworkRetries: 1})
		if err != nil {
			t.Fatal(err)
		}
		fake.FailNext(1, 500)
		if _, err := b.GetSubscription(ctx, sub.ID); err != nil {
			t.Fatalf("GetSubscription after one 500: %v", err)
		}
		if n := len(fake.Requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		t.Parallel()
		fake, b := newFake(t)
		fake.SetSubscription(sub)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := b.GetSubscription(cctx, sub.ID); !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	})
}

// TestSubscriptionLifecycle drives one subscription through the fake the way
// the worker sees it: an event names the subscription, the adapter fetches
// its current state.
func TestSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, b := newFake(t)
	end := t0.AddDate(0, 1, 0)
	s := stripefake.Subscription{ID: "sub_life", Customer: "cus_life", Status: "incomplete", PriceID: "price_m", CurrentPeriodEnd: end}

	steps := []struct {
		eventType string
		change    func(*stripefake.Subscription)
		want      membership.ProviderStatus
	}{
		{"customer.subscription.created", func(*stripefake.Subscription) {}, membership.ProviderIncomplete},
		{"customer.subscription.updated", func(s *stripefake.Subscription) { s.Status = "active" }, membership.ProviderActive},
		{"customer.subscription.updated", func(s *stripefake.Subscription) { s.Status = "past_due"; s.LatestInvoiceAttempt = 1 }, membership.ProviderPastDue},
		{"customer.subscription.updated", func(s *stripefake.Subscription) { s.Status = "active"; s.CancelAtPeriodEnd = true }, membership.ProviderActive},
		{"customer.subscription.deleted", func(s *stripefake.Subscription) { s.Status = "canceled" }, membership.ProviderCanceled},
	}
	for i, step := range steps {
		step.change(&s)
		fake.ChangeSubscription(step.eventType, t0.Add(time.Duration(i)*time.Minute), s)
	}
	var seen []ports.BillingEvent
	if err := b.ListEventsOfTypes(ctx, t0, nil, func(e ports.BillingEvent) error { seen = append(seen, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(steps) {
		t.Fatalf("%d events, want %d", len(seen), len(steps))
	}
	for i, e := range seen {
		step := steps[len(steps)-1-i] // newest first
		if e.Type != step.eventType || e.SubscriptionID != "sub_life" || e.CustomerID != "cus_life" {
			t.Errorf("event %d = %+v, want %s about sub_life", i, e, step.eventType)
		}
	}
	got, err := b.GetSubscription(ctx, seen[0].SubscriptionID)
	if err != nil {
		t.Fatal(err)
	}
	want := ports.BillingSubscription{
		ID: "sub_life", CustomerID: "cus_life", Status: membership.ProviderCanceled, PriceID: "price_m",
		CancelAtPeriodEnd: true, CurrentPeriodEnd: end, LatestInvoiceAttempt: 1,
	}
	if got != want {
		t.Errorf("final subscription = %+v, want %+v", got, want)
	}
}

func TestListEventsPagesAndFilters(t *testing.T) {
	t.Parallel()
	fake, b := newFake(t)
	kinds := []string{"customer.subscription.updated", "invoice.payment_failed", "charge.succeeded"}
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Second)
		id := fmt.Sprintf("evt_%03d", i)
		switch kind := kinds[i%3]; kind {
		case "invoice.payment_failed":
			fake.AddEvent(stripefake.InvoicePaymentFailedEvent(id, at, stripefake.Invoice{ID: "in_" + id, Customer: "cus_1", Subscription: "sub_1", AttemptCount: 1}))
		default:
			fake.AddEvent(stripefake.SubscriptionEvent(id, kind, at, sub))
		}
	}
	since := t0.Add(30 * time.Second)
	types := []string{"customer.subscription.updated", "invoice.payment_failed"}

	var got []string
	err := b.ListEventsOfTypes(context.Background(), since, types, func(e ports.BillingEvent) error {
		if e.Created.Before(since) || !slices.Contains(types, e.Type) {
			t.Errorf("event %s (%s at %s) should have been filtered out", e.ID, e.Type, e.Created)
		}
		if e.Type == "invoice.payment_failed" && (e.InvoiceID != "in_"+e.ID || e.AttemptCount != 1 || e.SubscriptionID != "sub_1") {
			t.Errorf("event %s mapped to %+v", e.ID, e)
		}
		got = append(got, e.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	var want []string
	for i := 299; i >= 30; i-- {
		if i%3 != 2 {
			want = append(want, fmt.Sprintf("evt_%03d", i))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListEvents gave %d events %v...,\nwant %d %v...", len(got), head(got), len(want), head(want))
	}

	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 pages of 100 for %d events", len(reqs), len(want))
	}
	for i, r := range reqs {
		q := r.Query
		if r.Method != "GET" || r.Path != "/v1/events" || q.Get("created[gte]") != fmt.Sprint(since.Unix()) || q.Get("limit") != "100" ||
			!slices.Equal(typesOf(q), types) {
			t.Errorf("request %d = %s %s?%s", i, r.Method, r.Path, q.Encode())
		}
	}
	if after := reqs[1].Query.Get("starting_after"); after != want[99] {
		t.Errorf("second page starts after %q, want %q", after, want[99])
	}
}

func TestListEventsStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	fake, b := newFake(t)
	for i := range 150 {
		fake.AddEvent(stripefake.SubscriptionEvent(fmt.Sprintf("evt_%03d", i), "customer.subscription.updated", t0.Add(time.Duration(i)*time.Second), sub))
	}
	stop := errors.New("stop")
	calls := 0
	err := b.ListEventsOfTypes(context.Background(), time.Time{}, nil, func(ports.BillingEvent) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("ListEvents = %v after %d calls, want the callback's error after 3", err, calls)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Query.Has("created[gte]") || reqs[0].Query.Has("types[0]") {
		t.Errorf("requests = %+v, want one page without created or types filters", reqs)
	}
}

func TestListEventsError(t *testing.T) {
	t.Parallel()
	fake, b := newFake(t)
	fake.FailNext(1, 429)
	err := b.ListEventsOfTypes(context.Background(), t0, nil, func(ports.BillingEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("ListEvents = %v, want the 429", err)
	}
}

func TestCheckoutAndPortalRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := ports.CheckoutRequest{
		PriceID: "price_m", CustomerEmail: "ada@example.org", ClientReferenceID: "person-1",
		SuccessURL: "https://app.example.org/welcome", CancelURL: "https://app.example.org/join",
	}
	withCustomer := base
	withCustomer.CustomerID = "cus_1"
	tests := []struct {
		name string
		req  ports.CheckoutRequest
		want url.Values
	}{
		{
			name: "new customer",
			req:  base,
			want: url.Values{
				"mode": {"subscription"}, "line_items[0][price]": {"price_m"}, "line_items[0][quantity]": {"1"},
				"customer_email": {"ada@example.org"}, "client_reference_id": {"person-1"},
				"success_url": {"https://app.example.org/welcome"}, "cancel_url": {"https://app.example.org/join"},
			},
		},
		{
			name: "returning customer",
			req:  withCustomer,
			want: url.Values{
				"mode": {"subscription"}, "line_items[0][price]": {"price_m"}, "line_items[0][quantity]": {"1"},
				"customer": {"cus_1"}, "client_reference_id": {"person-1"},
				"success_url": {"https://app.example.org/welcome"}, "cancel_url": {"https://app.example.org/join"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, b := newFake(t)
			u, err := b.CreateCheckoutSession(ctx, tt.req)
			if err != nil {
				t.Fatalf("CreateCheckoutSession: %v", err)
			}
			if !strings.HasPrefix(u, "https://checkout.stripe.com/") {
				t.Errorf("URL = %q", u)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/v1/checkout/sessions" {
				t.Fatalf("requests = %+v", reqs)
			}
			if got := reqs[0].Form; fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("form =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}

	t.Run("portal", func(t *testing.T) {
		t.Parallel()
		fake, b := newFake(t)
		u, err := b.CreatePortalSession(ctx, "cus_1", "https://app.example.org/account")
		if err != nil {
			t.Fatalf("CreatePortalSession: %v", err)
		}
		if !strings.HasPrefix(u, "https://billing.stripe.com/") {
			t.Errorf("URL = %q", u)
		}
		want := url.Values{"customer": {"cus_1"}, "return_url": {"https://app.example.org/account"}}
		if reqs := fake.Requests(); len(reqs) != 1 || reqs[0].Path != "/v1/billing_portal/sessions" || fmt.Sprint(reqs[0].Form) != fmt.Sprint(want) {
			t.Errorf("requests = %+v, want one with %v", reqs, want)
		}
	})
}

func typesOf(q url.Values) []string {
	var out []string
	for i := 0; q.Has(fmt.Sprintf("types[%d]", i)); i++ {
		out = append(out, q.Get(fmt.Sprintf("types[%d]", i)))
	}
	return out
}

func head(s []string) []string { return s[:min(len(s), 5)] }

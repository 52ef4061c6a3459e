package stripe_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// TestAgainstStripeMock checks request shapes against Stripe's OpenAPI spec,
// as enforced by stripe-mock (which answers canned objects).
func TestAgainstStripeMock(t *testing.T) {
	t.Parallel()
	root := stripefake.StartStripeMock(t)
	b, err := stripe.NewBilling(stripe.Config{SecretKey: stripefake.StripeMockKey, APIURL: root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The control: stripe-mock does reject an unknown parameter, so the
	// cases below would fail on a misspelt one.
	t.Run("stripe-mock rejects an unknown parameter", func(t *testing.T) {
		t.Parallel()
		form := url.Values{"mode": {"subscription"}, "customer_emial": {"ada@example.org"}, "success_url": {"https://x.test/ok"}}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, root+"/v1/checkout/sessions", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+stripefake.StripeMockKey)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("stripe-mock answered %s to an unknown parameter: %s", resp.Status, body)
		}
	})

	checkout := ports.CheckoutRequest{
		PriceID: "price_1", CustomerEmail: "ada@example.org", ClientReferenceID: "person-1",
		SuccessURL: "https://app.example.org/welcome", CancelURL: "https://app.example.org/join",
	}
	t.Run("checkout for a new customer", func(t *testing.T) {
		t.Parallel()
		u, err := b.CreateCheckoutSession(ctx, checkout)
		if err != nil {
			t.Fatalf("CreateCheckoutSession: %v", err)
		}
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("URL = %q", u)
		}
	})
	t.Run("checkout for a returning customer", func(t *testing.T) {
		t.Parallel()
		req := checkout
		req.CustomerID = "cus_123"
		u, err := b.CreateCheckoutSession(ctx, req)
		if err != nil {
			t.Fatalf("CreateCheckoutSession: %v", err)
		}
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("URL = %q", u)
		}
	})
	t.Run("portal", func(t *testing.T) {
		t.Parallel()
		u, err := b.CreatePortalSession(ctx, "cus_123", "https://app.example.org/account")
		if err != nil {
			t.Fatalf("CreatePortalSession: %v", err)
		}
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("URL = %q", u)
		}
	})
	t.Run("list events", func(t *testing.T) {
		t.Parallel()
		var got []ports.BillingEvent
		err := b.ListEventsOfTypes(ctx, t0, stripe.HandledEventTypes(), func(e ports.BillingEvent) error {
			got = append(got, e)
			return nil
		})
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		// stripe-mock ignores the filters and answers one canned event.
		if len(got) == 0 || !strings.HasPrefix(got[0].ID, "evt_") || got[0].Type == "" || got[0].Created.IsZero() || len(got[0].Payload) == 0 {
			t.Errorf("ListEvents gave %+v", got)
		}
	})
	t.Run("get subscription", func(t *testing.T) {
		t.Parallel()
		// The canned subscription is of a newer API version: only the
		// fields that did not move are meaningful.
		s, err := b.GetSubscription(ctx, "sub_123")
		if err != nil {
			t.Fatalf("GetSubscription: %v", err)
		}
		if s.ID == "" || s.CustomerID == "" || s.Status != membership.ProviderActive {
			t.Errorf("GetSubscription = %+v", s)
		}
	})
}

package stripe_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/ports"
)

const (
	oldSecret = "whsec_old_0123456789abcdef"
	newSecret = "whsec_new_fedcba9876543210"
)

func TestNewWebhookVerifierNeedsASecret(t *testing.T) {
	t.Parallel()
	for _, secrets := range [][]string{nil, {}, {""}, {"  ", ""}} {
		if _, err := stripe.NewWebhookVerifier(secrets, time.Minute); err == nil {
			t.Errorf("NewWebhookVerifier(%q) succeeded, want an error", secrets)
		}
	}
	if _, err := stripe.NewWebhookVerifier([]string{newSecret}, -time.Second); err == nil {
		t.Error("NewWebhookVerifier with a negative tolerance succeeded, want an error")
	}
}

func TestWebhookVerifierParse(t *testing.T) {
	t.Parallel()
	v, err := stripe.NewWebhookVerifier([]string{newSecret, "", oldSecret}, 300*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	event := stripefake.CheckoutSessionCompletedEvent("evt_checkout", t0, stripefake.CheckoutSession{
		Customer: "cus_1", Subscription: "sub_1", ClientReferenceID: "person-1", CustomerEmail: "ada@example.org", CustomerName: "Ada",
	})
	now := time.Now()
	sign := func(secret string, body []byte, at time.Time) ([]byte, string) {
		return stripefake.SignedWebhookAt(secret, body, at)
	}

	tests := []struct {
		name          string
		body          func() ([]byte, string)
		wantSignature bool // want an error wrapping ErrInvalidSignature
		wantOther     bool // want another error
	}{
		{name: "first secret", body: func() ([]byte, string) { return sign(newSecret, event, now) }},
		{name: "second of two secrets", body: func() ([]byte, string) { return sign(oldSecret, event, now) }},
		{name: "within the tolerance", body: func() ([]byte, string) { return sign(newSecret, event, now.Add(-290*time.Second)) }},
		{
			name: "other API version",
			body: func() ([]byte, string) {
				return sign(newSecret, bytes.Replace(event, []byte(`"api_version":"2023-10-16"`), []byte(`"api_version":"2020-08-27"`), 1), now)
			},
		},
		{
			name:          "unknown secret",
			body:          func() ([]byte, string) { return sign("whsec_someone_else", event, now) },
			wantSignature: true,
		},
		{
			name: "body changed after signing",
			body: func() ([]byte, string) {
				b, h := sign(newSecret, event, now)
				return bytes.Replace(b, []byte("person-1"), []byte("person-2"), 1), h
			},
			wantSignature: true,
		},
		{name: "missing header", body: func() ([]byte, string) { return event, "" }, wantSignature: true},
		{name: "garbled header", body: func() ([]byte, string) { return event, "t=abc,v1" }, wantSignature: true},
		{name: "header without v1", body: func() ([]byte, string) {
			b, h := sign(newSecret, event, now)
			return b, strings.Replace(h, "v1=", "v0=", 1)
		}, wantSignature: true},
		{name: "stale timestamp", body: func() ([]byte, string) { return sign(newSecret, event, now.Add(-301*time.Second)) }, wantSignature: true},
		{name: "signed body that is not JSON", body: func() ([]byte, string) { return sign(newSecret, []byte("hello"), now) }, wantOther: true},
		{name: "signed JSON that is not an event", body: func() ([]byte, string) { return sign(oldSecret, []byte(`{"hello":"world"}`), now) }, wantOther: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, header := tt.body()
			got, err := v.Parse(body, header)
			switch {
			case tt.wantSignature:
				if !errors.Is(err, ports.ErrInvalidSignature) {
					t.Fatalf("Parse error = %v, want ErrInvalidSignature", err)
				}
			case tt.wantOther:
				if err == nil || errors.Is(err, ports.ErrInvalidSignature) {
					t.Fatalf("Parse error = %v, want an error other than ErrInvalidSignature", err)
				}
			default:
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got.ID != "evt_checkout" || got.Type != "checkout.session.completed" || got.SubscriptionID != "sub_1" ||
					got.CustomerID != "cus_1" || got.ClientReferenceID != "person-1" || got.CustomerEmail != "ada@example.org" ||
					!got.Created.Equal(t0) || !bytes.Equal(got.Payload, body) {
					t.Fatalf("Parse = %+v", got)
				}
			}
			for _, secret := range []string{newSecret, oldSecret} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q carries a secret", err)
				}
			}
		})
	}
}

func TestWebhookVerifierTolerance(t *testing.T) {
	t.Parallel()
	v, err := stripe.NewWebhookVerifier([]string{newSecret}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	event := stripefake.SubscriptionEvent("evt_t", "customer.subscription.updated", t0, sub)
	if _, err := v.Parse(stripefake.SignedWebhookAt(newSecret, event, time.Now().Add(-5*time.Second))); err != nil {
		t.Errorf("5 s old with a 10 s tolerance: %v", err)
	}
	if _, err := v.Parse(stripefake.SignedWebhookAt(newSecret, event, time.Now().Add(-20*time.Second))); !errors.Is(err, ports.ErrInvalidSignature) {
		t.Errorf("20 s old with a 10 s tolerance: error = %v, want ErrInvalidSignature", err)
	}
}

// BenchmarkWebhookVerify measures verifying and mapping one realistic
// delivery (a 5.5 KB customer.subscription.updated).
func BenchmarkWebhookVerify(b *testing.B) {
	event, err := os.ReadFile("testdata/customer.subscription.updated.json")
	if err != nil {
		b.Fatal(err)
	}
	v, err := stripe.NewWebhookVerifier([]string{newSecret, oldSecret}, stripe.DefaultWebhookTolerance)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		secret string
	}{{"first secret", newSecret}, {"second secret", oldSecret}} {
		b.Run(bc.name, func(b *testing.B) {
			body, header := stripefake.SignedWebhookAt(bc.secret, event, time.Now())
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Parse(body, header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("EventFromJSON alone", func(b *testing.B) {
		b.SetBytes(int64(len(event)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stripe.EventFromJSON(event); err != nil {
				b.Fatal(err)
			}
		}
	})
}

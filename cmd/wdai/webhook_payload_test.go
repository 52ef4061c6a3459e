package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/fuzzcount"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// badPayloadEvents are validly signed checkout events whose JSON jsonb
// refuses: a \u0000 escape, bytes that are not UTF-8, an unpaired
// surrogate escape. They are answered 200, stored, and processed.
func badPayloadEvents(personID string) map[string][]byte {
	base := func(id, name string) []byte {
		return stripefake.CheckoutSessionCompletedEvent(id, time.Now(), stripefake.CheckoutSession{
			Customer: "cus_bad", Subscription: "sub_bad", ClientReferenceID: personID, CustomerEmail: "bad@example.test", CustomerName: name,
		})
	}
	nul := bytes.Replace(base("evt_bad_nul", "Ada NUL"), []byte("Ada NUL"), []byte(`Ada\u0000`), 1)
	utf := bytes.Replace(base("evt_bad_utf8", "Ada UTF"), []byte("Ada UTF"), []byte("Ada\xff\xfe"), 1)
	sur := bytes.Replace(base("evt_bad_surrogate", "Ada SUR"), []byte("Ada SUR"), []byte(`Ada\ud800`), 1)
	return map[string][]byte{"nul escape": nul, "invalid utf-8": utf, "lone surrogate": sur}
}

// TestSignedEventsThatJsonbRefusesAreStoredAndProcessed: each is answered
// 200 (not a 5xx that Stripe would retry for three days), stored once with
// its payload as raw bytes, and processed: the checkout links the customer
// and activates the membership.
func TestSignedEventsThatJsonbRefusesAreStoredAndProcessed(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	person := l.newPerson("bad@example.test")
	l.stripe.SetSubscription(stripefake.Subscription{ID: "sub_bad", Customer: "cus_bad", Status: "active", PriceID: testPriceID, CurrentPeriodEnd: time.Now().Add(30 * 24 * time.Hour)})
	for name, ev := range badPayloadEvents(person) {
		if code := l.deliver(ev); code != http.StatusOK {
			t.Fatalf("%s: answered %d, want 200", name, code)
		}
		if code := l.deliver(ev); code != http.StatusOK {
			t.Fatalf("%s: redelivery answered %d, want 200", name, code)
		}
	}
	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE payload_raw IS NOT NULL AND status = 'processed'`); n != 3 {
		t.Fatalf("%d raw events stored and processed, want 3", n)
	}
	if m := l.membership(person); m.Status != "active" {
		t.Fatalf("membership %+v, want active", m)
	}
	if n := l.count(`SELECT count(*) FROM dead_letters`); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
}

// FuzzStripeWebhookNever5xx: whatever a sender posts to /webhooks/stripe,
// signed with the right secret or not, the answer is never a 5xx (which
// Stripe would retry for three days): the real handler, verifier and
// PostgreSQL inbox. Seeds include the events jsonb refuses. Run with
// go test -fuzz FuzzStripeWebhookNever5xx ./cmd/wdai/ to explore more.
func FuzzStripeWebhookNever5xx(f *testing.F) {
	dbURL := testdb.NewURL(f)
	cfg, err := config.LoadFrom(map[string]string{"DATABASE_URL": dbURL, "STRIPE_WEBHOOK_SECRET": testWebhookSecret, "STRIPE_SECRET_KEY": "sk_test_fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	pool, err := postgres.Open(context.Background(), dbURL, postgres.PoolConfig{MaxConns: 4})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(pool.Close)
	sys, err := buildSystemWith(cfg, pool, slog.New(slog.DiscardHandler), ports.SystemClock{})
	if err != nil {
		f.Fatal(err)
	}
	migrator, err := postgres.NewMigrator(pool)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = migrator.Close() })
	handler, err := buildHTTP(sys, migrator)
	if err != nil {
		f.Fatal(err)
	}
	for _, ev := range badPayloadEvents("7d9f0d3e-0000-4000-8000-000000000001") {
		f.Add(ev, true)
	}
	f.Add(stripefake.SubscriptionEvent("evt_ok", "customer.subscription.updated", time.Now(), stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active", PriceID: "p"}), true)
	f.Add([]byte(`{"id":"evt_x","type":"\u0000","created":1,"data":{"object":{}}}`), true)
	f.Add([]byte(`{"id":"","type":"","created":-1}`), true)
	f.Add([]byte("\x00\xff not json"), true)
	f.Add([]byte(`{"id":"evt_y"}`), false)
	f.Add([]byte(strings.Repeat(`{"a":`, 10000)), true)
	n := 0
	count, err := fuzzcount.New("FuzzStripeWebhookNever5xx")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		n++
		count.Add()
		header := "t=1,v1=00"
		if signed {
			body, header = stripefake.SignedWebhookAt(testWebhookSecret, body, time.Now())
		}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", header)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("input %d (signed %v, %d bytes) answered %d: %s", n, signed, len(body), rec.Code, fmt.Sprintf("%.200q", rec.Body.String()))
		}
	})
}

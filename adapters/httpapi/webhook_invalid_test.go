package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// A signed billing event the use case refuses as invalid (an id with a
// NUL) is answered 400 and logged at WARN: it is refused, never stored
// under another id, and never an ERROR line.
func TestRefusedBillingEventIs400AndWarn(t *testing.T) {
	t.Parallel()
	logs := &syncWriter{buf: &bytes.Buffer{}}
	h := httpapi.BillingWebhookHandler(func([]byte, string) (ports.BillingEvent, error) {
		return ports.BillingEvent{ID: "evt_\x00x", Type: "customer.subscription.updated"}, nil
	}, func(context.Context, ports.BillingEvent) error {
		return fmt.Errorf("%w: billing event id: contains a control character", application.ErrInvalidInput)
	}, slog.New(slog.NewTextHandler(logs, nil)))
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhooks/stripe", strings.NewReader("{}"))
	req.Header.Set("Stripe-Signature", "t=1,v1=abc")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || strings.Contains(out, "level=ERROR") || strings.Contains(out, "\x00") {
		t.Fatalf("logs %q: want one WARN line without the raw id", out)
	}
}

// A billing event the service cannot store (its database down or
// restarting) is answered 503 with Retry-After, so the sender retries it.
func TestUnstorableBillingEventIs503WithRetryAfter(t *testing.T) {
	t.Parallel()
	h := httpapi.BillingWebhookHandler(func([]byte, string) (ports.BillingEvent, error) {
		return ports.BillingEvent{ID: "evt_1", Type: "customer.subscription.updated"}, nil
	}, func(context.Context, ports.BillingEvent) error {
		return fmt.Errorf("begin: %w", context.DeadlineExceeded)
	}, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhooks/stripe", strings.NewReader("{}"))
	req.Header.Set("Stripe-Signature", "t=1,v1=abc")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}

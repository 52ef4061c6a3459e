package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/internal/config"
)

// Without LUMA_WEBHOOK_SECRET, POST /webhooks/luma answers 503 naming the
// setting (Luma retries until it is configured); a secret that is not a
// signing secret stops the start.
func TestLumaWebhookRoute(t *testing.T) {
	t.Parallel()
	h, err := eventsWebhook(&system{cfg: config.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhooks/luma", strings.NewReader("{}")))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "LUMA_WEBHOOK_SECRET") {
		t.Fatalf("unconfigured: %d %q, want 503 naming LUMA_WEBHOOK_SECRET", rec.Code, rec.Body)
	}
	if _, err := eventsWebhook(&system{cfg: config.Config{LumaWebhookSecret: "whsec_c2hvcnQ="}}); err == nil || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Fatalf("a short secret: %v, want a refusal that does not quote it", err)
	}
}

package httpapi_test

import (
	"bytes"
	"context"
	"errors"
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

// eventsWebhook serves the handler with parse answering reg, err, and
// counts the ingest calls (answering ingestErr).
func eventsWebhook(t *testing.T, reg ports.GuestRegistration, parseErr, ingestErr error, logs *syncWriter) (http.Handler, *int, *int) {
	t.Helper()
	parsed, ingested := new(int), new(int)
	if logs == nil {
		logs = &syncWriter{buf: &bytes.Buffer{}}
	}
	return httpapi.EventsWebhookHandler(func([]byte, http.Header) (ports.GuestRegistration, error) {
		*parsed++
		return reg, parseErr
	}, func(_ context.Context, got ports.GuestRegistration) error {
		*ingested++
		if got != reg {
			t.Errorf("ingested %+v, want %+v", got, reg)
		}
		return ingestErr
	}, slog.New(slog.NewTextHandler(logs, nil))), parsed, ingested
}

func postEvents(t *testing.T, h http.Handler, method string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(t.Context(), method, "/webhooks/luma", bytes.NewReader(body))
	h.ServeHTTP(rec, req)
	return rec
}

var guestReg = ports.GuestRegistration{DeliveryID: "msg_1", Type: ports.GuestRegistered, EventID: "evt-1",
	Guest: ports.PlatformGuest{ID: "gst-1", Email: "a@x.org", Status: ports.GuestPendingApproval}}

// What does not verify, or is no webhook, is 400 and reaches no store; a
// body over 1 MiB is 413 before it is verified; only POST is served.
func TestEventsWebhookRefusals(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		err    error
		body   []byte
		method string
		want   int
		parsed int
	}{
		"bad signature":   {fmt.Errorf("luma: webhook: %w: no matching signature found", ports.ErrInvalidSignature), []byte("{}"), http.MethodPost, http.StatusBadRequest, 1},
		"malformed body":  {errors.New("luma: webhook: malformed luma webhook: no type"), []byte("{}"), http.MethodPost, http.StatusBadRequest, 1},
		"over 1 MiB":      {nil, bytes.Repeat([]byte("x"), httpapi.MaxWebhookBody+1), http.MethodPost, http.StatusRequestEntityTooLarge, 0},
		"GET":             {nil, nil, http.MethodGet, http.StatusMethodNotAllowed, 0},
		"exactly the cap": {ports.ErrInvalidSignature, bytes.Repeat([]byte("x"), httpapi.MaxWebhookBody), http.MethodPost, http.StatusBadRequest, 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, parsed, ingested := eventsWebhook(t, guestReg, tc.err, nil, nil)
			rec := postEvents(t, h, tc.method, tc.body)
			if rec.Code != tc.want || *parsed != tc.parsed || *ingested != 0 {
				t.Fatalf("status %d, parsed %d, ingested %d; want %d, %d, 0", rec.Code, *parsed, *ingested, tc.want, tc.parsed)
			}
		})
	}
}

// A registration is ingested and answered 200; another type is answered
// 200 and not stored.
func TestEventsWebhookStoresRegistrationsOnly(t *testing.T) {
	t.Parallel()
	h, _, ingested := eventsWebhook(t, guestReg, nil, nil, nil)
	if rec := postEvents(t, h, http.MethodPost, []byte("{}")); rec.Code != http.StatusOK || *ingested != 1 || !strings.Contains(rec.Body.String(), `"stored":true`) {
		t.Fatalf("registration: %d %s, ingested %d", rec.Code, rec.Body, *ingested)
	}
	other := ports.GuestRegistration{DeliveryID: "msg_2", Type: "event.created"}
	h, _, ingested = eventsWebhook(t, other, nil, nil, nil)
	if rec := postEvents(t, h, http.MethodPost, []byte("{}")); rec.Code != http.StatusOK || *ingested != 0 || !strings.Contains(rec.Body.String(), `"stored":false`) {
		t.Fatalf("event.created: %d %s, ingested %d", rec.Code, rec.Body, *ingested)
	}
}

// A signed registration the use case refuses is 400 and one WARN line
// without the raw id; one it cannot store is 503 with Retry-After.
func TestEventsWebhookIngestFailures(t *testing.T) {
	t.Parallel()
	logs := &syncWriter{buf: &bytes.Buffer{}}
	bad := guestReg
	bad.DeliveryID = "msg\x00"
	h, _, _ := eventsWebhook(t, bad, nil, fmt.Errorf("%w: guest registration delivery id: control character", application.ErrInvalidInput), logs)
	if rec := postEvents(t, h, http.MethodPost, []byte("{}")); rec.Code != http.StatusBadRequest {
		t.Fatalf("refused: %d, want 400", rec.Code)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || strings.Contains(out, "level=ERROR") || strings.Contains(out, "\x00") || strings.Contains(out, "a@x.org") {
		t.Fatalf("logs %q: want one WARN line without the raw id or the email", out)
	}
	h, _, _ = eventsWebhook(t, guestReg, nil, fmt.Errorf("begin: %w", context.DeadlineExceeded), nil)
	if rec := postEvents(t, h, http.MethodPost, []byte("{}")); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("unstorable: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

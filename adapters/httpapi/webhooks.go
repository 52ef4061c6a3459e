package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// MaxWebhookBody is the most a webhook may send (413 beyond).
const MaxWebhookBody = 1 << 20

// readWebhook accepts only POST and reads at most MaxWebhookBody bytes,
// answering 405, 413 or 400 itself.
func readWebhook(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	// A declared length within the cap sizes the buffer once (io.ReadAll
	// grows and copies five times for a 5.5 KB event); a lie in either
	// direction costs only a regrow, and MaxBytesReader still bounds it.
	buf := bytes.NewBuffer(make([]byte, 0, declaredSize(r.ContentLength)))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	body := buf.Bytes()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, "webhook body larger than 1 MiB", http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, "could not read the webhook body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// declaredSize is the buffer to read a body of the declared length into:
// the length plus bytes.MinRead (the room ReadFrom wants before each read,
// so reaching EOF needs no regrow), or bytes.MinRead when the length is
// unknown or over the cap.
func declaredSize(n int64) int {
	if n <= 0 || n > MaxWebhookBody {
		return bytes.MinRead
	}
	return int(n) + bytes.MinRead
}

// verified answers 400 for a delivery that did not verify (a bad signature,
// or a body that is not an event) and reports whether to go on.
func verified(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, ports.ErrInvalidSignature):
		http.Error(w, "webhook signature verification failed", http.StatusBadRequest)
		return false
	case err != nil:
		http.Error(w, "malformed webhook event", http.StatusBadRequest)
		return false
	}
	return true
}

// IdentityWebhookHandler serves POST /webhooks/clerk: verify, then apply
// once per delivery id. A bad signature or a stale timestamp gets 400 and
// changes nothing.
func IdentityWebhookHandler(parse func([]byte, http.Header) (ports.IdentityEvent, error),
	apply func(context.Context, ports.IdentityEvent) error, logger *slog.Logger,
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readWebhook(w, r)
		if !ok {
			return
		}
		ev, err := parse(body, r.Header)
		if !verified(w, err) {
			return
		}
		if err := apply(r.Context(), ev); err != nil {
			// 503 makes the sender retry; the delivery id keeps it idempotent.
			logger.ErrorContext(r.Context(), "apply identity webhook", "delivery", ev.ID, "type", string(ev.Type), "error", err.Error())
			unavailable(w, "could not apply the event; retry later")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// BillingWebhookHandler serves POST /webhooks/stripe: read at most 1 MiB,
// verify the signature, store the event in the inbox together with its
// processing message, answer 200. A duplicate id also answers 200.
func BillingWebhookHandler(parse func(body []byte, signature string) (ports.BillingEvent, error),
	ingest func(context.Context, ports.BillingEvent) error, logger *slog.Logger,
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readWebhook(w, r)
		if !ok {
			return
		}
		sig := r.Header.Get("Stripe-Signature")
		if sig == "" {
			http.Error(w, "missing Stripe-Signature header", http.StatusBadRequest)
			return
		}
		ev, err := parse(body, sig)
		if !verified(w, err) {
			return
		}
		if err := ingest(r.Context(), ev); err != nil {
			if errors.Is(err, application.ErrInvalidInput) {
				// Signed but unusable (an id with a NUL): refused, nothing stored.
				logger.WarnContext(r.Context(), "refused billing webhook", "event_id", strconv.Quote(ev.ID), "type", ev.Type, "error", err.Error())
				http.Error(w, "the event is not valid: "+err.Error(), http.StatusBadRequest)
				return
			}
			logger.ErrorContext(r.Context(), "store billing webhook", "event_id", ev.ID, "type", ev.Type, "error", err.Error())
			unavailable(w, "could not store the event; retry later")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":true}`))
	})
}

// unavailable answers a delivery the service could not store or apply
// (its database down or restarting, say): 503 with Retry-After, so the
// sender retries it later. Nothing was acknowledged, so nothing is lost.
func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "5")
	http.Error(w, msg, http.StatusServiceUnavailable)
}

// NotConfigured answers 503 for a route whose integration has no
// credentials, so that the sender retries once it is configured.
func NotConfigured(what string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, what+" is not configured on this server", http.StatusServiceUnavailable)
	})
}

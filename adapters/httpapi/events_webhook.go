package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// EventsWebhookHandler serves POST /webhooks/luma: read at most 1 MiB,
// verify the Standard Webhooks signature (400 for a missing header, a bad
// signature, a timestamp more than 5 minutes off or a body that is not a
// webhook, and nothing is stored), then store a guest.registered delivery
// in the guest inbox together with its decision message and answer 200. A
// redelivery answers 200 and does nothing. Other types are acknowledged
// (200) and not stored: nothing reads them.
func EventsWebhookHandler(parse func(body []byte, h http.Header) (ports.GuestRegistration, error),
	ingest func(context.Context, ports.GuestRegistration) error, logger *slog.Logger,
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readWebhook(w, r)
		if !ok {
			return
		}
		reg, err := parse(body, r.Header)
		if !verified(w, err) {
			logger.InfoContext(r.Context(), "refused events webhook", "error", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if reg.Type != ports.GuestRegistered {
			logger.DebugContext(r.Context(), "events webhook not stored", "delivery", strconv.Quote(reg.DeliveryID), "type", strconv.Quote(reg.Type))
			_, _ = w.Write([]byte(`{"received":true,"stored":false}`))
			return
		}
		if err := ingest(r.Context(), reg); err != nil {
			if errors.Is(err, application.ErrInvalidInput) {
				// Signed but unusable (an id with a NUL): refused, nothing stored.
				logger.WarnContext(r.Context(), "refused events webhook", "delivery", strconv.Quote(reg.DeliveryID), "error", err.Error())
				http.Error(w, "the webhook is not valid: "+err.Error(), http.StatusBadRequest)
				return
			}
			logger.ErrorContext(r.Context(), "store events webhook", "delivery", strconv.Quote(reg.DeliveryID), "error", err.Error())
			unavailable(w, "could not store the webhook; retry later")
			return
		}
		_, _ = w.Write([]byte(`{"received":true,"stored":true}`))
	})
}

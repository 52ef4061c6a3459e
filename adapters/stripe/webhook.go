package stripe

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/womendefiningai/platform/ports"
)

// DefaultWebhookTolerance is how old a signature may be: Stripe's 300 s.
const DefaultWebhookTolerance = webhook.DefaultTolerance

// SignatureHeader is the HTTP header that carries the webhook signature.
const SignatureHeader = "Stripe-Signature"

// WebhookVerifier checks the Stripe-Signature of webhook deliveries against
// one or more endpoint secrets (several while a secret is being rolled).
type WebhookVerifier struct {
	secrets   []string
	tolerance time.Duration
}

// NewWebhookVerifier returns a verifier for the endpoint secrets (whsec_...;
// empty entries are ignored, at least one must remain) that rejects
// signatures older than tolerance (0 means DefaultWebhookTolerance).
func NewWebhookVerifier(secrets []string, tolerance time.Duration) (*WebhookVerifier, error) {
	var kept []string
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s != "" {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return nil, errors.New("stripe: webhook: at least one signing secret is required")
	}
	switch {
	case tolerance < 0:
		return nil, fmt.Errorf("stripe: webhook: negative tolerance %s", tolerance)
	case tolerance == 0:
		tolerance = DefaultWebhookTolerance
	}
	return &WebhookVerifier{secrets: kept, tolerance: tolerance}, nil
}

// Parse verifies payload against the Stripe-Signature header value and maps
// the event (see EventFromJSON). A missing, malformed, wrong or stale
// signature gives an error wrapping ports.ErrInvalidSignature; a verified
// body that is not an event gives another error. Events of any API version
// are accepted.
//
// The signature is checked with webhook.ValidatePayloadWithTolerance (what
// ConstructEventWithOptions runs inside) and the body is then read once by
// EventFromJSON: decoding it into stripe.Event as well would triple the cost
// of every delivery and tie us to that version's envelope.
func (v *WebhookVerifier) Parse(payload []byte, signatureHeader string) (ports.BillingEvent, error) {
	var err error
	for _, secret := range v.secrets {
		err = webhook.ValidatePayloadWithTolerance(payload, signatureHeader, secret, v.tolerance)
		if err == nil {
			ev, err := EventFromJSON(payload)
			if err != nil {
				return ports.BillingEvent{}, fmt.Errorf("stripe: webhook: %w", err)
			}
			return ev, nil
		}
		if !errors.Is(err, webhook.ErrNoValidSignature) {
			break // the same for every secret
		}
	}
	switch {
	case errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrNotSigned),
		errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrTooOld):
		return ports.BillingEvent{}, fmt.Errorf("stripe: webhook: %w (%s)", ports.ErrInvalidSignature, err.Error())
	default:
		// The signature verified but stripe-go could not decode the body.
		return ports.BillingEvent{}, fmt.Errorf("stripe: webhook: %w", err)
	}
}

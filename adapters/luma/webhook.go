package luma

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/womendefiningai/platform/ports"
)

// Luma signs its webhooks the Standard Webhooks way (the scheme Svix
// implements): three headers carry the delivery id (the same on every
// retry), the Unix time of sending and "v1,<base64 HMAC-SHA256>" entries
// separated by spaces, over "<id>.<timestamp>.<raw body>", with the key
// that is the base64 after "whsec_" in the endpoint's signing secret. A
// timestamp more than 5 minutes from now is refused (replays).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// ErrMalformedWebhook is returned (wrapped) for a delivery whose signature
// verifies but whose body is not a Luma webhook we can read: redelivery
// will not fix it.
var ErrMalformedWebhook = errors.New("malformed luma webhook")

const webhookSecretPrefix = "whsec_"

// minWebhookKeyLen refuses keys too short to be a signing secret's.
const minWebhookKeyLen = 16

// WebhookVerifier verifies and decodes Luma's webhooks. It is safe for
// concurrent use.
type WebhookVerifier struct {
	wh *svix.Webhook
}

// NewWebhookVerifier returns a verifier for the endpoint's signing secret
// ("whsec_" then base64). Its errors never quote the secret.
func NewWebhookVerifier(secret string) (*WebhookVerifier, error) {
	key, err := WebhookKey(secret)
	if err != nil {
		return nil, err
	}
	wh, err := svix.NewWebhookRaw(key)
	if err != nil {
		return nil, errors.New("luma: webhook secret refused")
	}
	return &WebhookVerifier{wh: wh}, nil
}

// WebhookKey is the HMAC key of a signing secret: the base64 after
// "whsec_", at least 16 bytes. Its errors never quote the secret.
func WebhookKey(secret string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(secret, webhookSecretPrefix)
	if !ok {
		return nil, errors.New("luma: webhook secret does not start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, errors.New("luma: webhook secret is not base64 after whsec_")
	}
	if len(key) < minWebhookKeyLen {
		return nil, fmt.Errorf("luma: webhook secret is %d bytes, want at least %d", len(key), minWebhookKeyLen)
	}
	return key, nil
}

// wireWebhook is every Luma webhook: {"type": ..., "data": {...}}.
type wireWebhook struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// wireGuest is the part of guest.registered's data (a guest, as in the
// guest list, with its event) the application reads: id is the guest's
// id, event.id the event's.
type wireGuest struct {
	ID             string  `json:"id"`
	UserEmail      string  `json:"user_email"`
	UserName       *string `json:"user_name"`
	ApprovalStatus string  `json:"approval_status"`
	RegisteredAt   *string `json:"registered_at"`
	Event          *struct {
		ID string `json:"id"`
	} `json:"event"`
	EventID string `json:"event_id"`
}

// Parse verifies body against the Standard Webhooks headers of h (only
// those: the three webhook-* headers must all be present) and decodes it.
// A missing header, a bad signature or a timestamp more than 5 minutes
// off gives an error wrapping ports.ErrInvalidSignature; a verified body
// that is not a readable Luma webhook one wrapping ErrMalformedWebhook.
// A type other than guest.registered comes back with only its delivery id
// and type.
func (v *WebhookVerifier) Parse(body []byte, h http.Header) (ports.GuestRegistration, error) {
	signed := http.Header{}
	for _, name := range []string{HeaderWebhookID, HeaderWebhookTimestamp, HeaderWebhookSignature} {
		if h.Get(name) == "" {
			return ports.GuestRegistration{}, fmt.Errorf("luma: webhook: %w: missing %s header", ports.ErrInvalidSignature, name)
		}
		signed.Set(name, h.Get(name))
	}
	if err := v.wh.Verify(body, signed); err != nil {
		// svix's errors are fixed texts, never the secret or the body.
		return ports.GuestRegistration{}, fmt.Errorf("luma: webhook: %w: %s", ports.ErrInvalidSignature, strings.ToLower(err.Error()))
	}
	r := ports.GuestRegistration{DeliveryID: signed.Get(HeaderWebhookID)}
	var env wireWebhook
	if err := json.Unmarshal(body, &env); err != nil {
		return ports.GuestRegistration{}, malformed("the body is not a JSON webhook")
	}
	if r.Type = env.Type; r.Type == "" {
		return ports.GuestRegistration{}, malformed("no type")
	}
	if r.Type != ports.GuestRegistered {
		return r, nil
	}
	var g wireGuest
	if !strings.HasPrefix(strings.TrimSpace(string(env.Data)), "{") || json.Unmarshal(env.Data, &g) != nil {
		return ports.GuestRegistration{}, malformed("guest.registered data is not a guest")
	}
	if g.Event != nil && g.Event.ID != "" {
		r.EventID = g.Event.ID
	} else {
		r.EventID = g.EventID
	}
	if g.ID == "" || r.EventID == "" {
		return ports.GuestRegistration{}, malformed("guest.registered names no guest or no event")
	}
	r.Guest = ports.PlatformGuest{ID: g.ID, Email: g.UserEmail, Status: ports.GuestStatus(g.ApprovalStatus)}
	if g.UserName != nil {
		r.Guest.Name = *g.UserName
	}
	if g.RegisteredAt != nil {
		r.Guest.RegisteredAt, _ = time.Parse(time.RFC3339, *g.RegisteredAt)
	}
	return r, nil
}

func malformed(reason string) error {
	return fmt.Errorf("luma: webhook: %w: %s", ErrMalformedWebhook, reason)
}

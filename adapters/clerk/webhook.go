package clerk

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	clerksdk "github.com/clerk/clerk-sdk-go/v2"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/womendefiningai/platform/ports"
)

// ErrMalformedEvent is returned (wrapped) for a webhook whose signature
// verifies but whose body is not a Clerk event we can read. Redelivery will
// not fix it.
var ErrMalformedEvent = errors.New("malformed clerk webhook event")

const webhookSecretPrefix = "whsec_"

// minWebhookKeyLen rejects secrets too short to be Svix's (24 bytes or more).
const minWebhookKeyLen = 16

// WebhookVerifier verifies and decodes Clerk webhooks, which Svix delivers
// and signs. It is safe for concurrent use.
type WebhookVerifier struct {
	wh *svix.Webhook
}

// NewWebhookVerifier returns a verifier for the endpoint's signing secret
// ("whsec_" then base64). Its errors never quote the secret.
func NewWebhookVerifier(secret string) (*WebhookVerifier, error) {
	// svix.NewWebhook accepts "" (an empty HMAC key) and a secret without
	// its prefix; refuse both here.
	encoded, ok := strings.CutPrefix(secret, webhookSecretPrefix)
	if !ok {
		return nil, errors.New("clerk: webhook secret does not start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, errors.New("clerk: webhook secret is not base64 after whsec_")
	}
	if len(key) < minWebhookKeyLen {
		return nil, fmt.Errorf("clerk: webhook secret is %d bytes, want at least %d", len(key), minWebhookKeyLen)
	}
	wh, err := svix.NewWebhookRaw(key)
	if err != nil {
		return nil, errors.New("clerk: webhook secret refused by svix")
	}
	return &WebhookVerifier{wh: wh}, nil
}

// wireEvent is the envelope of every Clerk webhook.
type wireEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Parse verifies body against the Svix headers h and decodes it. A bad or
// missing signature, or a timestamp more than 5 minutes from now, gives an
// error wrapping ports.ErrInvalidSignature; a verified body that is not a
// readable Clerk event gives one wrapping ErrMalformedEvent. Events of types
// other than ports.IdentityUser* come back with only ID and Type.
func (w *WebhookVerifier) Parse(body []byte, h http.Header) (ports.IdentityEvent, error) {
	if err := w.wh.Verify(body, h); err != nil {
		// svix's errors are fixed texts ("No matching signature found",
		// "Message timestamp too old", ...), never the secret or the body.
		return ports.IdentityEvent{}, fmt.Errorf("clerk: webhook: %w: %s", ports.ErrInvalidSignature, strings.ToLower(err.Error()))
	}
	ev := ports.IdentityEvent{ID: deliveryID(h)}

	var env wireEvent
	if err := json.Unmarshal(body, &env); err != nil {
		return ports.IdentityEvent{}, malformed(ev.ID, "body is not a JSON event")
	}
	if env.Type == "" {
		return ports.IdentityEvent{}, malformed(ev.ID, "no type")
	}
	ev.Type = ports.IdentityEventType(env.Type)

	switch ev.Type {
	case ports.IdentityUserCreated, ports.IdentityUserUpdated:
		var u clerksdk.User
		if err := decodeData(env.Data, &u); err != nil {
			return ports.IdentityEvent{}, malformed(ev.ID, string(ev.Type)+" data is not a user")
		}
		if u.ID == "" {
			return ports.IdentityEvent{}, malformed(ev.ID, string(ev.Type)+" user has no id")
		}
		ev.User = identityUser(&u)
	case ports.IdentityUserDeleted:
		var d clerksdk.DeletedResource
		if err := decodeData(env.Data, &d); err != nil {
			return ports.IdentityEvent{}, malformed(ev.ID, "user.deleted data is not a deleted object")
		}
		if d.ID == "" {
			return ports.IdentityEvent{}, malformed(ev.ID, "user.deleted has no id")
		}
		ev.User = ports.IdentityUser{ID: d.ID}
	}
	return ev, nil
}

// decodeData decodes an event's data object into dst; absent, null or
// non-object data is an error.
func decodeData(data json.RawMessage, dst any) error {
	trimmed := strings.TrimSpace(string(data))
	if !strings.HasPrefix(trimmed, "{") {
		return errors.New("data is not an object")
	}
	return json.Unmarshal(data, dst)
}

// deliveryID is the message id svix verified: svix-id, or webhook-id when
// the delivery uses the Standard Webhooks header names (svix falls back to
// that set unless all three svix-* headers are present).
func deliveryID(h http.Header) string {
	if h.Get("svix-id") != "" && h.Get("svix-signature") != "" && h.Get("svix-timestamp") != "" {
		return h.Get("svix-id")
	}
	return h.Get("webhook-id")
}

func malformed(id, reason string) error {
	return fmt.Errorf("clerk: webhook %s: %w: %s", id, ErrMalformedEvent, reason)
}

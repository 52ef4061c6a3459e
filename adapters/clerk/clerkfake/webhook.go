package clerkfake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/womendefiningai/platform/ports"
)

// NewWebhookSecret returns a fresh signing secret in Svix's format:
// "whsec_" followed by 24 random bytes in standard base64.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// SignWebhook returns the headers Svix sends with body: svix-id (msgID),
// svix-timestamp (ts in Unix seconds) and svix-signature ("v1,<base64
// HMAC-SHA256 of {id}.{ts}.{body}>"), computed by the svix library itself.
// It panics if secret is not base64 after an optional "whsec_" prefix: that is
// a mistake in the test.
func SignWebhook(secret, msgID string, body []byte, ts time.Time) http.Header {
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		panic(fmt.Sprintf("clerkfake: webhook secret is not whsec_<base64>: %v", err))
	}
	sig, err := wh.Sign(msgID, ts, body)
	if err != nil {
		panic(fmt.Sprintf("clerkfake: sign webhook: %v", err))
	}
	h := make(http.Header)
	h.Set("svix-id", msgID)
	h.Set("svix-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("svix-signature", sig)
	return h
}

// UserEvent returns a Clerk webhook body of type typ about u, in the shape
// Clerk delivers: user.created and user.updated carry the whole user (as GET
// /users/{id} answers), user.deleted carries {id, object, deleted:true}.
// Any other typ carries the user too.
func UserEvent(typ ports.IdentityEventType, u ports.IdentityUser) []byte {
	var data any = wireUserFrom(u)
	if typ == ports.IdentityUserDeleted {
		data = map[string]any{"id": u.ID, "object": "user", "deleted": true}
	}
	return mustMarshal(map[string]any{
		"data":        data,
		"object":      "event",
		"type":        string(typ),
		"instance_id": "ins_fake",
		"timestamp":   time.Now().UnixMilli(),
	})
}

type wireVerification struct {
	Status   string `json:"status"`
	Strategy string `json:"strategy"`
}

type wireEmail struct {
	ID           string           `json:"id"`
	Object       string           `json:"object"`
	EmailAddress string           `json:"email_address"`
	Reserved     bool             `json:"reserved"`
	Verification wireVerification `json:"verification"`
	LinkedTo     []any            `json:"linked_to"`
}

// wireUser is the subset of Clerk's user object that the fake fills in.
type wireUser struct {
	ID                    string         `json:"id"`
	Object                string         `json:"object"`
	FirstName             *string        `json:"first_name"`
	LastName              *string        `json:"last_name"`
	PrimaryEmailAddressID *string        `json:"primary_email_address_id"`
	EmailAddresses        []wireEmail    `json:"email_addresses"`
	PublicMetadata        map[string]any `json:"public_metadata"`
	CreatedAt             int64          `json:"created_at"`
	UpdatedAt             int64          `json:"updated_at"`
}

func wireUserFrom(u ports.IdentityUser) wireUser {
	w := wireUser{
		ID:             u.ID,
		Object:         "user",
		FirstName:      nullable(u.FirstName),
		LastName:       nullable(u.LastName),
		EmailAddresses: make([]wireEmail, 0, len(u.Emails)),
		PublicMetadata: map[string]any{},
		CreatedAt:      time.Now().UnixMilli(),
		UpdatedAt:      time.Now().UnixMilli(),
	}
	for i, e := range u.Emails {
		status := "unverified"
		if e.Verified {
			status = "verified"
		}
		id := fmt.Sprintf("idn_%s_%d", u.ID, i+1)
		w.EmailAddresses = append(w.EmailAddresses, wireEmail{
			ID:           id,
			Object:       "email_address",
			EmailAddress: e.Address,
			Verification: wireVerification{Status: status, Strategy: "email_code"},
			LinkedTo:     []any{},
		})
		if u.PrimaryEmail != "" && e.Address == u.PrimaryEmail && w.PrimaryEmailAddressID == nil {
			w.PrimaryEmailAddressID = &id
		}
	}
	return w
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

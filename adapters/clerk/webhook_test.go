package clerk_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk"
	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/ports"
)

func newWebhookVerifier(t *testing.T) (*clerk.WebhookVerifier, string) {
	t.Helper()
	secret := clerkfake.NewWebhookSecret()
	wv, err := clerk.NewWebhookVerifier(secret)
	if err != nil {
		t.Fatalf("NewWebhookVerifier: %v", err)
	}
	return wv, secret
}

var ada = ports.IdentityUser{
	ID: "user_2ada",
	Emails: []ports.IdentityEmail{
		{Address: "ada@old.example.test", Verified: false},
		{Address: "ada@example.test", Verified: true},
	},
	PrimaryEmail: "ada@example.test",
	FirstName:    "Ada",
	LastName:     "Lovelace",
}

func TestWebhookParsesUserEvents(t *testing.T) {
	t.Parallel()
	wv, secret := newWebhookVerifier(t)

	cases := []struct {
		name string
		body []byte
		want ports.IdentityEvent
	}{
		{"user.created", clerkfake.UserEvent(ports.IdentityUserCreated, ada),
			ports.IdentityEvent{ID: "msg_1", Type: ports.IdentityUserCreated, User: ada}},
		{"user.updated", clerkfake.UserEvent(ports.IdentityUserUpdated, ada),
			ports.IdentityEvent{ID: "msg_1", Type: ports.IdentityUserUpdated, User: ada}},
		{"user.deleted", clerkfake.UserEvent(ports.IdentityUserDeleted, ada),
			ports.IdentityEvent{ID: "msg_1", Type: ports.IdentityUserDeleted, User: ports.IdentityUser{ID: ada.ID}}},
		{"documented user.deleted payload", []byte(`{"data":{"deleted":true,"id":"user_29wBMCtzATuFJut8jO2VNTVekS4","object":"user"},"object":"event","type":"user.deleted"}`),
			ports.IdentityEvent{ID: "msg_1", Type: ports.IdentityUserDeleted, User: ports.IdentityUser{ID: "user_29wBMCtzATuFJut8jO2VNTVekS4"}}},
		{"a type we ignore", []byte(`{"data":{"id":"sess_1","object":"session"},"object":"event","type":"session.created"}`),
			ports.IdentityEvent{ID: "msg_1", Type: "session.created"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := clerkfake.SignWebhook(secret, "msg_1", tc.body, time.Now())
			got, err := wv.Parse(tc.body, h)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWebhookStandardHeaderNames(t *testing.T) {
	t.Parallel()
	wv, secret := newWebhookVerifier(t)
	body := clerkfake.UserEvent(ports.IdentityUserCreated, ada)
	signed := clerkfake.SignWebhook(secret, "msg_std", body, time.Now())
	h := http.Header{}
	h.Set("webhook-id", signed.Get("svix-id"))
	h.Set("webhook-timestamp", signed.Get("svix-timestamp"))
	h.Set("webhook-signature", signed.Get("svix-signature"))

	got, err := wv.Parse(body, h)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got.ID != "msg_std" {
		t.Errorf("ID = %q, want msg_std", got.ID)
	}
}

func TestWebhookRejectsUnverifiedDeliveries(t *testing.T) {
	t.Parallel()
	wv, secret := newWebhookVerifier(t)
	body := clerkfake.UserEvent(ports.IdentityUserCreated, ada)
	tampered := []byte(strings.Replace(string(body), "ada@example.test", "eve@example.test", 1))

	cases := []struct {
		name    string
		body    []byte
		headers http.Header
	}{
		{"tampered body", tampered, clerkfake.SignWebhook(secret, "msg_1", body, time.Now())},
		{"timestamp 6 minutes old", body, clerkfake.SignWebhook(secret, "msg_1", body, time.Now().Add(-6*time.Minute))},
		{"timestamp 6 minutes ahead", body, clerkfake.SignWebhook(secret, "msg_1", body, time.Now().Add(6*time.Minute))},
		{"wrong secret", body, clerkfake.SignWebhook(clerkfake.NewWebhookSecret(), "msg_1", body, time.Now())},
		{"id swapped after signing", body, func() http.Header {
			h := clerkfake.SignWebhook(secret, "msg_1", body, time.Now())
			h.Set("svix-id", "msg_2")
			return h
		}()},
		{"no headers", body, http.Header{}},
		{"no signature", body, func() http.Header {
			h := clerkfake.SignWebhook(secret, "msg_1", body, time.Now())
			h.Del("svix-signature")
			return h
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := wv.Parse(tc.body, tc.headers)
			if !errors.Is(err, ports.ErrInvalidSignature) {
				t.Errorf("Parse error = %v, want ErrInvalidSignature", err)
			}
			if errors.Is(err, clerk.ErrMalformedEvent) {
				t.Errorf("Parse error = %v is also ErrMalformedEvent", err)
			}
		})
	}
}

func TestWebhookRejectsMalformedSignedBodies(t *testing.T) {
	t.Parallel()
	wv, secret := newWebhookVerifier(t)

	cases := []struct {
		name string
		body string
	}{
		{"not JSON", `{"type":"user.created","data":`},
		{"empty body", ``},
		{"JSON array", `[1,2]`},
		{"no type", `{"data":{"id":"user_1"}}`},
		{"user.created without data", `{"type":"user.created"}`},
		{"user.created with null data", `{"type":"user.created","data":null}`},
		{"user.updated data is a string", `{"type":"user.updated","data":"user_1"}`},
		{"user.created without id", `{"type":"user.created","data":{"first_name":"Ada"}}`},
		{"user.created with a wrongly typed field", `{"type":"user.created","data":{"id":"user_1","email_addresses":"ada@example.test"}}`},
		{"user.deleted without id", `{"type":"user.deleted","data":{"deleted":true}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := clerkfake.SignWebhook(secret, "msg_1", []byte(tc.body), time.Now())
			_, err := wv.Parse([]byte(tc.body), h)
			if !errors.Is(err, clerk.ErrMalformedEvent) {
				t.Errorf("Parse error = %v, want ErrMalformedEvent", err)
			}
			if errors.Is(err, ports.ErrInvalidSignature) {
				t.Errorf("Parse error = %v is also ErrInvalidSignature", err)
			}
		})
	}
}

func TestNewWebhookVerifierRefusesBadSecrets(t *testing.T) {
	t.Parallel()
	good := clerkfake.NewWebhookSecret()
	for name, secret := range map[string]string{
		"empty":          "",
		"prefix only":    "whsec_",
		"no prefix":      strings.TrimPrefix(good, "whsec_"),
		"not base64":     "whsec_not*base64!",
		"too short":      "whsec_c2hvcnQ=",
		"another prefix": "sk_test_" + strings.TrimPrefix(good, "whsec_"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := clerk.NewWebhookVerifier(secret)
			if err == nil {
				t.Fatal("NewWebhookVerifier: no error")
			}
			if secret != "" && strings.Contains(err.Error(), secret) {
				t.Errorf("error quotes the secret: %q", err)
			}
		})
	}
}

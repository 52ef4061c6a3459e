package luma_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/ports"
)

var (
	testWebhookSecret  = "whsec_" + base64.StdEncoding.EncodeToString([]byte("luma-webhook-test-key-32-bytes!!"))
	otherWebhookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-key-of-the-same-length!!"))
)

// registered is a guest.registered body the stand-in sends for a pending
// guest of an event it holds.
func registered(t *testing.T) []byte {
	t.Helper()
	srv := lumafake.New()
	t.Cleanup(srv.Close)
	srv.AddEvent("evt-1", "AI night", time.Date(2027, 1, 10, 18, 0, 0, 0, time.UTC))
	id := srv.AddGuest("evt-1", "Ada@Example.test", "Ada Lovelace")
	body, err := srv.GuestRegisteredBody("evt-1", id)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func verifier(t *testing.T) *luma.WebhookVerifier {
	t.Helper()
	v, err := luma.NewWebhookVerifier(testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func signed(t *testing.T, secret, id string, at time.Time, body []byte) http.Header {
	t.Helper()
	h, err := lumafake.SignWebhook(secret, id, at, body)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A delivery signed as Luma documents it verifies and decodes: the
// delivery id from webhook-id, the event's id from data.event.id, the
// guest's id, email, name and approval status.
func TestWebhookVerifiesAndDecodesAGuestRegistration(t *testing.T) {
	t.Parallel()
	body := registered(t)
	got, err := verifier(t).Parse(body, signed(t, testWebhookSecret, "msg_1", time.Now(), body))
	if err != nil {
		t.Fatal(err)
	}
	if got.DeliveryID != "msg_1" || got.Type != ports.GuestRegistered || got.EventID != "evt-1" || got.Guest.ID != "gst-000001" ||
		got.Guest.Email != "Ada@Example.test" || got.Guest.Name != "Ada Lovelace" || got.Guest.Status != ports.GuestPendingApproval || got.Guest.RegisteredAt.IsZero() {
		t.Fatalf("Parse = %+v", got)
	}
	// During a rotation Luma may send several signatures: one that
	// verifies is enough.
	h := signed(t, testWebhookSecret, "msg_2", time.Now(), body)
	other := signed(t, otherWebhookSecret, "msg_2", time.Now(), body)
	h.Set(luma.HeaderWebhookSignature, other.Get(luma.HeaderWebhookSignature)+" "+h.Get(luma.HeaderWebhookSignature))
	if _, err := verifier(t).Parse(body, h); err != nil {
		t.Errorf("two signatures, the second good: %v", err)
	}
}

// Every way a delivery can fail to verify is ports.ErrInvalidSignature.
func TestWebhookRefusesWhatDoesNotVerify(t *testing.T) {
	t.Parallel()
	body := registered(t)
	now := time.Now()
	without := func(name string) http.Header {
		h := signed(t, testWebhookSecret, "msg_1", now, body)
		h.Del(name)
		return h
	}
	svixNames := func() http.Header {
		h := signed(t, testWebhookSecret, "msg_1", now, body)
		out := http.Header{}
		for _, n := range []string{"id", "timestamp", "signature"} {
			out.Set("svix-"+n, h.Get("webhook-"+n))
		}
		return out
	}
	with := func(name, value string) http.Header {
		h := signed(t, testWebhookSecret, "msg_1", now, body)
		h.Set(name, value)
		return h
	}
	v2 := strings.Replace(signed(t, testWebhookSecret, "msg_1", now, body).Get(luma.HeaderWebhookSignature), "v1,", "v2,", 1)
	tampered := strings.Replace(string(body), "pending_approval", "approved", 1)
	tests := map[string]struct {
		body []byte
		h    http.Header
	}{
		"wrong secret":             {body, signed(t, otherWebhookSecret, "msg_1", now, body)},
		"tampered body":            {[]byte(tampered), signed(t, testWebhookSecret, "msg_1", now, body)},
		"another delivery's id":    {body, with(luma.HeaderWebhookID, "msg_2")},
		"stale timestamp (6 min)":  {body, signed(t, testWebhookSecret, "msg_1", now.Add(-6*time.Minute), body)},
		"future timestamp (6 min)": {body, signed(t, testWebhookSecret, "msg_1", now.Add(6*time.Minute), body)},
		"timestamp not a number":   {body, with(luma.HeaderWebhookTimestamp, "soon")},
		"no webhook-id":            {body, without(luma.HeaderWebhookID)},
		"no webhook-timestamp":     {body, without(luma.HeaderWebhookTimestamp)},
		"no webhook-signature":     {body, without(luma.HeaderWebhookSignature)},
		"svix header names":        {body, svixNames()},
		"no headers":               {body, http.Header{}},
		"v2 signature":             {body, with(luma.HeaderWebhookSignature, v2)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := verifier(t).Parse(tc.body, tc.h)
			if !errors.Is(err, ports.ErrInvalidSignature) {
				t.Fatalf("Parse = %v, want ErrInvalidSignature", err)
			}
			if strings.Contains(err.Error(), "luma-webhook-test-key") || strings.Contains(err.Error(), "Ada@") {
				t.Errorf("the error quotes the secret or the body: %v", err)
			}
		})
	}
}

// A signed body that is not a registration we can read is malformed; a
// signed webhook of another type comes back with its id and type only.
func TestWebhookBodies(t *testing.T) {
	t.Parallel()
	v := verifier(t)
	parse := func(body string) (ports.GuestRegistration, error) {
		return v.Parse([]byte(body), signed(t, testWebhookSecret, "msg_b", time.Now(), []byte(body)))
	}
	for _, body := range []string{
		`not json`, `{}`, `{"type":""}`, `[1,2]`,
		`{"type":"guest.registered"}`,
		`{"type":"guest.registered","data":"gst-1"}`,
		`{"type":"guest.registered","data":{"id":"gst-1","user_email":"a@x.org"}}`,
		`{"type":"guest.registered","data":{"user_email":"a@x.org","event":{"id":"evt-1"}}}`,
		`{"type":"guest.registered","data":{"id":7,"event":{"id":"evt-1"}}}`,
	} {
		if _, err := parse(body); !errors.Is(err, luma.ErrMalformedWebhook) {
			t.Errorf("%s: %v, want ErrMalformedWebhook", body, err)
		}
	}
	got, err := parse(`{"type":"event.created","data":{"id":"evt-9"}}`)
	if err != nil || got != (ports.GuestRegistration{DeliveryID: "msg_b", Type: "event.created"}) {
		t.Errorf("event.created = %+v, %v", got, err)
	}
	got, err = parse(`{"type":"guest.registered","data":{"id":"gst-1","event_id":"evt-2","user_email":"a@x.org","approval_status":"invited","user_name":null}}`)
	if err != nil || got.EventID != "evt-2" || got.Guest.Status != "invited" || got.Guest.Name != "" {
		t.Errorf("event_id instead of event.id = %+v, %v", got, err)
	}
}

// The worst a sender can do stays cheap: a 1 MiB body (the webhook's cap)
// and a 1 MiB signature header of 30,000 entries are refused without work
// growing beyond one HMAC and a linear scan.
func TestWebhookWorstInputsAreCheap(t *testing.T) {
	t.Parallel()
	v := verifier(t)
	body := []byte(`{"type":"guest.registered","data":{"id":"gst-1","event":{"id":"evt-1"},"pad":"` + strings.Repeat("x", 1<<20-100) + `"}}`)
	h := signed(t, testWebhookSecret, "msg_big", time.Now(), body)
	many := strings.Repeat("v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))+" ", 30000)
	bad := signed(t, testWebhookSecret, "msg_big", time.Now(), body)
	bad.Set(luma.HeaderWebhookSignature, many)
	deep := []byte(strings.Repeat(`{"type":`, 100000))
	started := time.Now()
	if _, err := v.Parse(body, h); err != nil {
		t.Errorf("a 1 MiB signed body: %v", err)
	}
	if _, err := v.Parse(body, bad); !errors.Is(err, ports.ErrInvalidSignature) {
		t.Errorf("30,000 wrong signatures: %v", err)
	}
	if _, err := v.Parse(deep, signed(t, testWebhookSecret, "msg_deep", time.Now(), deep)); !errors.Is(err, luma.ErrMalformedWebhook) {
		t.Errorf("deeply nested JSON: %v", err)
	}
	if _, err := v.Parse(body, signed(t, testWebhookSecret, "msg_big", time.Unix(1<<40, 0), body)); !errors.Is(err, ports.ErrInvalidSignature) {
		t.Errorf("a timestamp far in the future: %v", err)
	}
	took := time.Since(started)
	t.Logf("the worst inputs took %v together", took)
	if took > 5*time.Second {
		t.Errorf("the worst inputs took %v", took)
	}
}

// FuzzWebhookParse: no input panics, and every error is one of the two
// kinds the handler answers 400 for.
func FuzzWebhookParse(f *testing.F) {
	f.Add([]byte(`{"type":"guest.registered","data":{"id":"g","event":{"id":"e"}}}`), "msg_1", "0")
	f.Add([]byte(`{"type":1}`), "", "-1")
	f.Add([]byte{0xff, 0x00}, "msg\x00", "99999999999999999999")
	v, err := luma.NewWebhookVerifier(testWebhookSecret)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, id, ts string) {
		for _, at := range []string{ts, strconv.FormatInt(time.Now().Unix(), 10)} {
			h, err := lumafake.SignWebhook(testWebhookSecret, id, time.Now(), body)
			if err != nil {
				t.Fatal(err)
			}
			h.Set(luma.HeaderWebhookTimestamp, at)
			if _, err := v.Parse(body, h); err != nil && !errors.Is(err, ports.ErrInvalidSignature) && !errors.Is(err, luma.ErrMalformedWebhook) {
				t.Fatalf("Parse = %v", err)
			}
		}
	})
}

// A secret must be whsec_ and base64 of at least 16 bytes; errors never
// quote it.
func TestWebhookSecrets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "luma-secret-123456789", "whsec_not base64!", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := luma.NewWebhookVerifier(s)
		if err == nil {
			t.Errorf("%q accepted", s)
			continue
		}
		if s != "" && strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}

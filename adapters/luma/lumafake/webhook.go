package lumafake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers, as Luma sends them (the Standard Webhooks names).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SignWebhook returns the headers Luma sends with body as delivery id at
// ts, signed with secret ("whsec_" then base64): the Standard Webhooks
// signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed with the
// decoded base64. It is written here from the published scheme, apart
// from the verifier's library, so that the two check each other.
func SignWebhook(secret, id string, ts time.Time, body []byte) (http.Header, error) {
	encoded, ok := strings.CutPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(encoded)
	if !ok || err != nil {
		return nil, fmt.Errorf("lumafake: the webhook secret is not whsec_ and base64")
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
	mac.Write(body)
	sig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderWebhookID, id)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderWebhookSignature, sig)
	return h, nil
}

// NewDeliveryID returns a fresh delivery id ("msg_" and 24 hex digits).
func NewDeliveryID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

// GuestRegisteredBody is the guest.registered webhook Luma sends for the
// stored guest: {"type": "guest.registered", "data": the guest, as in the
// guest list, with its event}.
func (s *Server) GuestRegisteredBody(eventID, guestID string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[eventID]
	if !ok {
		return nil, fmt.Errorf("lumafake: no event %s", eventID)
	}
	for _, g := range s.guests[eventID] {
		if g.ID != guestID {
			continue
		}
		first, last, _ := strings.Cut(g.Name, " ")
		return json.Marshal(map[string]any{"type": "guest.registered", "data": map[string]any{
			"id": g.ID, "user_id": "usr-" + g.ID, "user_email": g.Email, "user_name": g.Name,
			"user_first_name": first, "user_last_name": last, "approval_status": g.Status,
			"registered_at": time.Now().UTC().Format(time.RFC3339), "invited_at": nil, "joined_at": nil,
			"phone_number": nil, "check_in_qr_code": "https://lu.ma/check-in/" + g.ID,
			"registration_answers": []any{}, "event_tickets": []any{}, "event_ticket_orders": []any{},
			"event": map[string]any{"platform": "luma", "id": e.ID, "name": e.Name, "timezone": e.Timezone,
				"start_at": e.StartAt.UTC().Format(time.RFC3339), "end_at": e.EndAt.UTC().Format(time.RFC3339),
				"url": "https://lu.ma/" + e.ID, "visibility": "public"},
		}})
	}
	return nil, fmt.Errorf("lumafake: no guest %s of event %s", guestID, eventID)
}

// SendGuestRegistered delivers the guest's guest.registered webhook to
// url as Luma would: a fresh delivery id, signed now with secret. It
// returns the delivery id and the status of the answer.
func (s *Server) SendGuestRegistered(ctx context.Context, url, secret, eventID, guestID string) (string, int, error) {
	body, err := s.GuestRegisteredBody(eventID, guestID)
	if err != nil {
		return "", 0, err
	}
	id := NewDeliveryID()
	h, err := SignWebhook(secret, id, time.Now(), body)
	if err != nil {
		return "", 0, err
	}
	status, err := Deliver(ctx, url, body, h)
	return id, status, err
}

// Deliver POSTs a webhook body with its headers to url and returns the
// answer's status.
func Deliver(ctx context.Context, url string, body []byte, h http.Header) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

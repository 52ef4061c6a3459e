package main_test

import (
	"context"
	"encoding/base64"
	"maps"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/internal/testdb"
)

// lumaWebhookSecret is the signing secret of the tests' Luma webhook.
var lumaWebhookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("e2e-luma-webhook-signing-key-32b"))

// webhookWorld is an approval world served by `wdai serve` (the HTTP
// handler and the worker in one process) with the Luma webhook configured.
type webhookWorld struct {
	*approvalWorld
	p   *process
	url string // of POST /webhooks/luma
}

func newWebhookWorld(t *testing.T, guests int, extra ...map[string]string) *webhookWorld {
	t.Helper()
	w := &webhookWorld{approvalWorld: newApprovalWorld(t, guests)}
	w.env["LUMA_WEBHOOK_SECRET"] = lumaWebhookSecret
	for _, e := range extra {
		maps.Copy(w.env, e)
	}
	w.p = start(t, w.env, "serve")
	w.p.waitReady(t, 60*time.Second)
	w.url = "http://" + w.p.addr + "/webhooks/luma"
	return w
}

// member adds a person with a verified email, an active membership and
// its grant of access.
func (w *webhookWorld) member(t *testing.T, email string) {
	t.Helper()
	if _, err := w.pool.Exec(context.Background(), `
		WITH p AS (INSERT INTO people (primary_email, emails, first_name, last_name, role)
		           VALUES ($1, ARRAY[$1], 'Ada', 'Member', 'member') RETURNING id)
		INSERT INTO memberships (person_id, status, tier, ever_active, subscription_id, current_period_end)
		SELECT id, 'active', 'community', true, 'sub_' || id, now() + interval '30 days' FROM p`, email); err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, w.pool) // the subscription's grant of access, as billing would make it
}

// send delivers the guest's guest.registered webhook as Luma would.
func (w *webhookWorld) send(t *testing.T, guestID string) string {
	t.Helper()
	id, status, err := w.luma.SendGuestRegistered(t.Context(), w.url, lumaWebhookSecret, "evt-approval", guestID)
	if err != nil || status != http.StatusOK {
		t.Fatalf("webhook for %s: %d, %v\n%s", guestID, status, err, w.p.output())
	}
	return id
}

// waitInbox waits until no stored registration waits for its decision.
func (w *webhookWorld) waitInbox(t *testing.T, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		if w.count(t, `SELECT count(*) FROM guest_inbox WHERE status = 'received'`) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registrations still undecided after %v:\n%s", within, w.p.output())
		}
	}
}

// TestGuestRegisteredWebhookApprovesAMemberWithinAMinute: a member
// registers for an event; Luma's signed guest.registered webhook reaches
// the real handler, the worker decides her through the approval rules and
// the stand-in has her approved well within 60 s, with one update call,
// one decision by the run "webhook:<delivery id>", audited, and the stored
// registration processed without her email. A stranger's registration is
// left pending (no call), and one for an event the platform did not create
// is ignored with its reason and no Luma call at all.
func TestGuestRegisteredWebhookApprovesAMemberWithinAMinute(t *testing.T) {
	t.Parallel()
	w := newWebhookWorld(t, 0)
	w.member(t, "ada@example.test")
	guest := w.luma.AddGuest("evt-approval", " Ada@Example.test", "Ada Member")
	began := time.Now()
	delivery := w.send(t, guest)
	var took time.Duration
	for {
		if g, _ := w.luma.Guest("evt-approval", guest); g.Status == "approved" {
			took = time.Since(began)
			break
		}
		if time.Since(began) > 60*time.Second {
			t.Fatalf("the member was not approved within 60 s:\n%s", w.p.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("guest.registered to approved at the stand-in: %v", took.Round(time.Millisecond))
	if took >= 60*time.Second {
		t.Errorf("approved after %v, want under 60 s", took)
	}
	w.waitInbox(t, 30*time.Second)
	if n := w.luma.Updates()[guest]; n != 1 {
		t.Errorf("%d update calls for the member, want 1", n)
	}
	var run string
	if err := w.pool.QueryRow(context.Background(), `SELECT run_id FROM rsvp_decisions WHERE guest_id = $1 AND outcome = 'approve' AND state = 'applied'`, guest).Scan(&run); err != nil || run != "webhook:"+delivery {
		t.Errorf("decision run %q (%v), want webhook:%s", run, err, delivery)
	}
	if n := w.count(t, `SELECT count(*) FROM audit_log WHERE action = 'rsvp.approve' AND details->>'run' = $1 AND outcome = 'success'`, "webhook:"+delivery); n != 1 {
		t.Errorf("%d audit entries of the decision, want 1", n)
	}
	if n := w.count(t, `SELECT count(*) FROM guest_inbox WHERE delivery_id = $1 AND status = 'processed' AND email = ''`, delivery); n != 1 {
		t.Errorf("the registration is not processed without its email")
	}

	stranger := w.luma.AddGuest("evt-approval", "stranger@example.test", "Someone")
	w.send(t, stranger)
	w.luma.AddEvent("evt-elsewhere", "Not ours", time.Now().Add(24*time.Hour))
	other := w.luma.AddGuest("evt-elsewhere", "ada@example.test", "Ada Member")
	calls := w.luma.Calls(luma.PathUpdateStatus)
	body, err := w.luma.GuestRegisteredBody("evt-elsewhere", other)
	if err != nil {
		t.Fatal(err)
	}
	h, err := lumafake.SignWebhook(lumaWebhookSecret, "msg_elsewhere", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	if status, err := lumafake.Deliver(t.Context(), w.url, body, h); err != nil || status != http.StatusOK {
		t.Fatalf("the other event's webhook: %d, %v", status, err)
	}
	w.waitInbox(t, 30*time.Second)
	if g, _ := w.luma.Guest("evt-approval", stranger); g.Status != "pending_approval" || w.luma.Updates()[stranger] != 0 {
		t.Errorf("the stranger is %s with %d updates, want left pending with none", g.Status, w.luma.Updates()[stranger])
	}
	if n := w.count(t, `SELECT count(*) FROM rsvp_decisions WHERE guest_id = $1 AND outcome = 'leave_pending'`, stranger); n != 1 {
		t.Errorf("%d decisions left the stranger pending, want 1", n)
	}
	if n := w.count(t, `SELECT count(*) FROM guest_inbox WHERE delivery_id = 'msg_elsewhere' AND status = 'ignored' AND note LIKE '%not created through the platform%'`); n != 1 {
		t.Errorf("the other event's registration is not ignored with its reason")
	}
	if after := w.luma.Calls(luma.PathUpdateStatus); after != calls {
		t.Errorf("%d update calls after the member's, want none", after-calls)
	}
}

// TestGuestRegisteredWebhookRacingTheRunDecidesOnce: 100 guests of five
// kinds are pending; the approval run and every guest's webhook start at
// once. Whichever path comes first decides: each guest has one decision,
// each approved guest one update call at the stand-in, the others none.
func TestGuestRegisteredWebhookRacingTheRunDecidesOnce(t *testing.T) {
	t.Parallel()
	w := newWebhookWorld(t, 100)
	ids := make([]string, 0, len(w.want))
	for id := range w.want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var run string
	var wg sync.WaitGroup
	wg.Go(func() { run = w.enqueueApproval(t) })
	feed := make(chan string)
	for range 8 {
		wg.Go(func() {
			for id := range feed {
				w.send(t, id)
			}
		})
	}
	for _, id := range ids {
		feed <- id
	}
	close(feed)
	wg.Wait()
	r := waitRun(t, w.pool, run, 90*time.Second)
	w.waitInbox(t, 60*time.Second)
	approved, pending := w.checkGuests(t)
	got := w.decisions(t)
	if got["approve/applied"] != approved || got["leave_pending/applied"] != pending || len(got) != 2 {
		t.Errorf("decisions %v, want %d approved and %d left pending, nothing else", got, approved, pending)
	}
	if calls := w.luma.Calls(luma.PathUpdateStatus); calls != approved {
		t.Errorf("%d update calls for %d approved guests", calls, approved)
	}
	byWebhook := w.count(t, `SELECT count(*) FROM rsvp_decisions WHERE run_id LIKE 'webhook:%'`)
	t.Logf("run %s summary %v; %d guests decided by their webhook, %d by the run", run, r.summary["rsvps"], byWebhook, len(ids)-byWebhook)
	if n := w.count(t, `SELECT count(*) FROM guest_inbox WHERE status = 'processed'`); n != len(ids) {
		t.Errorf("%d registrations processed, want %d", n, len(ids))
	}
}

// TestGuestRegisteredWebhookDuplicatesDecideOnce: Luma retries a delivery
// (the same id, three times at once) and sends the registration again
// under a second id: one stored registration per delivery id, one
// decision, one update call; the second is noted as decided already.
func TestGuestRegisteredWebhookDuplicatesDecideOnce(t *testing.T) {
	t.Parallel()
	w := newWebhookWorld(t, 0)
	w.member(t, "dup@example.test")
	guest := w.luma.AddGuest("evt-approval", "dup@example.test", "Dup Member")
	body, err := w.luma.GuestRegisteredBody("evt-approval", guest)
	if err != nil {
		t.Fatal(err)
	}
	h, err := lumafake.SignWebhook(lumaWebhookSecret, "msg_dup", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if status, err := lumafake.Deliver(t.Context(), w.url, body, h); err != nil || status != http.StatusOK {
				t.Errorf("delivery: %d, %v", status, err)
			}
		})
	}
	wg.Wait()
	w.waitInbox(t, 30*time.Second)
	// The same registration again under a new delivery id (as sent before
	// the approval: the guest still pending).
	second := lumafake.NewDeliveryID()
	h2, err := lumafake.SignWebhook(lumaWebhookSecret, second, time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	if status, err := lumafake.Deliver(t.Context(), w.url, body, h2); err != nil || status != http.StatusOK {
		t.Fatalf("second delivery: %d, %v", status, err)
	}
	w.waitInbox(t, 30*time.Second)
	if n := w.count(t, `SELECT count(*) FROM guest_inbox`); n != 2 {
		t.Errorf("%d stored registrations, want 2 (one per delivery id)", n)
	}
	if n := w.count(t, `SELECT count(*) FROM rsvp_decisions WHERE guest_id = $1`, guest); n != 1 {
		t.Errorf("%d decisions, want 1", n)
	}
	if n := w.luma.Updates()[guest]; n != 1 || w.luma.Calls(luma.PathUpdateStatus) != 1 {
		t.Errorf("%d updates of the guest (%d calls), want 1", n, w.luma.Calls(luma.PathUpdateStatus))
	}
	if n := w.count(t, `SELECT count(*) FROM guest_inbox WHERE delivery_id = $1 AND note LIKE 'decided already%'`, second); n != 1 {
		t.Errorf("the second delivery is not noted as decided already")
	}
}

// TestGuestRegisteredWebhookBadSignatureStoresNothing: a wrong secret, a
// tampered body, a stale timestamp and missing headers each get 400, and
// no registration, message or decision is stored; Luma is not called.
func TestGuestRegisteredWebhookBadSignatureStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWebhookWorld(t, 0)
	w.member(t, "sig@example.test")
	guest := w.luma.AddGuest("evt-approval", "sig@example.test", "Sig Member")
	body, err := w.luma.GuestRegisteredBody("evt-approval", guest)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "whsec_" + base64.StdEncoding.EncodeToString([]byte("not-the-endpoint-signing-key-32b"))
	sign := func(secret string, at time.Time) http.Header {
		h, err := lumafake.SignWebhook(secret, "msg_bad", at, body)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tampered := append(append([]byte(nil), body[:len(body)-1]...), `,"x":1}`...)
	noSig := sign(lumaWebhookSecret, time.Now())
	delete(noSig, http.CanonicalHeaderKey(lumafake.HeaderWebhookSignature))
	for name, tc := range map[string]struct {
		body []byte
		h    http.Header
	}{
		"wrong secret":    {body, sign(wrong, time.Now())},
		"tampered body":   {tampered, sign(lumaWebhookSecret, time.Now())},
		"stale timestamp": {body, sign(lumaWebhookSecret, time.Now().Add(-10*time.Minute))},
		"no signature":    {body, noSig},
		"no headers":      {body, http.Header{"Content-Type": {"application/json"}}},
	} {
		status, err := lumafake.Deliver(t.Context(), w.url, tc.body, tc.h)
		if err != nil || status != http.StatusBadRequest {
			t.Errorf("%s: %d, %v; want 400", name, status, err)
		}
	}
	// The outbox is read at once (the worker deletes what it handles), the
	// rest once a message stored by mistake would have been handled.
	if n := w.count(t, `SELECT count(*) FROM guest_inbox`) + w.count(t, `SELECT count(*) FROM "watermill_guest.registered"`); n != 0 {
		t.Errorf("%d registrations or messages stored for deliveries that did not verify", n)
	}
	time.Sleep(time.Second)
	if n := w.count(t, `SELECT count(*) FROM guest_inbox`) + w.count(t, `SELECT count(*) FROM rsvp_decisions`) +
		w.count(t, `SELECT count(*) FROM audit_log WHERE action LIKE 'rsvp.%'`) + w.count(t, `SELECT count(*) FROM dead_letters`); n != 0 {
		t.Errorf("%d rows stored for deliveries that did not verify", n)
	}
	if n := w.luma.Calls(luma.PathUpdateStatus); n != 0 {
		t.Errorf("%d update calls", n)
	}
}

// TestGuestRegisteredWebhookRetriesALumaRateLimit: Luma answers 429
// (Retry-After: 1) to the webhook's approval. The guest's claim is
// deferred, the message is delivered again after the wait and approves
// her: one successful update, the deferral counted for the webhook's run,
// no dead letter.
func TestGuestRegisteredWebhookRetriesALumaRateLimit(t *testing.T) {
	t.Parallel()
	w := newWebhookWorld(t, 0)
	w.member(t, "busy@example.test")
	var updates atomic.Int32
	w.luma.Inject(func(_ int, r *http.Request) *lumafake.Fault {
		if r.URL.Path == luma.PathUpdateStatus && updates.Add(1) == 1 {
			return &lumafake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}
		}
		return nil
	})
	guest := w.luma.AddGuest("evt-approval", "busy@example.test", "Busy Member")
	began := time.Now()
	delivery := w.send(t, guest)
	w.waitInbox(t, 60*time.Second)
	t.Logf("approved %v after the webhook, through one 429", time.Since(began).Round(time.Millisecond))
	if g, _ := w.luma.Guest("evt-approval", guest); g.Status != "approved" || w.luma.Updates()[guest] != 1 || w.luma.Calls(luma.PathUpdateStatus) != 2 {
		t.Errorf("guest %s with %d updates in %d calls; want approved, 1 update, 2 calls", g.Status, w.luma.Updates()[guest], w.luma.Calls(luma.PathUpdateStatus))
	}
	if n := w.count(t, `SELECT count(*) FROM rsvp_decisions WHERE guest_id = $1 AND state = 'applied' AND run_id = $2`, guest, "webhook:"+delivery); n != 1 {
		t.Errorf("%d applied decisions by the webhook's run, want 1", n)
	}
	if n := w.count(t, `SELECT coalesce(sum(deferrals), 0) FROM rsvp_run_deferrals WHERE run_id = $1`, "webhook:"+delivery); n != 1 {
		t.Errorf("%d deferrals counted for the webhook's run, want 1", n)
	}
	if n := w.count(t, `SELECT count(*) FROM dead_letters`); n != 0 {
		t.Errorf("%d dead letters, want none", n)
	}
}

// TestGuestRegisteredWebhookOutageIsLeftToTheRun: Luma is down for every
// approval until the webhook's message has spent its retry budget and is
// dead-lettered; the guest's claim stays deferred. Once Luma is back, the
// twice-daily run (the reconciliation) approves her: one update in all.
func TestGuestRegisteredWebhookOutageIsLeftToTheRun(t *testing.T) {
	t.Parallel()
	w := newWebhookWorld(t, 0, map[string]string{"WORKER_RETRY_BUDGET": "1s", "WORKER_TRANSIENT_RETRY_INITIAL": "100ms",
		"WORKER_TRANSIENT_RETRY_MAX": "300ms", "PROVIDER_BREAKER_FAILURES": "1000"})
	w.member(t, "down@example.test")
	var down atomic.Bool
	down.Store(true)
	w.luma.Inject(func(_ int, r *http.Request) *lumafake.Fault {
		if r.URL.Path == luma.PathUpdateStatus && down.Load() {
			return &lumafake.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})
	guest := w.luma.AddGuest("evt-approval", "down@example.test", "Down Member")
	w.send(t, guest)
	for deadline := time.Now().Add(60 * time.Second); w.count(t, `SELECT count(*) FROM dead_letters WHERE topic = 'guest.registered'`) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook's message was not dead-lettered:\n%s", w.p.output())
		}
	}
	if n := w.count(t, `SELECT count(*) FROM rsvp_decisions WHERE guest_id = $1 AND state = 'deferred'`, guest); n != 1 {
		t.Errorf("%d deferred decisions, want the guest's claim deferred", n)
	}
	down.Store(false)
	calls := w.luma.Calls(luma.PathUpdateStatus)
	waitRun(t, w.pool, w.enqueueApproval(t), 60*time.Second)
	if g, _ := w.luma.Guest("evt-approval", guest); g.Status != "approved" || w.luma.Updates()[guest] != 1 || w.luma.Calls(luma.PathUpdateStatus) != calls+1 {
		t.Errorf("after the run: guest %s, %d updates, %d calls since Luma came back; want approved by one call", g.Status, w.luma.Updates()[guest], w.luma.Calls(luma.PathUpdateStatus)-calls)
	}
	if n := w.count(t, `SELECT count(*) FROM rsvp_decisions WHERE guest_id = $1 AND state = 'applied' AND run_id NOT LIKE 'webhook:%'`, guest); n != 1 {
		t.Errorf("%d decisions applied by the run, want 1", n)
	}
}

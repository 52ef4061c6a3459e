package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/ports"
)

// TestUserDeletedScrubsUndecidedGuestRegistrationsAndTheWorkerDecidesNothing:
// an erased person's registration that waits for its decision in
// guest_inbox loses her address in the webhook's transaction and is marked
// ignored with the reason; when its guest.registered message reaches the
// real worker afterwards, the handler decides nothing and keeps the
// erasure's outcome, while another guest's registration, handled by the same
// worker, is decided as usual (here: ignored, the event not being ours).
func TestUserDeletedScrubsUndecidedGuestRegistrationsAndTheWorkerDecidesNothing(t *testing.T) {
	t.Parallel()
	_, secret, vars := withClerk(t)
	l := newLifecycle(t, false, vars)
	ctx := context.Background()
	const email = "katherine@example.test"
	person := l.newPerson(email)
	inbox := postgres.NewGuestInbox(l.pool)
	// Stored as the webhook stores them; their messages are published after
	// the erasure, so the worker meets the scrubbed row.
	for id, typed := range map[string]string{"msg_hers": " Katherine@Example.TEST", "msg_other": "dorothy@example.test"} {
		r := ports.GuestRegistration{DeliveryID: id, Type: ports.GuestRegistered, EventID: "evt-elsewhere",
			Guest: ports.PlatformGuest{ID: "gst-" + id, Email: typed, Status: ports.GuestPendingApproval}}
		if ok, err := inbox.Insert(ctx, r); err != nil || !ok {
			t.Fatalf("store %s: %v, %v", id, ok, err)
		}
	}

	deleted := clerkfake.UserEvent(ports.IdentityUserDeleted, ports.IdentityUser{ID: "user_katherine"})
	if code := l.deliverClerk(secret, "msg_deleted_katherine", deleted); code != http.StatusOK {
		t.Fatalf("user.deleted answered %d", code)
	}
	if n := l.count(`SELECT count(*) FROM people WHERE id = $1 AND erased_at IS NOT NULL`, person); n != 1 {
		t.Fatal("the person is not erased")
	}
	const scrubbed = `SELECT count(*) FROM guest_inbox WHERE delivery_id = 'msg_hers' AND status = 'ignored' AND email = ''
		AND processed_at IS NOT NULL AND note LIKE '%erased person%'`
	if n := l.count(scrubbed); n != 1 {
		t.Fatal("her undecided registration is not ignored without its email in the erasure's transaction")
	}
	if n := l.count(`SELECT count(*) FROM guest_inbox WHERE delivery_id = 'msg_other' AND status = 'received' AND email = 'dorothy@example.test'`); n != 1 {
		t.Fatal("another guest's registration was touched by the erasure")
	}

	var msgs []ports.Message
	for _, id := range []string{"msg_hers", "msg_other"} {
		m, err := ports.NewMessage(ports.TopicGuestRegistered, ports.GuestRegisteredMessage{DeliveryID: id})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if err := messaging.NewPublisher(l.pool).Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	l.waitFor("both registrations' messages handled", func() bool {
		return l.count(`SELECT count(*) FROM "watermill_guest.registered"`) == 0 &&
			l.count(`SELECT count(*) FROM guest_inbox WHERE delivery_id = 'msg_other' AND status = 'ignored'`) == 1
	})
	l.waitIdle()
	if n := l.count(scrubbed); n != 1 {
		t.Error("the worker changed the erased person's registration")
	}
	if n := l.count(`SELECT count(*) FROM rsvp_decisions WHERE guest_id = 'gst-msg_hers'`); n != 0 {
		t.Errorf("%d decisions for the erased person's registration, want none", n)
	}
	if n := l.count(`SELECT count(*) FROM dead_letters`); n != 0 {
		t.Errorf("%d dead letters, want none", n)
	}
	if n, where := l.copiesOf(email); n != 0 {
		t.Errorf("%d copies of the email remain after erasure: %v", n, where)
	}
}

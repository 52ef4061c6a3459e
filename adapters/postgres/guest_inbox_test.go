package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func guestRegistration(id string) ports.GuestRegistration {
	return ports.GuestRegistration{DeliveryID: id, Type: ports.GuestRegistered, EventID: "evt-1",
		Guest: ports.PlatformGuest{ID: "gst-1", Email: "Ada@Example.test", Status: ports.GuestPendingApproval}}
}

// One row per delivery id: a redelivery stores nothing and leaves the first
// as it was; marking keeps the first outcome and drops the email.
func TestGuestInboxStoresADeliveryOnce(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inbox := postgres.NewGuestInbox(pool)
	r := guestRegistration("msg_1")
	if ok, err := inbox.Insert(ctx, r); err != nil || !ok {
		t.Fatalf("first insert = %v, %v", ok, err)
	}
	again := r
	again.Guest.Email = "someone@else.test"
	if ok, err := inbox.Insert(ctx, again); err != nil || ok {
		t.Fatalf("redelivery insert = %v, %v; want false", ok, err)
	}
	got, err := inbox.Get(ctx, "msg_1")
	if err != nil || got.GuestRegistration != r || got.Status != ports.GuestInboxReceived {
		t.Fatalf("Get = %+v, %v; want %+v received", got, err, r)
	}
	if err := inbox.Mark(ctx, "msg_1", ports.GuestInboxProcessed, "approve (active_member)"); err != nil {
		t.Fatal(err)
	}
	if err := inbox.Mark(ctx, "msg_1", ports.GuestInboxIgnored, "late"); err != nil {
		t.Fatal(err)
	}
	got, err = inbox.Get(ctx, "msg_1")
	if err != nil || got.Status != ports.GuestInboxProcessed || got.Note != "approve (active_member)" || got.Guest.Email != "" || got.Guest.ID != "gst-1" {
		t.Fatalf("after marking: %+v, %v; want processed, first note, no email, the guest id kept", got, err)
	}
	if err := inbox.Mark(ctx, "msg_1", "received", ""); err == nil {
		t.Error("Mark accepted the status received")
	}
	if _, err := inbox.Get(ctx, "msg_unknown"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Get of an unknown delivery = %v, want ErrNotFound", err)
	}
}

// A registration and its message commit together or not at all.
func TestGuestInboxRollsBackWithItsMessage(t *testing.T) {
	t.Parallel()
	pool, _ := testPool(t, 2)
	ctx := context.Background()
	uow, err := postgres.Scope[ports.GuestInboxTx](testUoW(t, pool, "watermill_guest.registered", nil))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := ports.NewMessage(ports.TopicGuestRegistered, ports.GuestRegisteredMessage{DeliveryID: "msg_rb"})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = uow.Do(ctx, func(ctx context.Context, s ports.GuestInboxTx) error {
		if _, err := s.GuestInbox().Insert(ctx, guestRegistration("msg_rb")); err != nil {
			return err
		}
		if err := s.Publisher().Publish(ctx, msg); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Do = %v, want boom", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM guest_inbox`) + count(t, pool, `SELECT count(*) FROM "watermill_guest.registered"`); n != 0 {
		t.Fatalf("%d rows survived the rollback", n)
	}
	if err := uow.Do(ctx, func(ctx context.Context, s ports.GuestInboxTx) error {
		if _, err := s.GuestInbox().Insert(ctx, guestRegistration("msg_rb")); err != nil {
			return err
		}
		return s.Publisher().Publish(ctx, msg)
	}); err != nil {
		t.Fatal(err)
	}
	if in, out := count(t, pool, `SELECT count(*) FROM guest_inbox`), count(t, pool, `SELECT count(*) FROM "watermill_guest.registered"`); in != 1 || out != 1 {
		t.Fatalf("committed: inbox %d, outbox %d; want 1 and 1", in, out)
	}
}

// An event is found by the platform's id only once created.
func TestEventByPlatformID(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	s := postgres.NewEventStore(pool)
	e := createdEvent(t, s, testCreator, "k-pid", "evt-pid", time.Date(2027, 3, 1, 18, 0, 0, 0, time.UTC))
	got, err := s.GetByPlatformID(ctx, "evt-pid")
	if err != nil || got.ID != e.ID || got.PlatformID != "evt-pid" {
		t.Fatalf("GetByPlatformID = %+v, %v; want %s", got, err, e.ID)
	}
	if _, err := s.Reserve(ctx, eventDraft(testCreator, "k-creating", time.Date(2027, 3, 2, 18, 0, 0, 0, time.UTC)), time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []string{"evt-unknown", ""} {
		if _, err := s.GetByPlatformID(ctx, pid); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("GetByPlatformID(%q) = %v, want ErrNotFound", pid, err)
		}
	}
}

// Erasure clears the erased person's addresses from undecided registrations
// in the same transaction, however the guest typed them, and marks them
// ignored with the reason, so the worker decides nothing; other guests'
// undecided registrations, and registrations already decided, are left as
// they were. A rolled-back erasure scrubs nothing.
func TestEraseScrubsTheErasedPersonsUndecidedGuestRegistrations(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	people := postgres.NewPeopleStore(pool)
	u := identityUser("user_grace", "grace@example.test")
	u.Emails = append(u.Emails, ports.IdentityEmail{Address: "g.hopper@example.test", Verified: true})
	if _, err := people.UpsertFromIdentity(ctx, u); err != nil {
		t.Fatal(err)
	}
	inbox := postgres.NewGuestInbox(pool)
	reg := func(id, email string) {
		t.Helper()
		r := guestRegistration(id)
		r.Guest.ID, r.Guest.Email = "gst-"+id, email
		if ok, err := inbox.Insert(ctx, r); err != nil || !ok {
			t.Fatalf("insert %s = %v, %v", id, ok, err)
		}
	}
	reg("msg_primary", " Grace@Example.TEST ")
	reg("msg_second", "g.hopper@example.test")
	reg("msg_other", "ada@example.test")
	reg("msg_unverified", "unverified@example.test") // the person's, but never proven: not theirs
	reg("msg_decided", "grace@example.test")
	if err := inbox.Mark(ctx, "msg_decided", ports.GuestInboxProcessed, "decided: approve (active_member)"); err != nil {
		t.Fatal(err)
	}

	// In a transaction that rolls back, nothing is scrubbed.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewPeopleStore(tx).Erase(ctx, "user_grace"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := inbox.Get(ctx, "msg_primary"); got.Status != ports.GuestInboxReceived || got.Guest.Email != " Grace@Example.TEST " {
		t.Fatalf("after a rolled-back erasure: %+v, want it received with its email", got)
	}

	if _, err := people.Erase(ctx, "user_grace"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"msg_primary", "msg_second"} {
		got, err := inbox.Get(ctx, id)
		if err != nil || got.Status != ports.GuestInboxIgnored || got.Note != postgres.ErasedGuestNote || got.Guest.Email != "" || got.Guest.ID != "gst-"+id {
			t.Errorf("%s after erasure: %+v, %v; want ignored with the erasure note, no email, the guest id kept", id, got, err)
		}
	}
	for id, email := range map[string]string{"msg_other": "ada@example.test", "msg_unverified": "unverified@example.test"} {
		if got, err := inbox.Get(ctx, id); err != nil || got.Status != ports.GuestInboxReceived || got.Guest.Email != email || got.Note != "" {
			t.Errorf("%s after erasure: %+v, %v; want it untouched", id, got, err)
		}
	}
	if got, _ := inbox.Get(ctx, "msg_decided"); got.Status != ports.GuestInboxProcessed || got.Note != "decided: approve (active_member)" {
		t.Errorf("the decided registration: %+v, want its first outcome kept", got)
	}
	if n := count(t, pool, `SELECT count(*) FROM guest_inbox WHERE email ILIKE '%grace@%' OR email ILIKE '%hopper@%'`); n != 0 {
		t.Errorf("%d registrations still hold the erased person's addresses", n)
	}
	// The decision's mark, coming late, keeps the erasure's outcome.
	if err := inbox.Mark(ctx, "msg_primary", ports.GuestInboxProcessed, "late"); err != nil {
		t.Fatal(err)
	}
	if got, _ := inbox.Get(ctx, "msg_primary"); got.Status != ports.GuestInboxIgnored || got.Note != postgres.ErasedGuestNote {
		t.Errorf("a late mark overwrote the erasure: %+v", got)
	}
	// Erasing again (a redelivered user.deleted) finds no address and changes nothing.
	if _, err := people.Erase(ctx, "user_grace"); err != nil {
		t.Fatal(err)
	}
	if got, _ := inbox.Get(ctx, "msg_other"); got.Status != ports.GuestInboxReceived || got.Guest.Email != "ada@example.test" {
		t.Errorf("a second erasure touched another guest: %+v", got)
	}
}

package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func registration(id string) ports.GuestRegistration {
	return ports.GuestRegistration{DeliveryID: id, Type: ports.GuestRegistered, EventID: "evt-1",
		Guest: ports.PlatformGuest{ID: "g1", Email: "ada@x.org", Name: "Ada", Status: ports.GuestPendingApproval}}
}

func newIngestGuest(t *testing.T) (application.IngestGuestRegistration, *mocks.MockGuestInbox, *mocks.MockPublisher) {
	t.Helper()
	ctrl := gomock.NewController(t)
	inbox, pub, tx := mocks.NewMockGuestInbox(ctrl), mocks.NewMockPublisher(ctrl), mocks.NewMockGuestInboxTx(ctrl)
	tx.EXPECT().GuestInbox().Return(inbox).AnyTimes()
	tx.EXPECT().Publisher().Return(pub).AnyTimes()
	h, err := application.NewIngestGuestRegistration(newInlineUoW[ports.GuestInboxTx](tx))
	if err != nil {
		t.Fatal(err)
	}
	return h, inbox, pub
}

// A new registration is stored and its decision queued in the one
// transaction, without the guest's name; a redelivery queues nothing.
func TestIngestGuestRegistrationStoresOnce(t *testing.T) {
	t.Parallel()
	h, inbox, pub := newIngestGuest(t)
	want := registration("msg_1")
	want.Guest.Name = ""
	gomock.InOrder(
		inbox.EXPECT().Insert(gomock.Any(), want).Return(true, nil),
		pub.EXPECT().Publish(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, msgs ...ports.Message) error {
			var body ports.GuestRegisteredMessage
			if len(msgs) != 1 || msgs[0].Topic != ports.TopicGuestRegistered || json.Unmarshal(msgs[0].Payload, &body) != nil || body.DeliveryID != "msg_1" {
				t.Errorf("published %+v", msgs)
			}
			if strings.Contains(string(msgs[0].Payload), "ada@x.org") {
				t.Error("the message carries the guest's email")
			}
			return nil
		}),
		inbox.EXPECT().Insert(gomock.Any(), want).Return(false, nil),
	)
	if ok, err := h.Handle(context.Background(), registration("msg_1")); err != nil || !ok {
		t.Fatalf("first = %v, %v", ok, err)
	}
	if ok, err := h.Handle(context.Background(), registration("msg_1")); err != nil || ok {
		t.Fatalf("redelivery = %v, %v; want false", ok, err)
	}
}

// Ids that are missing, too long or not clean text are refused before
// anything is stored; an email no address could match is stored empty.
func TestIngestGuestRegistrationRefusesBadIDs(t *testing.T) {
	t.Parallel()
	h, inbox, pub := newIngestGuest(t)
	bad := map[string]func(*ports.GuestRegistration){
		"no delivery id":     func(r *ports.GuestRegistration) { r.DeliveryID = "" },
		"NUL in delivery id": func(r *ports.GuestRegistration) { r.DeliveryID = "msg\x00" },
		"long event id":      func(r *ports.GuestRegistration) { r.EventID = strings.Repeat("e", 201) },
		"no guest id":        func(r *ports.GuestRegistration) { r.Guest.ID = "" },
		"not UTF-8 guest id": func(r *ports.GuestRegistration) { r.Guest.ID = "g\xff" },
		"other type":         func(r *ports.GuestRegistration) { r.Type = "event.created" },
		"status with a tab":  func(r *ports.GuestRegistration) { r.Guest.Status = "pending\t" },
	}
	for name, spoil := range bad {
		r := registration("msg_bad")
		spoil(&r)
		if _, err := h.Handle(context.Background(), r); !errors.Is(err, application.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	r := registration("msg_email")
	r.Guest.Email = "ada\x00@x.org"
	inbox.EXPECT().Insert(gomock.Any(), gomock.Cond(func(s ports.GuestRegistration) bool { return s.Guest.Email == "" && s.Guest.ID == "g1" })).Return(true, nil)
	pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
	if ok, err := h.Handle(context.Background(), r); err != nil || !ok {
		t.Fatalf("unmatchable email: %v, %v", ok, err)
	}
}

type registeredMocks struct {
	rsvpMocks
	inbox  *mocks.MockGuestInbox
	finder *mocks.MockEventFinder
}

func newDecideRegistered(t *testing.T) (application.DecideRegisteredGuest, registeredMocks) {
	t.Helper()
	decide, dm := newDecide(t, approval.DefaultPolicy())
	ctrl := gomock.NewController(t)
	m := registeredMocks{rsvpMocks: dm, inbox: mocks.NewMockGuestInbox(ctrl), finder: mocks.NewMockEventFinder(ctrl)}
	h, err := application.NewDecideRegisteredGuest(m.inbox, m.finder, decide)
	if err != nil {
		t.Fatal(err)
	}
	return h, m
}

// upcoming is rsvpEvent, not ended at eventNow.
var upcoming = ports.Event{ID: "e1", PlatformID: "evt-1", Created: true, StartAt: eventNow.Add(24 * time.Hour), EndAt: eventNow.Add(26 * time.Hour)}

func storedReg(r ports.GuestRegistration) ports.StoredGuestRegistration {
	return ports.StoredGuestRegistration{GuestRegistration: r, Status: ports.GuestInboxReceived}
}

// A member's registration is decided by the run "webhook:<delivery id>"
// through the same rules, claim, platform call and audit as the run's, and
// the registration is marked processed.
func TestDecideRegisteredGuestApprovesAMember(t *testing.T) {
	t.Parallel()
	h, m := newDecideRegistered(t)
	m.inbox.EXPECT().Get(gomock.Any(), "msg_1").Return(storedReg(registration("msg_1")), nil)
	m.finder.EXPECT().GetByPlatformID(gomock.Any(), "evt-1").Return(upcoming, nil)
	m.people.EXPECT().FindByEmails(gomock.Any(), []string{"ada@x.org"}).
		Return(map[string]ports.RSVPPerson{"ada@x.org": standing(access.RoleMember, membership.StatusActive, "ada@x.org")}, nil)
	want := ports.RSVPDecision{EventID: "e1", GuestID: "g1", PersonID: "p-ada@x.org", Outcome: approval.Approve, Reason: approval.ReasonActiveMember, RunID: "webhook:msg_1"}
	gomock.InOrder(
		m.decisions.EXPECT().Claim(gomock.Any(), want, gomock.Any()).Return(true, nil),
		m.platform.EXPECT().UpdateGuestStatus(gomock.Any(), ports.GuestStatusUpdate{EventID: "evt-1", GuestID: "g1", Status: ports.GuestApproved}).Return(nil),
		m.decisions.EXPECT().Applied(gomock.Any(), "e1", "g1", "webhook:msg_1").Return(true, nil),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Cond(func(e ports.AuditEntry) bool {
			return e.Action == "rsvp.approve" && e.SubjectID == "e1/g1" && e.Details["run"] == "webhook:msg_1" && e.Outcome == ports.OutcomeSuccess
		})).Return(nil),
		m.inbox.EXPECT().Mark(gomock.Any(), "msg_1", ports.GuestInboxProcessed, gomock.Cond(func(n string) bool { return strings.HasPrefix(n, "decided: approve (active_member)") })).Return(nil),
	)
	if err := h.Handle(context.Background(), application.DecideRegisteredGuestInput{DeliveryID: "msg_1"}); err != nil {
		t.Fatal(err)
	}
}

// Whichever comes first decides: a guest the run (or an earlier delivery)
// claimed gets no platform call, and the registration is processed.
func TestDecideRegisteredGuestAfterTheRunMakesNoCall(t *testing.T) {
	t.Parallel()
	h, m := newDecideRegistered(t)
	m.inbox.EXPECT().Get(gomock.Any(), "msg_1").Return(storedReg(registration("msg_1")), nil)
	m.finder.EXPECT().GetByPlatformID(gomock.Any(), "evt-1").Return(upcoming, nil)
	m.people.EXPECT().FindByEmails(gomock.Any(), gomock.Any()).Return(map[string]ports.RSVPPerson{}, nil)
	m.decisions.EXPECT().Claim(gomock.Any(), gomock.Any(), gomock.Any()).Return(false, nil)
	m.inbox.EXPECT().Mark(gomock.Any(), "msg_1", ports.GuestInboxProcessed, gomock.Cond(func(n string) bool { return strings.HasPrefix(n, "decided already") })).Return(nil)
	if err := h.Handle(context.Background(), application.DecideRegisteredGuestInput{DeliveryID: "msg_1"}); err != nil {
		t.Fatal(err)
	}
}

// Nothing to decide: an event not created through the platform, an event
// that has ended, a guest not pending approval. Each is marked ignored with
// its reason, and neither people nor the platform are asked. A registration
// already marked (decided, or ignored by an erasure) does nothing; an
// unknown one is a permanent error.
func TestDecideRegisteredGuestIgnores(t *testing.T) {
	t.Parallel()
	h, m := newDecideRegistered(t)
	ended := upcoming
	ended.EndAt = eventNow.Add(-time.Hour)
	approved := registration("msg_approved")
	approved.Guest.Status = "approved"
	for _, tc := range []struct {
		reg  ports.GuestRegistration
		ev   ports.Event
		err  error
		note string
	}{
		{registration("msg_unknown_event"), ports.Event{}, ports.ErrNotFound, "the event was not created through the platform: no decision"},
		{registration("msg_ended"), ended, nil, "the event has ended: no decision"},
		{approved, upcoming, nil, `the guest registered as "approved", not pending approval: no decision`},
	} {
		m.inbox.EXPECT().Get(gomock.Any(), tc.reg.DeliveryID).Return(storedReg(tc.reg), nil)
		m.finder.EXPECT().GetByPlatformID(gomock.Any(), "evt-1").Return(tc.ev, tc.err)
		m.inbox.EXPECT().Mark(gomock.Any(), tc.reg.DeliveryID, ports.GuestInboxIgnored, tc.note).Return(nil)
		if err := h.Handle(context.Background(), application.DecideRegisteredGuestInput{DeliveryID: tc.reg.DeliveryID}); err != nil {
			t.Errorf("%s: %v", tc.reg.DeliveryID, err)
		}
	}
	done := storedReg(registration("msg_done"))
	done.Status = ports.GuestInboxProcessed
	// Marked ignored by an erasure: the erased person's email is gone.
	erased := storedReg(registration("msg_erased"))
	erased.Status, erased.Guest.Email, erased.Note = ports.GuestInboxIgnored, "", "the guest's email was an erased person's: removed, no decision"
	for _, r := range []ports.StoredGuestRegistration{done, erased} {
		m.inbox.EXPECT().Get(gomock.Any(), r.DeliveryID).Return(r, nil)
		if err := h.Handle(context.Background(), application.DecideRegisteredGuestInput{DeliveryID: r.DeliveryID}); err != nil {
			t.Errorf("a registration marked %s: %v", r.Status, err)
		}
	}
	m.inbox.EXPECT().Get(gomock.Any(), "msg_gone").Return(ports.StoredGuestRegistration{}, ports.ErrNotFound)
	if err := h.Handle(context.Background(), application.DecideRegisteredGuestInput{DeliveryID: "msg_gone"}); !ports.IsPermanent(err) {
		t.Errorf("an unknown registration: %v, want a permanent error", err)
	}
}

// A rate limit at the platform defers the guest's claim and returns the
// transient error with the platform's wait, so the message is retried;
// the registration stays received.
func TestDecideRegisteredGuestRetriesARateLimit(t *testing.T) {
	t.Parallel()
	h, m := newDecideRegistered(t)
	m.inbox.EXPECT().Get(gomock.Any(), "msg_1").Return(storedReg(registration("msg_1")), nil)
	m.finder.EXPECT().GetByPlatformID(gomock.Any(), "evt-1").Return(upcoming, nil)
	m.people.EXPECT().FindByEmails(gomock.Any(), gomock.Any()).
		Return(map[string]ports.RSVPPerson{"ada@x.org": standing(access.RoleLeader, 0, "ada@x.org")}, nil)
	m.decisions.EXPECT().Claim(gomock.Any(), gomock.Any(), gomock.Any()).Return(true, nil)
	m.platform.EXPECT().UpdateGuestStatus(gomock.Any(), gomock.Any()).Return(ports.Transient("events", errors.New("HTTP 429"), 20*time.Second))
	m.decisions.EXPECT().Defer(gomock.Any(), "e1", "g1", "webhook:msg_1").Return(nil)
	err := h.Handle(context.Background(), application.DecideRegisteredGuestInput{DeliveryID: "msg_1"})
	if te, ok := ports.AsTransient(err); !ok || te.RetryAfter != 20*time.Second {
		t.Fatalf("err = %v, want the transient rate limit", err)
	}
}

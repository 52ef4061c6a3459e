package application_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

var eventNow = time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)

type eventMocks struct {
	res      *mocks.MockEventReservations
	platform *mocks.MockEventPlatform
	tx       *mocks.MockEventTx
	events   *mocks.MockEventStore
	audit    *mocks.MockAuditLog
	alerter  *mocks.MockAlerter
	uow      inlineUoW[ports.EventTx]
}

func newEventMocks(t *testing.T) (application.CreateEvent, eventMocks) {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := eventMocks{res: mocks.NewMockEventReservations(ctrl), platform: mocks.NewMockEventPlatform(ctrl),
		tx: mocks.NewMockEventTx(ctrl), events: mocks.NewMockEventStore(ctrl), audit: mocks.NewMockAuditLog(ctrl),
		alerter: mocks.NewMockAlerter(ctrl)}
	m.tx.EXPECT().Events().Return(m.events).AnyTimes()
	m.tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	m.uow = newInlineUoW[ports.EventTx](m.tx)
	h, err := application.NewCreateEvent(m.uow, m.res, m.platform, fixedClock{eventNow}, m.alerter)
	if err != nil {
		t.Fatal(err)
	}
	return h, m
}

// stored is e as the store holds the creation of validEventInput.
func stored(e ports.Event) ports.Event {
	in := validEventInput()
	e.Name, e.StartAt, e.EndAt, e.TimeZone, e.Capacity = in.Name, in.StartAt, in.EndAt, in.TimeZone, in.Capacity
	return e
}

func validEventInput() application.CreateEventInput {
	return application.CreateEventInput{IdempotencyKey: "form-1", Name: "AI night", StartAt: eventNow.Add(48 * time.Hour),
		EndAt: eventNow.Add(50 * time.Hour), TimeZone: "Europe/Berlin", Capacity: 40}
}

func TestCreateEventByALeaderCreatesStoresAndAudits(t *testing.T) {
	t.Parallel()
	h, m := newEventMocks(t)
	held := ports.Reservation{Held: true, Event: stored(ports.Event{ID: "e1", CreatorID: "leader-1"})}
	pe := ports.PlatformEvent{ID: "evt-1", URL: "https://lu.ma/evt-1"}
	gomock.InOrder(
		m.platform.EXPECT().Configured().Return(true),
		m.res.EXPECT().Reserve(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, d ports.EventDraft, _ time.Duration) (ports.Reservation, error) {
			if d.CreatorKind != "user" || d.CreatorID != "leader-1" || d.IdempotencyKey != "form-1" || d.Event.Capacity != 40 || d.Event.TimeZone != "Europe/Berlin" {
				t.Errorf("draft %+v", d)
			}
			return held, nil
		}),
		m.platform.EXPECT().CreateEvent(gomock.Any(), gomock.Any()).Return(pe, nil),
		m.events.EXPECT().Complete(gomock.Any(), "e1", pe).Return(true, nil),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, e ports.AuditEntry) error {
			if e.Action != "event.create" || e.SubjectID != "e1" || e.ActorID != "leader-1" || e.Details["platform_id"] != "evt-1" {
				t.Errorf("audit %+v", e)
			}
			return nil
		}),
	)
	got, err := h.Handle(asUser(t, "leader-1", access.RoleLeader), validEventInput())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created || got.PlatformID != "evt-1" || got.URL != "https://lu.ma/evt-1" || got.ID != "e1" {
		t.Errorf("event %+v", got)
	}
}

func TestCreateEventRefusesMembersAndInvalidInputWithoutCreatingAnything(t *testing.T) {
	t.Parallel()
	h, _ := newEventMocks(t) // no call expected on any port
	if _, err := h.Handle(asUser(t, "m1", access.RoleMember), validEventInput()); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("member: %v, want ErrForbidden", err)
	}
	if _, err := h.Handle(context.Background(), validEventInput()); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("anonymous: %v, want ErrForbidden", err)
	}
	bad := application.CreateEventInput{Name: " ", StartAt: eventNow.Add(-time.Hour), EndAt: eventNow.Add(-2 * time.Hour), TimeZone: "Nowhere/Else", Capacity: 0}
	_, err := h.Handle(asUser(t, "leader-1", access.RoleLeader), bad)
	var fields application.FieldErrors
	if !errors.As(err, &fields) || !errors.Is(err, application.ErrInvalidInput) {
		t.Fatalf("invalid input: %v, want FieldErrors", err)
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.Field)
	}
	want := []string{"idempotencyKey", "name", "startAt", "endAt", "timeZone", "capacity"}
	if len(names) != len(want) {
		t.Fatalf("fields %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("fields %v, want %v", names, want)
		}
	}
}

func TestCreateEventRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	leader := func(t *testing.T) context.Context { return asUser(t, "leader-1", access.RoleLeader) }
	t.Run("an event already created is returned, no platform call", func(t *testing.T) {
		t.Parallel()
		h, m := newEventMocks(t)
		created := stored(ports.Event{ID: "e1", PlatformID: "evt-1", Created: true})
		m.platform.EXPECT().Configured().Return(true)
		m.res.EXPECT().Reserve(gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.Reservation{Event: created}, nil)
		got, err := h.Handle(leader(t), validEventInput())
		if err != nil || got.ID != "e1" || !got.Created {
			t.Fatalf("retry: %+v, %v", got, err)
		}
	})
	t.Run("the store failed after the platform created it: the id is recorded", func(t *testing.T) {
		t.Parallel()
		h, m := newEventMocks(t)
		boom := errors.New("connection reset")
		m.platform.EXPECT().Configured().Return(true)
		m.res.EXPECT().Reserve(gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.Reservation{Held: true, Event: stored(ports.Event{ID: "e1"})}, nil)
		m.platform.EXPECT().CreateEvent(gomock.Any(), gomock.Any()).Return(ports.PlatformEvent{ID: "evt-1"}, nil)
		m.events.EXPECT().Complete(gomock.Any(), "e1", gomock.Any()).Return(false, boom)
		m.res.EXPECT().RecordPlatformID(gomock.Any(), "e1", "evt-1").Return(nil)
		if _, err := h.Handle(leader(t), validEventInput()); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the store's", err)
		}
	})
	t.Run("a recorded platform id is completed, not created again", func(t *testing.T) {
		t.Parallel()
		h, m := newEventMocks(t)
		pe := ports.PlatformEvent{ID: "evt-1", URL: "https://lu.ma/evt-1"}
		m.platform.EXPECT().Configured().Return(true)
		m.res.EXPECT().Reserve(gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.Reservation{Event: stored(ports.Event{ID: "e1", PlatformID: "evt-1"})}, nil)
		m.platform.EXPECT().GetEvent(gomock.Any(), "evt-1").Return(pe, nil)
		m.events.EXPECT().Complete(gomock.Any(), "e1", pe).Return(true, nil)
		m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
		got, err := h.Handle(leader(t), validEventInput())
		if err != nil || got.URL != pe.URL {
			t.Fatalf("completion: %+v, %v", got, err)
		}
	})
	t.Run("another request holds the key", func(t *testing.T) {
		t.Parallel()
		h, m := newEventMocks(t)
		m.platform.EXPECT().Configured().Return(true)
		m.res.EXPECT().Reserve(gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.Reservation{}, ports.ErrEventBusy)
		if _, err := h.Handle(leader(t), validEventInput()); !errors.Is(err, application.ErrEventBusy) {
			t.Fatalf("err = %v, want ErrEventBusy", err)
		}
	})
	t.Run("the platform refuses the event: invalid input", func(t *testing.T) {
		t.Parallel()
		h, m := newEventMocks(t)
		m.platform.EXPECT().Configured().Return(true)
		m.res.EXPECT().Reserve(gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.Reservation{Held: true, Event: stored(ports.Event{ID: "e1"})}, nil)
		m.platform.EXPECT().CreateEvent(gomock.Any(), gomock.Any()).Return(ports.PlatformEvent{}, ports.Permanent(fmt.Errorf("HTTP 400: %w", ports.ErrInvalidEvent)))
		m.res.EXPECT().Release(gomock.Any(), "e1").Return(nil) // nothing was created: the key is free again
		if _, err := h.Handle(leader(t), validEventInput()); !errors.Is(err, application.ErrInvalidInput) {
			t.Fatalf("err = %v, want ErrInvalidInput", err)
		}
	})
	t.Run("an agent granted events:write creates as itself", func(t *testing.T) {
		t.Parallel()
		h, m := newEventMocks(t)
		m.platform.EXPECT().Configured().Return(true)
		m.res.EXPECT().Reserve(gomock.Any(), gomock.Cond(func(d ports.EventDraft) bool { return d.CreatorKind == "agent" && d.CreatorID == "bot-1" }), gomock.Any()).
			Return(ports.Reservation{Event: stored(ports.Event{ID: "e1", Created: true})}, nil)
		if _, err := h.Handle(asAgent(t, "bot-1", access.ScopeEventsWrite), validEventInput()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		t.Parallel()
		h, m := newEventMocks(t)
		m.platform.EXPECT().Configured().Return(false)
		if _, err := h.Handle(leader(t), validEventInput()); !errors.Is(err, application.ErrNotConfigured) {
			t.Fatalf("err = %v, want ErrNotConfigured", err)
		}
	})
}

func TestEventAndAuditQueriesNeedTheirScopes(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	reader := mocks.NewMockEventReader(ctrl)
	audit := mocks.NewMockAuditReader(ctrl)
	list, _ := application.NewListEvents(reader, fixedClock{eventNow})
	get, _ := application.NewGetEvent(reader)
	logs, _ := application.NewListAuditLog(audit)
	member := asUser(t, "m1", access.RoleMember)

	reader.EXPECT().List(gomock.Any(), ports.EventFilter{When: ports.EventsUpcoming, Now: eventNow, Limit: application.DefaultEventPage}).
		Return(ports.EventPage{Events: []ports.Event{{ID: "e1", RSVPs: ports.RSVPCounts{Approved: 3}}}}, nil)
	page, err := list.Handle(member, application.ListEventsInput{})
	if err != nil || len(page.Events) != 1 || page.Events[0].RSVPs.Approved != 3 {
		t.Fatalf("member lists events: %+v, %v", page, err)
	}
	reader.EXPECT().Get(gomock.Any(), "e9").Return(ports.Event{}, ports.ErrNotFound)
	if _, err := get.Handle(member, "e9"); !errors.Is(err, application.ErrNotFound) {
		t.Errorf("unknown event: %v", err)
	}
	if _, err := list.Handle(member, application.ListEventsInput{First: 101}); !errors.Is(err, application.ErrInvalidInput) {
		t.Errorf("page of 101: %v", err)
	}
	if _, err := list.Handle(context.Background(), application.ListEventsInput{}); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("anonymous lists events: %v", err)
	}
	if _, err := logs.Handle(member, application.ListAuditLogInput{}); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("member reads the audit log: %v", err)
	}
	// A leader's page is limited to event.* and rsvp.* at the store, and an
	// entry the store let through anyway is dropped.
	audit.EXPECT().List(gomock.Any(), ports.AuditFilter{Action: "rsvp.", OnlyPrefixes: []string{"event.", "rsvp."}, Limit: 50}).Return(ports.AuditPage{Records: []ports.AuditRecord{
		{ID: "7", AuditEntry: ports.AuditEntry{Action: "rsvp.approve", Details: map[string]any{"guest_id": "g1", "email": "ada@example.org", "list": []any{"x@y.z", "ok"}}}},
		{ID: "6", AuditEntry: ports.AuditEntry{Action: "chat_status.change", Details: map[string]any{"user_id": "U1"}}},
	}}, nil)
	got, err := logs.Handle(asUser(t, "l1", access.RoleLeader), application.ListAuditLogInput{Filter: ports.AuditFilter{Action: "rsvp."}})
	if err != nil || len(got.Records) != 1 {
		t.Fatalf("leader reads the audit log: %+v, %v", got, err)
	}
	d := got.Records[0].Details
	if d["guest_id"] != "g1" || d["email"] != "[redacted]" || d["list"].([]any)[0] != "[redacted]" {
		t.Errorf("details for a leader without members:read:pii: %v", d)
	}
}

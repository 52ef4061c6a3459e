package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// authNow is when the sign-ins of these tests happen.
var authNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	boom := errors.New("directory down")
	u := ports.IdentityUser{ID: "user_1", PrimaryEmail: "ada@example.test", FirstName: "Ada"}
	// current is what the store answers for these grants at the sign-in's
	// instant: the ledger's rule (the SQL that answers it is held to the
	// ledger by TestAccessSQLAgreesWithTheLedger).
	current := func(grants ...ledger.Grant) bool { return ledger.Explain(grants, authNow).Active }
	// signedIn is the person as the store reads them at sign-in: with
	// their membership's status and whether the grants billing wrote for
	// it are current (an active membership: a subscription grant;
	// past_due or suspended: the grace window, here still open).
	signedIn := func(id string, role access.Role, status membership.Status) ports.SignedInPerson {
		p := ports.SignedInPerson{Person: ports.Person{ID: id, Role: role}, Membership: &membership.Summary{Status: status}, MembershipRead: true}
		switch status {
		case membership.StatusActive:
			p.HasAccess = current(subscriptionGrant(id, "community", authNow.Add(-30*24*time.Hour)))
		case membership.StatusPastDue, membership.StatusSuspended:
			p.HasAccess = current(graceGrant(id, "community", authNow.Add(-24*time.Hour), authNow.Add(6*24*time.Hour)))
		case membership.StatusPending, membership.StatusCanceled:
			// no grant of billing's
		}
		return p
	}
	withGrants := func(p ports.SignedInPerson, grants ...ledger.Grant) ports.SignedInPerson {
		p.HasAccess = current(grants...)
		return p
	}
	none := ports.SignedInPerson{}
	tests := []struct {
		name      string
		setup     func(people *mocks.MockIdentityPeople, dir *mocks.MockIdentityDirectory)
		wantID    string
		wantScope access.Scope // one the principal must hold (0: it may hold none)
		wantLacks access.Scope // one it must not (0: none)
		wantErr   error
	}{
		{"a paying member signs in and may read the directory", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(signedIn("p1", access.RoleMember, membership.StatusActive), nil)
		}, "p1", access.ScopeMembersRead, 0, nil},
		{"a member whose payment is retried still may, in the grace window", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(signedIn("p1", access.RoleMember, membership.StatusPastDue), nil)
		}, "p1", access.ScopeMembersRead, 0, nil},
		// Changed with the access ledger: one grace policy. Past the grace
		// window access ends, however the provider still retries.
		{"a member whose payment is retried may not once the grace window ended", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(withGrants(signedIn("p1", access.RoleMember, membership.StatusPastDue),
				graceGrant("p1", "community", authNow.Add(-8*24*time.Hour), authNow.Add(-time.Hour))), nil)
		}, "p1", 0, access.ScopeMembersRead, nil},
		{"a suspended member (unpaid or paused) may not once the grace window ended", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(withGrants(signedIn("p1", access.RoleMember, membership.StatusSuspended)), nil)
		}, "p1", 0, access.ScopeMembersRead, nil},
		{"a scholarship holder who never paid may read the directory", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(withGrants(signedIn("p1", access.RoleMember, 0),
				scholarship(t, "p1", "community", authNow.Add(-time.Hour), authNow.Add(30*24*time.Hour))), nil)
		}, "p1", access.ScopeMembersRead, 0, nil},
		{"a scholarship that ended gives nothing", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(withGrants(signedIn("p1", access.RoleMember, 0),
				scholarship(t, "p1", "community", authNow.Add(-30*24*time.Hour), authNow)), nil)
		}, "p1", 0, access.ScopeMembersRead, nil},
		{"someone who signed up without paying may not read the directory", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(signedIn("p1", access.RoleMember, 0), nil)
		}, "p1", 0, access.ScopeMembersRead, nil},
		{"the first sign-in creates the person from the directory", func(people *mocks.MockIdentityPeople, dir *mocks.MockIdentityDirectory) {
			gomock.InOrder(
				people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(none, ports.ErrNotFound),
				dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(u, nil),
				people.EXPECT().UpsertFromIdentity(gomock.Any(), u).Return(ports.IdentityUpsert{Person: ports.Person{ID: "p1", Role: access.RoleMember}, Created: true}, nil),
				people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(signedIn("p1", access.RoleMember, 0), nil),
			)
		}, "p1", 0, access.ScopeMembersRead, nil},
		{"the first sign-in of a person who paid before: linked with their membership", func(people *mocks.MockIdentityPeople, dir *mocks.MockIdentityDirectory) {
			gomock.InOrder(
				people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(none, ports.ErrNotFound),
				dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(u, nil),
				people.EXPECT().UpsertFromIdentity(gomock.Any(), u).Return(ports.IdentityUpsert{Person: ports.Person{ID: "p1", Role: access.RoleMember}}, nil),
				people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(signedIn("p1", access.RoleMember, membership.StatusActive), nil),
			)
		}, "p1", access.ScopeMembersRead, 0, nil},
		{"a leader without a membership keeps the leader's scopes", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(signedIn("p1", access.RoleLeader, 0), nil)
		}, "p1", access.ScopeEventsWrite, 0, nil},
		{"an erased person is refused", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			p := signedIn("p1", access.RoleMember, 0)
			p.Erased = true
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(p, nil)
		}, "", 0, 0, application.ErrAccountErased},
		{"the directory fails: nobody is created", func(people *mocks.MockIdentityPeople, dir *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(none, ports.ErrNotFound)
			dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(ports.IdentityUser{}, boom)
		}, "", 0, 0, boom},
		{"the directory is not configured", func(people *mocks.MockIdentityPeople, dir *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(none, ports.ErrNotFound)
			dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(ports.IdentityUser{}, ports.ErrNotConfigured)
		}, "", 0, 0, application.ErrNotConfigured},
		{"creating the person fails", func(people *mocks.MockIdentityPeople, dir *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(none, ports.ErrNotFound)
			dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(u, nil)
			people.EXPECT().UpsertFromIdentity(gomock.Any(), u).Return(ports.IdentityUpsert{}, boom)
		}, "", 0, 0, boom},
		{"the people store fails: the directory is not asked", func(people *mocks.MockIdentityPeople, _ *mocks.MockIdentityDirectory) {
			people.EXPECT().GetByIdentityID(gomock.Any(), "user_1", authNow).Return(none, boom)
		}, "", 0, 0, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctrl := gomock.NewController(t)
			people, dir := mocks.NewMockIdentityPeople(ctrl), mocks.NewMockIdentityDirectory(ctrl)
			tt.setup(people, dir)
			h, err := application.NewAuthenticate(people, dir, fixedClock{authNow})
			if err != nil {
				t.Fatal(err)
			}
			p, err := h.Handle(context.Background(), ports.Session{UserID: "user_1", SessionID: "sess_1"})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if p != (access.Principal{}) {
					t.Errorf("principal %v returned with an error", p)
				}
				return
			}
			if p.ID() != tt.wantID || p.Kind() != access.KindUser || (tt.wantScope != 0 && !p.Has(tt.wantScope)) {
				t.Fatalf("principal = %v (scopes %v), want user %s holding %s", p, p.Scopes(), tt.wantID, tt.wantScope)
			}
			if tt.wantLacks != 0 && p.Has(tt.wantLacks) {
				t.Errorf("principal holds %s (scopes %v)", tt.wantLacks, p.Scopes())
			}
		})
	}
	if _, err := application.NewAuthenticate(nil, mocks.NewMockIdentityDirectory(gomock.NewController(t)), fixedClock{authNow}); err == nil {
		t.Error("NewAuthenticate(nil people) succeeded")
	}
	if _, err := application.NewAuthenticate(mocks.NewMockIdentityPeople(gomock.NewController(t)), nil, fixedClock{authNow}); err == nil {
		t.Error("NewAuthenticate(nil directory) succeeded")
	}
	if _, err := application.NewAuthenticate(mocks.NewMockIdentityPeople(gomock.NewController(t)), mocks.NewMockIdentityDirectory(gomock.NewController(t)), nil); err == nil {
		t.Error("NewAuthenticate(nil clock) succeeded")
	}
}

// peopleTx is a PeopleTx of mocks run by an inline unit of work.
type peopleTx struct {
	uow    inlineUoW[ports.PeopleTx]
	tx     *mocks.MockPeopleTx
	people *mocks.MockPeople
	inbox  *mocks.MockWebhookInbox
	pub    *mocks.MockPublisher
	audit  *mocks.MockAuditLog
}

func newPeopleTx(t *testing.T) peopleTx {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := peopleTx{tx: mocks.NewMockPeopleTx(ctrl), people: mocks.NewMockPeople(ctrl), inbox: mocks.NewMockWebhookInbox(ctrl),
		pub: mocks.NewMockPublisher(ctrl), audit: mocks.NewMockAuditLog(ctrl)}
	m.uow = newInlineUoW[ports.PeopleTx](m.tx)
	m.tx.EXPECT().People().Return(m.people).AnyTimes()
	m.tx.EXPECT().WebhookInbox().Return(m.inbox).AnyTimes()
	m.tx.EXPECT().Publisher().Return(m.pub).AnyTimes()
	m.tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	return m
}

// published captures the messages of one Publish call.
func published(t *testing.T, into *[]ports.Message) func(context.Context, ...ports.Message) error {
	t.Helper()
	return func(_ context.Context, msgs ...ports.Message) error {
		*into = append(*into, msgs...)
		return nil
	}
}

// recorded captures audit entries.
func recorded(into *[]ports.AuditEntry) func(context.Context, ports.AuditEntry) error {
	return func(_ context.Context, e ports.AuditEntry) error {
		*into = append(*into, e)
		return nil
	}
}

// decodeBody decodes the only message of msgs on topic into body.
func decodeBody(t *testing.T, msgs []ports.Message, topic string, body any) {
	t.Helper()
	if len(msgs) != 1 || msgs[0].Topic != topic {
		t.Fatalf("published %+v, want one %s message", msgs, topic)
	}
	if err := json.Unmarshal(msgs[0].Payload, body); err != nil {
		t.Fatalf("body %s: %v", msgs[0].Payload, err)
	}
}

func TestSyncIdentityUpdateFetchesTheCurrentUserAndQueuesTheEmailMove(t *testing.T) {
	t.Parallel()
	m := newPeopleTx(t)
	dir := mocks.NewMockIdentityDirectory(gomock.NewController(t))
	// The payload is stale; the directory has the current user.
	ev := ports.IdentityEvent{ID: "msg_1", Type: ports.IdentityUserUpdated, User: ports.IdentityUser{ID: "user_1", PrimaryEmail: "stale@example.test"}}
	current := ports.IdentityUser{ID: "user_1", PrimaryEmail: "new@example.test"}
	var msgs []ports.Message
	var entries []ports.AuditEntry
	dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(current, nil).Times(2)
	gomock.InOrder(
		m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_1").Return(true, nil),
		m.people.EXPECT().UpsertFromIdentity(gomock.Any(), current).Return(ports.IdentityUpsert{Person: ports.Person{ID: "p1"}, PreviousPrimaryEmail: "old@example.test"}, nil),
		m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).DoAndReturn(published(t, &msgs)),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(recorded(&entries)),
		m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_1").Return(false, nil), // the redelivery changes nothing
	)
	h, err := application.NewSyncIdentity(m.uow, dir)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	var body ports.PersonEmailChangedMessage
	decodeBody(t, msgs, ports.TopicPersonEmailChanged, &body)
	if body != (ports.PersonEmailChangedMessage{PersonID: "p1", PreviousEmail: "old@example.test"}) {
		t.Errorf("body = %+v", body)
	}
	want := []ports.AuditEntry{{ActorKind: "system", ActorID: "identity-webhook", Action: "person.sync", SubjectKind: "person", SubjectID: "p1",
		Outcome: ports.OutcomeSuccess, Details: map[string]any{"event": "user.updated", "created": false, "email_changed": true}}}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("audit = %+v, want %+v", entries, want)
	}
}

func TestSyncIdentityCreatedUserIsAuditedWithoutAMove(t *testing.T) {
	t.Parallel()
	m := newPeopleTx(t)
	dir := mocks.NewMockIdentityDirectory(gomock.NewController(t))
	u := ports.IdentityUser{ID: "user_2", PrimaryEmail: "bo@example.test"}
	dir.EXPECT().GetUser(gomock.Any(), "user_2").Return(u, nil)
	m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_2").Return(true, nil)
	m.people.EXPECT().UpsertFromIdentity(gomock.Any(), u).Return(ports.IdentityUpsert{Person: ports.Person{ID: "p2"}, Created: true}, nil)
	var entries []ports.AuditEntry
	m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(recorded(&entries))
	// No Publish expectation: nothing to move.
	h, _ := application.NewSyncIdentity(m.uow, dir)
	if err := h.Handle(context.Background(), ports.IdentityEvent{ID: "msg_2", Type: ports.IdentityUserCreated, User: ports.IdentityUser{ID: "user_2"}}); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Details["created"] != true || entries[0].Details["email_changed"] != false || entries[0].Details["event"] != "user.created" {
		t.Fatalf("audit = %+v", entries)
	}
}

func TestSyncIdentityErasesDeletedUsers(t *testing.T) {
	t.Parallel()
	m := newPeopleTx(t)
	var msgs []ports.Message
	var entries []ports.AuditEntry
	gomock.InOrder(
		m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_3").Return(true, nil),
		m.people.EXPECT().Erase(gomock.Any(), "user_9").Return(ports.Person{ID: "p9", PrimaryEmail: "gone@example.test"}, nil),
		m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).DoAndReturn(published(t, &msgs)),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(recorded(&entries)),
	)
	// The directory is not asked about a deleted user.
	h, _ := application.NewSyncIdentity(m.uow, mocks.NewMockIdentityDirectory(gomock.NewController(t)))
	if err := h.Handle(context.Background(), ports.IdentityEvent{ID: "msg_3", Type: ports.IdentityUserDeleted, User: ports.IdentityUser{ID: "user_9"}}); err != nil {
		t.Fatal(err)
	}
	var body ports.PersonDeletedMessage
	decodeBody(t, msgs, ports.TopicPersonDeleted, &body)
	if body != (ports.PersonDeletedMessage{PersonID: "p9", Email: "gone@example.test"}) {
		t.Errorf("body = %+v", body)
	}
	want := []ports.AuditEntry{{ActorKind: "system", ActorID: "identity-webhook", Action: "person.erase", SubjectKind: "person", SubjectID: "p9", Outcome: ports.OutcomeSuccess}}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("audit = %+v, want %+v", entries, want)
	}
}

func TestSyncIdentityDoesNothingMoreForTheseDeliveries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ev    ports.IdentityEvent
		setup func(m peopleTx, dir *mocks.MockIdentityDirectory)
	}{
		{"an update for a user deleted since", ports.IdentityEvent{ID: "msg_4", Type: ports.IdentityUserUpdated, User: ports.IdentityUser{ID: "user_gone"}},
			func(m peopleTx, dir *mocks.MockIdentityDirectory) {
				dir.EXPECT().GetUser(gomock.Any(), "user_gone").Return(ports.IdentityUser{}, ports.ErrNotFound)
				m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_4").Return(true, nil)
			}},
		{"a delete of a user never seen (the store leaves a placeholder)", ports.IdentityEvent{ID: "msg_5", Type: ports.IdentityUserDeleted, User: ports.IdentityUser{ID: "user_new"}},
			func(m peopleTx, _ *mocks.MockIdentityDirectory) {
				m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_5").Return(true, nil)
				m.people.EXPECT().Erase(gomock.Any(), "user_new").Return(ports.Person{}, ports.ErrNotFound)
			}},
		{"an event type we ignore is claimed as seen", ports.IdentityEvent{ID: "msg_6", Type: "session.created", User: ports.IdentityUser{ID: "user_1"}},
			func(m peopleTx, _ *mocks.MockIdentityDirectory) {
				m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_6").Return(true, nil)
			}},
		{"a redelivered delete", ports.IdentityEvent{ID: "msg_7", Type: ports.IdentityUserDeleted, User: ports.IdentityUser{ID: "user_9"}},
			func(m peopleTx, _ *mocks.MockIdentityDirectory) {
				m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_7").Return(false, nil)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newPeopleTx(t)
			dir := mocks.NewMockIdentityDirectory(gomock.NewController(t))
			tt.setup(m, dir)
			// No Publish or Record expectations: any call fails the test.
			h, _ := application.NewSyncIdentity(m.uow, dir)
			if err := h.Handle(context.Background(), tt.ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
		})
	}
}

func TestSyncIdentityFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	updated := ports.IdentityEvent{ID: "msg_1", Type: ports.IdentityUserUpdated, User: ports.IdentityUser{ID: "user_1"}}
	deleted := ports.IdentityEvent{ID: "msg_2", Type: ports.IdentityUserDeleted, User: ports.IdentityUser{ID: "user_1"}}
	moved := ports.IdentityUpsert{Person: ports.Person{ID: "p1"}, PreviousPrimaryEmail: "old@example.test"}
	tests := []struct {
		name      string
		ev        ports.IdentityEvent
		setup     func(m peopleTx, dir *mocks.MockIdentityDirectory)
		commitErr error
		wantErr   error
		wantTx    bool
	}{
		{"a delivery without an id", ports.IdentityEvent{Type: ports.IdentityUserUpdated}, func(peopleTx, *mocks.MockIdentityDirectory) {}, nil, application.ErrInvalidInput, false},
		{"the directory fails: nothing is claimed", updated, func(_ peopleTx, dir *mocks.MockIdentityDirectory) {
			dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(ports.IdentityUser{}, boom)
		}, nil, boom, false},
		{"the claim fails", deleted, func(m peopleTx, _ *mocks.MockIdentityDirectory) {
			m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_2").Return(false, boom)
		}, nil, boom, true},
		{"the upsert fails", updated, func(m peopleTx, dir *mocks.MockIdentityDirectory) {
			dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(ports.IdentityUser{ID: "user_1"}, nil)
			m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_1").Return(true, nil)
			m.people.EXPECT().UpsertFromIdentity(gomock.Any(), gomock.Any()).Return(ports.IdentityUpsert{}, boom)
		}, nil, boom, true},
		{"the move cannot be queued", updated, func(m peopleTx, dir *mocks.MockIdentityDirectory) {
			dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(ports.IdentityUser{ID: "user_1"}, nil)
			m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_1").Return(true, nil)
			m.people.EXPECT().UpsertFromIdentity(gomock.Any(), gomock.Any()).Return(moved, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(boom)
		}, nil, boom, true},
		{"the audit fails", updated, func(m peopleTx, dir *mocks.MockIdentityDirectory) {
			dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(ports.IdentityUser{ID: "user_1"}, nil)
			m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_1").Return(true, nil)
			m.people.EXPECT().UpsertFromIdentity(gomock.Any(), gomock.Any()).Return(moved, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
			m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(boom)
		}, nil, boom, true},
		{"the erase fails", deleted, func(m peopleTx, _ *mocks.MockIdentityDirectory) {
			m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_2").Return(true, nil)
			m.people.EXPECT().Erase(gomock.Any(), "user_1").Return(ports.Person{}, boom)
		}, nil, boom, true},
		{"the archive cannot be queued", deleted, func(m peopleTx, _ *mocks.MockIdentityDirectory) {
			m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_2").Return(true, nil)
			m.people.EXPECT().Erase(gomock.Any(), "user_1").Return(ports.Person{ID: "p1", PrimaryEmail: "a@example.test"}, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(boom)
		}, nil, boom, true},
		{"the commit fails", deleted, func(m peopleTx, _ *mocks.MockIdentityDirectory) {
			m.inbox.EXPECT().Claim(gomock.Any(), "identity", "msg_2").Return(true, nil)
			m.people.EXPECT().Erase(gomock.Any(), "user_1").Return(ports.Person{ID: "p1", PrimaryEmail: "a@example.test"}, nil)
			m.pub.EXPECT().Publish(gomock.Any(), gomock.Any()).Return(nil)
			m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
		}, boom, boom, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newPeopleTx(t)
			m.uow.commitErr = tt.commitErr
			dir := mocks.NewMockIdentityDirectory(gomock.NewController(t))
			tt.setup(m, dir)
			h, err := application.NewSyncIdentity(m.uow, dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Handle(context.Background(), tt.ev); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if opened := *m.uow.calls > 0; opened != tt.wantTx {
				t.Errorf("transaction opened = %t, want %t", opened, tt.wantTx)
			}
		})
	}
	if _, err := application.NewSyncIdentity(nil, mocks.NewMockIdentityDirectory(gomock.NewController(t))); err == nil {
		t.Error("NewSyncIdentity(nil uow) succeeded")
	}
	if _, err := application.NewSyncIdentity(newPeopleTx(t).uow, nil); err == nil {
		t.Error("NewSyncIdentity(nil directory) succeeded")
	}
}

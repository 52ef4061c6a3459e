package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func TestAuthenticateCreatesUnknownUserFromTheDirectory(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	people, dir := mocks.NewMockPeople(ctrl), mocks.NewMockIdentityDirectory(ctrl)
	u := ports.IdentityUser{ID: "user_1", PrimaryEmail: "a@example.test"}
	people.EXPECT().GetByIdentityID(gomock.Any(), "user_1").Return(ports.Person{}, ports.ErrNotFound)
	dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(u, nil)
	people.EXPECT().UpsertFromIdentity(gomock.Any(), u).Return(ports.IdentityUpsert{Person: ports.Person{ID: "p1", Role: access.RoleLeader}, Created: true}, nil)
	h, err := application.NewAuthenticateHandler(people, dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Handle(context.Background(), ports.Session{UserID: "user_1"})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID() != "p1" || p.Kind() != access.KindUser || !p.Has(access.ScopeEventsWrite) {
		t.Fatalf("principal = %v, want leader user p1", p)
	}
}

func TestAuthenticateRefusesErasedPeopleAndDirectoryFailures(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	people, dir := mocks.NewMockPeople(ctrl), mocks.NewMockIdentityDirectory(ctrl)
	people.EXPECT().GetByIdentityID(gomock.Any(), "gone").Return(ports.Person{ID: "p2", Erased: true}, nil)
	people.EXPECT().GetByIdentityID(gomock.Any(), "new").Return(ports.Person{}, ports.ErrNotFound)
	dir.EXPECT().GetUser(gomock.Any(), "new").Return(ports.IdentityUser{}, errors.New("clerk down"))
	h, _ := application.NewAuthenticateHandler(people, dir)
	if _, err := h.Handle(context.Background(), ports.Session{UserID: "gone"}); !errors.Is(err, application.ErrAccountErased) {
		t.Errorf("erased: %v", err)
	}
	if _, err := h.Handle(context.Background(), ports.Session{UserID: "new"}); err == nil {
		t.Error("directory failure was swallowed")
	}
}

type identityTx struct {
	txMocks
	people *mocks.MockPeople
	inbox  *mocks.MockWebhookInbox
	pub    *mocks.MockPublisher
}

func newIdentityTx(t *testing.T) identityTx {
	m := newTxMocks(t)
	ctrl := gomock.NewController(t)
	it := identityTx{txMocks: m, people: mocks.NewMockPeople(ctrl), inbox: mocks.NewMockWebhookInbox(ctrl), pub: mocks.NewMockPublisher(ctrl)}
	m.tx.EXPECT().People().Return(it.people).AnyTimes()
	m.tx.EXPECT().Inbox().Return(it.inbox).AnyTimes()
	m.tx.EXPECT().Publisher().Return(it.pub).AnyTimes()
	return it
}

func TestSyncIdentityAppliesADeliveryOnce(t *testing.T) {
	t.Parallel()
	m := newIdentityTx(t)
	dir := mocks.NewMockIdentityDirectory(gomock.NewController(t))
	// The payload is stale; the directory has the current user.
	ev := ports.IdentityEvent{ID: "msg_1", Type: ports.IdentityUserUpdated, User: ports.IdentityUser{ID: "user_1", PrimaryEmail: "stale@example.test"}}
	current := ports.IdentityUser{ID: "user_1", PrimaryEmail: "new@example.test"}
	dir.EXPECT().GetUser(gomock.Any(), "user_1").Return(current, nil).Times(2)
	gomock.InOrder(
		m.inbox.EXPECT().Claim(gomock.Any(), "clerk", "msg_1").Return(true, nil),
		m.people.EXPECT().UpsertFromIdentity(gomock.Any(), current).Return(ports.IdentityUpsert{Person: ports.Person{ID: "p1"}, PreviousPrimaryEmail: "old@example.test"}, nil),
		m.pub.EXPECT().Publish(gomock.Any(), gomock.Cond(func(msg ports.Message) bool {
			var body application.PersonEmailChanged
			return msg.Topic == ports.TopicPersonEmailChanged && json.Unmarshal(msg.Payload, &body) == nil &&
				body.PersonID == "p1" && body.PreviousEmail == "old@example.test"
		})).Return(nil),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil),
		m.inbox.EXPECT().Claim(gomock.Any(), "clerk", "msg_1").Return(false, nil), // redelivery: nothing else
	)
	h, err := application.NewSyncIdentityHandler(m.uow, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

func TestSyncIdentityErasesDeletedUsers(t *testing.T) {
	t.Parallel()
	m := newIdentityTx(t)
	m.inbox.EXPECT().Claim(gomock.Any(), "clerk", "msg_2").Return(true, nil)
	m.people.EXPECT().Erase(gomock.Any(), "user_9").Return(ports.Person{ID: "p9", PrimaryEmail: "gone@example.test"}, nil)
	m.pub.EXPECT().Publish(gomock.Any(), gomock.Cond(func(msg ports.Message) bool {
		return msg.Topic == ports.TopicPersonDeleted
	})).Return(nil)
	m.audit.EXPECT().Record(gomock.Any(), gomock.Cond(func(e ports.AuditEntry) bool { return e.Action == "person.erase" && e.SubjectID == "p9" })).Return(nil)
	h, _ := application.NewSyncIdentityHandler(m.uow, mocks.NewMockIdentityDirectory(gomock.NewController(t)))
	if err := h.Handle(context.Background(), ports.IdentityEvent{ID: "msg_2", Type: ports.IdentityUserDeleted, User: ports.IdentityUser{ID: "user_9"}}); err != nil {
		t.Fatal(err)
	}
}

func TestSyncIdentityIgnoresAnUpdateForAUserDeletedSince(t *testing.T) {
	t.Parallel()
	m := newIdentityTx(t) // no People calls expected
	dir := mocks.NewMockIdentityDirectory(gomock.NewController(t))
	dir.EXPECT().GetUser(gomock.Any(), "user_gone").Return(ports.IdentityUser{}, ports.ErrNotFound)
	m.inbox.EXPECT().Claim(gomock.Any(), "clerk", "msg_3").Return(true, nil)
	h, _ := application.NewSyncIdentityHandler(m.uow, dir)
	if err := h.Handle(context.Background(), ports.IdentityEvent{ID: "msg_3", Type: ports.IdentityUserCreated, User: ports.IdentityUser{ID: "user_gone"}}); err != nil {
		t.Fatal(err)
	}
}

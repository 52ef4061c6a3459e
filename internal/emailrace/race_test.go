// Package emailrace_test races syncs of one person to the email list
// through the real stores on PostgreSQL, the real Mailchimp client and the
// Mailchimp stand-in: one sync's first call to the list is held until
// another sync of the same person has run and saved, so that it reaches
// the list last, and each test checks what the list holds at the end.
package emailrace_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/mailchimp"
	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

type gateKey struct{}

// gate holds the first list call of the context carrying it until released.
type gate struct {
	reached, release chan struct{}
	once             sync.Once
	after            func()
}

func newGate() *gate { return &gate{reached: make(chan struct{}), release: make(chan struct{})} }

func hold(ctx context.Context) {
	if g, ok := ctx.Value(gateKey{}).(*gate); ok {
		g.once.Do(func() { close(g.reached); <-g.release })
	}
}

// gatedList delays the first Upsert/BatchUpsert of a gated context: the
// call reaches Mailchimp after whatever ran meanwhile.
type gatedList struct{ ports.EmailList }

func (l gatedList) Upsert(ctx context.Context, s ports.Subscriber, prev string) (ports.SubscriberResult, error) {
	g, _ := ctx.Value(gateKey{}).(*gate)
	first := false
	if g != nil {
		g.once.Do(func() { first = true; close(g.reached); <-g.release })
	}
	res, err := l.EmailList.Upsert(ctx, s, prev)
	if first && g.after != nil {
		g.after()
	}
	return res, err
}

func (l gatedList) BatchUpsert(ctx context.Context, subs []ports.Subscriber) ([]ports.SubscriberResult, error) {
	hold(ctx)
	return l.EmailList.BatchUpsert(ctx, subs)
}

type rig struct {
	mc     *mailchimpfake.Server
	people *postgres.PeopleStore
	access *postgres.AccessStore
	sync   application.SyncMemberEmail
	move   application.MoveMemberEmail
	resync application.ResyncEmailList
}

func newRig(t *testing.T) rig {
	t.Helper()
	pool := testdb.New(t)
	mc := mailchimpfake.New(t, "key-us6", "list1")
	client, err := mailchimp.New(mailchimp.Config{APIKey: "key-us6", ListID: "list1", APIURL: mc.URL()})
	if err != nil {
		t.Fatal(err)
	}
	u, err := postgres.NewUnitOfWork(pool, postgres.TxFactories{
		Publisher:   func(q postgres.Querier) ports.Publisher { return messaging.NewTxPublisher(q) },
		Scheduler:   func(q postgres.Querier) ports.Scheduler { return messaging.NewTxScheduler(q) },
		DeadLetters: func(q postgres.Querier) ports.DeadLetters { return messaging.NewDeadLetterStore(q) },
	})
	if err != nil {
		t.Fatal(err)
	}
	uow, err := postgres.Scope[ports.EmailSyncTx](u)
	if err != nil {
		t.Fatal(err)
	}
	people := postgres.NewPeopleStore(pool)
	acc := postgres.NewAccessStore(pool)
	list := gatedList{client}
	deps := application.EmailSyncDeps{List: list, People: people, Memberships: postgres.NewMembershipStore(pool), Access: acc,
		Clock: ports.SystemClock{}, Integrations: postgres.NewIntegrationStore(pool), UoW: uow,
		Journeys: application.Journeys{application.JourneyWelcome: {JourneyID: "j_welcome", StepID: "s1"}}}
	r := rig{mc: mc, people: people, access: acc}
	if r.sync, err = application.NewSyncMemberEmail(deps); err != nil {
		t.Fatal(err)
	}
	if r.move, err = application.NewMoveMemberEmail(deps); err != nil {
		t.Fatal(err)
	}
	if r.resync, err = application.NewResyncEmailList(application.ResyncEmailListDeps{List: list, People: people, Person: people,
		Memberships: deps.Memberships, Access: acc, Clock: deps.Clock, Integrations: deps.Integrations, UoW: uow}); err != nil {
		t.Fatal(err)
	}
	return r
}

func user(email, first string) ports.IdentityUser {
	return ports.IdentityUser{ID: "user_1", PrimaryEmail: email, FirstName: first, LastName: "Lovelace",
		Emails: []ports.IdentityEmail{{Address: email, Verified: true}}}
}

// synced signs up a person with the address and first name and syncs them
// once, before any race; it returns their id.
func (r rig) synced(t *testing.T, email, first string) string {
	t.Helper()
	ctx := context.Background()
	res, err := r.people.UpsertFromIdentity(ctx, user(email, first))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sync.Handle(ctx, application.SyncMemberEmailInput{MessageID: "m0", PersonID: res.Person.ID}); err != nil {
		t.Fatal(err)
	}
	return res.Person.ID
}

func (r rig) dump(t *testing.T) []string {
	var out []string
	for _, m := range r.mc.Members() {
		out = append(out, fmt.Sprintf("%s %s archived=%v FNAME=%s tags=%s", m.Email, m.Status, m.Archived, m.MergeFields["FNAME"], strings.Join(m.Tags, ",")))
	}
	sort.Strings(out)
	return out
}

// A sync that read the person before their address moved loses its save to
// the move; its late upsert recreates the old address. The repair moves it
// onto the new one, which exists: the new one is updated, the old one
// archived.
func TestALateUpsertFromBeforeAnAddressMoveEndsArchived(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	id := r.synced(t, "old@example.test", "Ada")
	if _, err := r.people.UpsertFromIdentity(ctx, user("old@example.test", "Augusta")); err != nil { // renamed: sync A
		t.Fatal(err)
	}
	g := newGate()
	errA := make(chan error, 1)
	go func() {
		errA <- r.sync.Handle(context.WithValue(ctx, gateKey{}, g), application.SyncMemberEmailInput{MessageID: "mA", PersonID: id})
	}()
	<-g.reached // A has read the person (old@, Augusta) and is sending
	if _, err := r.people.UpsertFromIdentity(ctx, user("new@example.test", "Augusta")); err != nil {
		t.Fatal(err)
	}
	if err := r.move.Handle(ctx, application.MoveMemberEmailInput{PersonID: id, PreviousEmail: "old@example.test"}); err != nil {
		t.Fatalf("move: %v", err)
	}
	t.Logf("after the move: %v", r.dump(t))
	close(g.release)
	err := <-errA
	t.Logf("sync A returned: %v (permanent=%v transient=%v)", err, ports.IsPermanent(err), ports.IsTransient(err))
	t.Logf("list now: %v", r.dump(t))
	// A retry of A (the message redelivered) does nothing more.
	err = r.sync.Handle(ctx, application.SyncMemberEmailInput{MessageID: "mA", PersonID: id})
	t.Logf("retry of A: %v; list: %v", err, r.dump(t))
	if err != nil {
		t.Errorf("retry of A: %v", err)
	}
	assertMoved(t, r)
}

// The nightly resync reads a page, then a move syncs and saves, then the
// resync's batch call lands and recreates the old address: the resync's
// save finds the move's, and its repair archives the old address.
func TestAResyncBatchLandingAfterAMoveEndsArchived(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	id := r.synced(t, "old@example.test", "Ada")
	g := newGate()
	errR := make(chan error, 1)
	go func() {
		_, err := r.resync.Handle(context.WithValue(ctx, gateKey{}, g), application.ResyncEmailListInput{})
		errR <- err
	}()
	<-g.reached
	if _, err := r.people.UpsertFromIdentity(ctx, user("new@example.test", "Augusta")); err != nil {
		t.Fatal(err)
	}
	if err := r.move.Handle(ctx, application.MoveMemberEmailInput{PersonID: id, PreviousEmail: "old@example.test"}); err != nil {
		t.Fatalf("move: %v", err)
	}
	close(g.release)
	if err := <-errR; err != nil {
		t.Errorf("resync: %v", err)
	}
	assertMoved(t, r)
}

// The same, but the resync has tags to set (a grant began), so it saves,
// loses, and repairs; whatever the repair meets is that person's alone.
func TestAResyncRepairAfterAMoveDoesNotFailTheRun(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	id := r.synced(t, "old@example.test", "Ada")
	gr, err := ledger.NewGrant(ledger.SourceManual, id, "", time.Now().Add(-time.Minute), time.Time{}, "admin", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.access.Open(ctx, gr); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	type result struct {
		res application.ResyncResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := r.resync.Handle(context.WithValue(ctx, gateKey{}, g), application.ResyncEmailListInput{})
		done <- result{res, err}
	}()
	<-g.reached
	if _, err := r.people.UpsertFromIdentity(ctx, user("new@example.test", "Ada")); err != nil {
		t.Fatal(err)
	}
	if err := r.move.Handle(ctx, application.MoveMemberEmailInput{PersonID: id, PreviousEmail: "old@example.test"}); err != nil {
		t.Fatalf("move: %v", err)
	}
	close(g.release)
	got := <-done
	if got.err != nil || got.res.Errors != 0 || got.res.TagCalls == 0 {
		t.Errorf("resync = %+v, %v; want its tags set, the repair done and no error", got.res, got.err)
	}
	if m, ok := r.mc.Member("old@example.test"); ok && !m.Archived {
		t.Errorf("old@ is still a member (%+v); list %v", m, r.dump(t))
	}
	if m, ok := r.mc.Member("new@example.test"); !ok || m.Archived || !slices.Contains(m.Tags, "member") {
		t.Errorf("new@ = %+v, %v; want it a member with its tags; list %v", m, ok, r.dump(t))
	}
}

// The resync's batch call lands after a rename's sync: the resync's save
// finds the rename's, and its repair sends the new name.
func TestAResyncBatchLandingAfterARenameIsRepaired(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	id := r.synced(t, "ada@example.test", "Ada")
	g := newGate()
	errR := make(chan error, 1)
	go func() {
		_, err := r.resync.Handle(context.WithValue(ctx, gateKey{}, g), application.ResyncEmailListInput{})
		errR <- err
	}()
	<-g.reached
	if _, err := r.people.UpsertFromIdentity(ctx, user("ada@example.test", "Augusta")); err != nil {
		t.Fatal(err)
	}
	if err := r.sync.Handle(ctx, application.SyncMemberEmailInput{MessageID: "m1", PersonID: id}); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	t.Logf("resync returned %v; list: %v", <-errR, r.dump(t))
	if m, _ := r.mc.Member("ada@example.test"); m.MergeFields["FNAME"] != "Augusta" {
		t.Errorf("person is Augusta, list says %q", m.MergeFields["FNAME"])
	}
}

// Two syncs of a rename race: the one that read the old name loses, and
// repairs what it sent.
func TestTwoSyncsOfARenameEndWithTheNewName(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	id := r.synced(t, "ada@example.test", "Ada")
	if _, err := r.people.UpsertFromIdentity(ctx, user("ada@example.test", "Byron")); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	errA := make(chan error, 1)
	go func() {
		errA <- r.sync.Handle(context.WithValue(ctx, gateKey{}, g), application.SyncMemberEmailInput{MessageID: "mA", PersonID: id})
	}()
	<-g.reached
	if _, err := r.people.UpsertFromIdentity(ctx, user("ada@example.test", "Augusta")); err != nil {
		t.Fatal(err)
	}
	if err := r.sync.Handle(ctx, application.SyncMemberEmailInput{MessageID: "mB", PersonID: id}); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	t.Logf("A: %v; list: %v", <-errA, r.dump(t))
	if m, _ := r.mc.Member("ada@example.test"); m.MergeFields["FNAME"] != "Augusta" {
		t.Errorf("person is Augusta, list says %q", m.MergeFields["FNAME"])
	}
}

func TestAJourneyFiresOnceAcrossALostRace(t *testing.T) {
	t.Parallel()
	for _, sameMessage := range []bool{true, false} {
		r := newRig(t)
		ctx := context.Background()
		id := r.synced(t, "ada@example.test", "Ada")
		if _, err := r.people.UpsertFromIdentity(ctx, user("ada@example.test", "Byron")); err != nil {
			t.Fatal(err)
		}
		in := application.SyncMemberEmailInput{MessageID: "mJ", PersonID: id, Reason: ports.ReasonSubscriptionSync, Events: []string{"activated"}}
		g := newGate()
		errA := make(chan error, 1)
		go func() { errA <- r.sync.Handle(context.WithValue(ctx, gateKey{}, g), in) }()
		<-g.reached
		if _, err := r.people.UpsertFromIdentity(ctx, user("ada@example.test", "Augusta")); err != nil {
			t.Fatal(err)
		}
		inB := in
		if !sameMessage {
			inB = application.SyncMemberEmailInput{MessageID: "mB", PersonID: id}
		}
		if err := r.sync.Handle(ctx, inB); err != nil {
			t.Fatal(err)
		}
		close(g.release)
		t.Logf("same message %v: A %v; triggers %v; list %v", sameMessage, <-errA, r.mc.Triggers(), r.dump(t))
		if n := len(r.mc.Triggers()); n != 1 {
			t.Errorf("same message %v: %d welcome triggers, want 1", sameMessage, n)
		}
	}
}

// The loser's repair meets one transient fault: its calls are on record, so
// the redelivered message sends the name again.
func TestARepairThatFailsIsFinishedByTheRetry(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	id := r.synced(t, "ada@example.test", "Ada")
	if _, err := r.people.UpsertFromIdentity(ctx, user("ada@example.test", "Byron")); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	g.after = func() { r.mc.FailNext(1, mailchimpfake.Fault500) } // the repair's call
	errA := make(chan error, 1)
	in := application.SyncMemberEmailInput{MessageID: "mA", PersonID: id}
	go func() { errA <- r.sync.Handle(context.WithValue(ctx, gateKey{}, g), in) }()
	<-g.reached
	if _, err := r.people.UpsertFromIdentity(ctx, user("ada@example.test", "Augusta")); err != nil {
		t.Fatal(err)
	}
	if err := r.sync.Handle(ctx, application.SyncMemberEmailInput{MessageID: "mB", PersonID: id}); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	err := <-errA
	t.Logf("A: %v (transient=%v); list %v", err, ports.IsTransient(err), r.dump(t))
	err = r.sync.Handle(ctx, in) // the redelivery
	t.Logf("retry of A: %v; list %v", err, r.dump(t))
	if m, _ := r.mc.Member("ada@example.test"); m.MergeFields["FNAME"] != "Augusta" {
		t.Errorf("person is Augusta, list says %q after the retry", m.MergeFields["FNAME"])
	}
}

// assertMoved checks that the list holds the person at new@ and that old@
// is archived.
func assertMoved(t *testing.T, r rig) {
	t.Helper()
	if m, ok := r.mc.Member("old@example.test"); ok && !m.Archived {
		t.Errorf("old@ is still a member (%+v); list %v", m, r.dump(t))
	}
	if m, ok := r.mc.Member("new@example.test"); !ok || m.Archived || m.MergeFields["FNAME"] != "Augusta" {
		t.Errorf("new@ = %+v, %v; want it a member, named Augusta; list %v", m, ok, r.dump(t))
	}
	r.mc.AssertNoViolations(t)
}

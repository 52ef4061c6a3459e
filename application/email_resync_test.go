package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// resyncFixture is a directory of pages and the mocks a resync runs on.
type resyncFixture struct {
	list *mocks.MockEmailList
	dir  *mocks.MockPeopleDirectory
	// people is read when a sync of the person saved during the resync.
	people *mocks.MockPersonReader
	ms     *mocks.MockMembershipReader
	book   *ledgerBook // the access ledger
	store  *emailStore
	// unconfigured: the list says it is not configured.
	unconfigured bool
}

func newResyncFixture(t *testing.T) resyncFixture {
	t.Helper()
	ctrl := gomock.NewController(t)
	return resyncFixture{list: mocks.NewMockEmailList(ctrl), dir: mocks.NewMockPeopleDirectory(ctrl), people: mocks.NewMockPersonReader(ctrl),
		ms: mocks.NewMockMembershipReader(ctrl), book: newLedgerBook(), store: newEmailStore()}
}

// paid is an active membership of tier whose subscription grant billing
// wrote to the ledger.
func (f resyncFixture) paid(t *testing.T, personID, tier string) *membership.Membership {
	t.Helper()
	m := activeIn(t, personID, tier)
	f.book.bill(m, emailT0)
	return m
}

func (f resyncFixture) resync(t *testing.T, integrations ports.Integrations) application.ResyncEmailList {
	t.Helper()
	if integrations == nil {
		integrations = f.store
	}
	f.list.EXPECT().Configured().Return(!f.unconfigured).AnyTimes()
	uow := newInlineUoW[ports.EmailSyncTx](emailTx{integrations: integrations, effects: &effectStore{keys: map[string]bool{}}})
	h, err := application.NewResyncEmailList(application.ResyncEmailListDeps{List: f.list, People: f.dir, Person: f.people, Memberships: f.ms,
		Access: f.book.readerMock(gomock.NewController(t)), Clock: fixedClock{emailNow}, Integrations: integrations, UoW: uow})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// page expects the directory to be asked for the page after `after`.
func (f resyncFixture) page(after string, page ports.DirectoryPage) *gomock.Call {
	return f.dir.EXPECT().Directory(gomock.Any(), ports.DirectoryFilter{IncludeHidden: true, After: after, Limit: application.ResyncPage}).Return(page, nil)
}

func person(id, email string) ports.Person {
	return ports.Person{ID: id, PrimaryEmail: email, FirstName: "F" + id}
}

func sub(p ports.Person, tier string) ports.Subscriber {
	return ports.Subscriber{Email: p.PrimaryEmail, FirstName: p.FirstName, Tier: tier}
}

func TestResyncEmailListPagesThroughEveryone(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	p1, p2, p3 := person("p1", "ada@example.test"), person("p2", ""), person("p3", "cy@example.test")
	p4, p5, p6 := person("p4", "di@example.test"), person("p5", "bad@example"), person("p6", "fa@example.test")
	// p3 was synced exactly as it is now: no tag call.
	f.store.seed(t, "p3", ports.SubscriberSubscribed, syncedEmail{Email: p3.PrimaryEmail, FirstName: p3.FirstName, Tier: "community",
		Tags: tags(true, true, false, false, "community", true)})
	active := tags(true, true, false, false, "community", true)
	gomock.InOrder(
		f.page("", ports.DirectoryPage{People: []ports.Person{p1, p2, p3}, Cursors: []string{"c1", "c2", "c3"}, HasMore: true}),
		f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1", "p3"}).Return(map[string]*membership.Membership{
			"p1": f.paid(t, "p1", "community"), "p3": f.paid(t, "p3", "community")}, nil),
		f.list.EXPECT().BatchUpsert(gomock.Any(), []ports.Subscriber{sub(p1, "community"), sub(p3, "community")}).Return([]ports.SubscriberResult{
			subscribed(p1.PrimaryEmail), subscribed(p3.PrimaryEmail)}, nil),
		f.list.EXPECT().SetTags(gomock.Any(), p1.PrimaryEmail, active).Return(nil),
		f.page("c3", ports.DirectoryPage{People: []ports.Person{p4, p5, p6}, Cursors: []string{"c4", "c5", "c6"}}),
		f.ms.EXPECT().GetMany(gomock.Any(), []string{"p4", "p5", "p6"}).Return(map[string]*membership.Membership{
			"p6": f.paid(t, "p6", "leader")}, nil),
		f.list.EXPECT().BatchUpsert(gomock.Any(), []ports.Subscriber{sub(p4, ""), sub(p5, ""), sub(p6, "leader")}).Return([]ports.SubscriberResult{
			{Email: p4.PrimaryEmail, Status: ports.SubscriberUnsubscribed},
			{Email: p5.PrimaryEmail, Error: "invalid address"},
			{Email: p6.PrimaryEmail, Status: ports.SubscriberPending}}, nil),
		f.list.EXPECT().SetTags(gomock.Any(), p4.PrimaryEmail, tags(false, false, false, false)).Return(nil),
	)
	var progress []application.ResyncResult
	res, err := f.resync(t, nil).Handle(context.Background(), application.ResyncEmailListInput{Progress: func(r application.ResyncResult) {
		progress = append(progress, r)
	}})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := application.ResyncResult{People: 5, BatchCalls: 2, TagCalls: 2, Unsubscribed: 1, Errors: 1}
	if res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if wantProgress := []application.ResyncResult{{People: 2, BatchCalls: 1, TagCalls: 1}, want}; !reflect.DeepEqual(progress, wantProgress) {
		t.Errorf("progress = %+v, want %+v", progress, wantProgress)
	}

	if row, st := f.store.row(t, "p1"); row.Status != "subscribed" || !reflect.DeepEqual(st.Tags, active) || st.Tier != "community" {
		t.Errorf("p1 stored %s %+v", row.Status, st)
	}
	// p3 was unchanged: saved again all the same, on the version read, so
	// that a sync of p3 racing the batch call finds out (the content is
	// what it was).
	if row, st := f.store.row(t, "p3"); row.Version != 8 || row.Status != "subscribed" || !reflect.DeepEqual(st.Tags, active) {
		t.Errorf("p3 = %+v %+v, want the same state saved once more", row, st)
	}
	if row, _ := f.store.row(t, "p4"); row.Status != "unsubscribed" {
		t.Errorf("p4 stored %s, want unsubscribed (the list's consent)", row.Status)
	}
	if _, err := f.store.Get(context.Background(), "p5", application.EmailListIntegration); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("p5 failed at the list but a state was recorded (%v)", err)
	}
	if row, st := f.store.row(t, "p6"); row.Status != "pending" || len(st.Tags) != 0 || st.Tier != "leader" {
		t.Errorf("p6 stored %s %+v, want pending without tags applied", row.Status, st)
	}
	if _, err := f.store.Get(context.Background(), "p2", application.EmailListIntegration); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("p2 has no address but a state was recorded")
	}
}

func TestResyncEmailListDryRunOnlyCounts(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	f.page("", ports.DirectoryPage{People: []ports.Person{person("p1", "ada@example.test"), person("p2", "bo@example.test")}, Cursors: []string{"c1", "c2"}})
	f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1", "p2"}).Return(map[string]*membership.Membership{}, nil)
	// No list calls: the mock fails on any.
	res, err := f.resync(t, nil).Handle(context.Background(), application.ResyncEmailListInput{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res != (application.ResyncResult{People: 2}) || f.store.putCount() != 0 {
		t.Fatalf("result = %+v with %d writes, want 2 people counted and nothing written", res, f.store.putCount())
	}
}

func TestResyncEmailListTagsAnAddressOnceConfirmed(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	p1 := person("p1", "ada@example.test")
	// The last sync found the address pending and left its tags for later.
	f.store.seed(t, "p1", ports.SubscriberPending, syncedEmail{Email: p1.PrimaryEmail, FirstName: p1.FirstName, Tier: "community"})
	f.page("", ports.DirectoryPage{People: []ports.Person{p1}, Cursors: []string{"c1"}})
	f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(map[string]*membership.Membership{"p1": f.paid(t, "p1", "community")}, nil)
	f.list.EXPECT().BatchUpsert(gomock.Any(), []ports.Subscriber{sub(p1, "community")}).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail)}, nil)
	f.list.EXPECT().SetTags(gomock.Any(), p1.PrimaryEmail, tags(true, true, false, false, "community", true)).Return(nil)
	res, err := f.resync(t, nil).Handle(context.Background(), application.ResyncEmailListInput{})
	if err != nil || res.TagCalls != 1 {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
	if row, st := f.store.row(t, "p1"); row.Status != "subscribed" || !reflect.DeepEqual(st.Tags, tags(true, true, false, false, "community", true)) {
		t.Fatalf("stored %s %+v, want subscribed with the tags applied", row.Status, st)
	}
}

func TestResyncEmailListRepairsAnUnreadableState(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	p1 := person("p1", "ada@example.test")
	f.store.rows["p1"] = ports.IntegrationState{PersonID: "p1", Provider: application.EmailListIntegration, Status: "subscribed", State: json.RawMessage(`[`), Version: 2}
	f.page("", ports.DirectoryPage{People: []ports.Person{p1}, Cursors: []string{"c1"}})
	f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(map[string]*membership.Membership{"p1": f.paid(t, "p1", "community")}, nil)
	f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Len(1)).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail)}, nil)
	f.list.EXPECT().SetTags(gomock.Any(), p1.PrimaryEmail, tags(true, true, false, false, "community", true)).Return(nil)
	if _, err := f.resync(t, nil).Handle(context.Background(), application.ResyncEmailListInput{}); err != nil {
		t.Fatal(err)
	}
	if row, _ := f.store.row(t, "p1"); row.Note != "previous state unreadable; synced afresh" || row.Version != 3 {
		t.Fatalf("stored %+v, want the unreadable note", row)
	}
}

// TestResyncEmailListRepairsAfterASyncSavedMeanwhile: a sync of the person
// saved between the resync's read and its save, and the resync's calls,
// made from the person before that sync, may have reached the list after
// its. The resync syncs the person again from the person as they are now,
// over what it sent itself.
func TestResyncEmailListRepairsAfterASyncSavedMeanwhile(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	p1 := person("p1", "ada@example.test")
	renamed := p1
	renamed.FirstName = "Augusta"
	active, canceled := f.paid(t, "p1", "community"), membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderCanceled)
	store := &racingStore{emailStore: f.store}
	alumni := tags(false, false, false, true, "community", false)
	store.race = func(ctx context.Context) { // renamed and canceled: the live sync sent that and saved
		f.book.bill(canceled, emailT0)
		f.store.saveAs(ctx, t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: p1.PrimaryEmail, FirstName: "Augusta", Tier: "community", Tags: alumni})
	}
	f.page("", ports.DirectoryPage{People: []ports.Person{p1}, Cursors: []string{"c1"}})
	f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(map[string]*membership.Membership{"p1": active}, nil)
	f.people.EXPECT().Get(gomock.Any(), "p1").Return(renamed, nil).AnyTimes()
	f.ms.EXPECT().Get(gomock.Any(), "p1").Return(canceled, nil).AnyTimes()
	gomock.InOrder(
		f.list.EXPECT().BatchUpsert(gomock.Any(), []ports.Subscriber{sub(p1, "community")}).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail)}, nil),
		f.list.EXPECT().SetTags(gomock.Any(), p1.PrimaryEmail, tags(true, true, false, false, "community", true)).Return(nil),
		// The repair, of the resync's own calls only.
		f.list.EXPECT().Upsert(gomock.Any(), ports.Subscriber{Email: p1.PrimaryEmail, FirstName: "Augusta", Tier: "community"}, "").
			Return(subscribed(p1.PrimaryEmail), nil),
		// Its tags are all it sent: alumni too (off then, on now).
		f.list.EXPECT().SetTags(gomock.Any(), p1.PrimaryEmail, map[string]bool{"member": false, "active": false, "community": false, "alumni": true}).Return(nil),
	)
	if _, err := f.resync(t, store).Handle(context.Background(), application.ResyncEmailListInput{}); err != nil {
		t.Fatal(err)
	}
	if row, st := f.store.row(t, "p1"); row.Version != 2 || st.FirstName != "Augusta" || !reflect.DeepEqual(st.Tags, alumni) {
		t.Fatalf("stored %+v (version %d), want the person now, saved over the live sync's", st, row.Version)
	}
}

// TestResyncEmailListCountsAFailedRepairAndGoesOn: a repair that fails is
// the person's own error, counted; the page goes on, and the resync's
// calls are on record for the person's next sync.
func TestResyncEmailListCountsAFailedRepairAndGoesOn(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	p1, p2 := person("p1", "ada@example.test"), person("p2", "bea@example.test")
	renamed := p1
	renamed.FirstName = "Augusta"
	store := &racingStore{emailStore: f.store}
	active := tags(true, true, false, false, "community", true)
	store.race = func(ctx context.Context) { // p1 renamed meanwhile, by a sync that saved first
		f.store.saveAs(ctx, t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: p1.PrimaryEmail, FirstName: "Augusta", Tier: "community", Tags: active})
	}
	f.page("", ports.DirectoryPage{People: []ports.Person{p1, p2}, Cursors: []string{"c1", "c2"}})
	f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1", "p2"}).Return(map[string]*membership.Membership{
		"p1": f.paid(t, "p1", "community"), "p2": f.paid(t, "p2", "community")}, nil)
	f.people.EXPECT().Get(gomock.Any(), "p1").Return(renamed, nil).AnyTimes()
	f.ms.EXPECT().Get(gomock.Any(), "p1").Return(f.paid(t, "p1", "community"), nil).AnyTimes()
	f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Len(2)).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail), subscribed(p2.PrimaryEmail)}, nil)
	f.list.EXPECT().SetTags(gomock.Any(), gomock.Any(), active).Return(nil).Times(2)
	f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{}, errors.New("list down")) // the repair
	res, err := f.resync(t, store).Handle(context.Background(), application.ResyncEmailListInput{})
	if err != nil || res.Errors != 1 || res.People != 2 {
		t.Fatalf("Handle = %+v, %v; want the failed repair counted and the page done", res, err)
	}
	if _, st := f.store.row(t, "p2"); !reflect.DeepEqual(st.Tags, active) {
		t.Errorf("p2 stored %+v, want synced", st)
	}
	if _, st := f.store.row(t, "p1"); st.FirstName != "Fp1" {
		t.Errorf("p1 stored %+v, want the resync's own call on record (Fp1)", st)
	}
}

// TestResyncEmailListKeepsWhatJourneysWereSentAndSkipped: the resync saves
// every person, and keeps their journey memory: the journeys sent, and
// those a change called for that nobody configured (what operators read,
// and what stops a redelivered message from firing one configured since).
func TestResyncEmailListKeepsWhatJourneysWereSentAndSkipped(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	p1 := person("p1", "ada@example.test")
	active := tags(true, true, false, false, "community", true)
	f.store.seed(t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: p1.PrimaryEmail, FirstName: p1.FirstName, Tier: "community", Tags: active,
		Journeys: []string{"welcome:m1"}, Skipped: []string{"win_back:m2"}})
	f.page("", ports.DirectoryPage{People: []ports.Person{p1}, Cursors: []string{"c1"}})
	f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(map[string]*membership.Membership{"p1": f.paid(t, "p1", "community")}, nil)
	f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Len(1)).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail)}, nil)
	if _, err := f.resync(t, nil).Handle(context.Background(), application.ResyncEmailListInput{}); err != nil {
		t.Fatal(err)
	}
	if row, st := f.store.row(t, "p1"); row.Version != 8 || !slices.Equal(st.Journeys, []string{"welcome:m1"}) || !slices.Equal(st.Skipped, []string{"win_back:m2"}) {
		t.Fatalf("stored %+v (version %d), want the journey memory kept", st, row.Version)
	}
}

func TestResyncEmailListJob(t *testing.T) {
	t.Parallel()
	t.Run("summary counts what was done", func(t *testing.T) {
		t.Parallel()
		f := newResyncFixture(t)
		p1 := person("p1", "ada@example.test")
		f.page("", ports.DirectoryPage{People: []ports.Person{p1}, Cursors: []string{"c1"}})
		f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, nil)
		f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Any()).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail)}, nil)
		f.list.EXPECT().SetTags(gomock.Any(), p1.PrimaryEmail, gomock.Any()).Return(nil)
		summary, err := f.resync(t, nil).Job()(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"outcome": "synced", "people": 1, "batch_calls": 1, "tag_calls": 1, "errors": 0}
		if !reflect.DeepEqual(summary, want) {
			t.Fatalf("summary = %v, want %v", summary, want)
		}
	})
	t.Run("unconfigured list: skipped, not configured, and no further page", func(t *testing.T) {
		t.Parallel()
		f := newResyncFixture(t)
		f.page("", ports.DirectoryPage{People: []ports.Person{person("p1", "ada@example.test")}, Cursors: []string{"c1"}, HasMore: true})
		f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, nil)
		f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Any()).Return(nil, ports.ErrNotConfigured)
		summary, err := f.resync(t, nil).Job()(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"outcome": "skipped", "reason": "not configured"}; !reflect.DeepEqual(summary, want) {
			t.Fatalf("summary = %v, want %v", summary, want)
		}
	})
	t.Run("list that says it is not configured: skipped before anything is read, even with nobody to sync", func(t *testing.T) {
		t.Parallel()
		f := newResyncFixture(t)
		f.unconfigured = true // no directory, membership or list call is expected
		summary, err := f.resync(t, nil).Job()(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"outcome": "skipped", "reason": "not configured"}; !reflect.DeepEqual(summary, want) {
			t.Fatalf("summary = %v, want %v", summary, want)
		}
		if f.store.putCount() != 0 {
			t.Fatal("a skipped resync wrote states")
		}
	})
	t.Run("failure is returned with the counts so far", func(t *testing.T) {
		t.Parallel()
		f := newResyncFixture(t)
		boom := errors.New("directory down")
		f.dir.EXPECT().Directory(gomock.Any(), gomock.Any()).Return(ports.DirectoryPage{}, boom)
		summary, err := f.resync(t, nil).Job()(context.Background())
		if !errors.Is(err, boom) || summary["outcome"] != "synced" || summary["people"] != 0 {
			t.Fatalf("Job = %v, %v; want %v with zero counts", summary, err, boom)
		}
	})
}

func TestResyncEmailListFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	p1 := person("p1", "ada@example.test")
	onePage := ports.DirectoryPage{People: []ports.Person{p1}, Cursors: []string{"c1"}}
	tests := []struct {
		name  string
		setup func(f resyncFixture, integrations *mocks.MockIntegrations)
	}{
		{"states cannot be read", func(f resyncFixture, i *mocks.MockIntegrations) {
			f.page("", onePage)
			f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, nil)
			i.EXPECT().GetMany(gomock.Any(), application.EmailListIntegration, []string{"p1"}).Return(nil, boom)
		}},
		{"directory fails", func(f resyncFixture, _ *mocks.MockIntegrations) {
			f.dir.EXPECT().Directory(gomock.Any(), gomock.Any()).Return(ports.DirectoryPage{}, boom)
		}},
		{"memberships fail", func(f resyncFixture, _ *mocks.MockIntegrations) {
			f.page("", onePage)
			f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, boom)
		}},
		{"batch upsert fails", func(f resyncFixture, i *mocks.MockIntegrations) {
			f.page("", onePage)
			f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, nil)
			i.EXPECT().GetMany(gomock.Any(), gomock.Any(), []string{"p1"}).Return(nil, nil)
			f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Any()).Return(nil, boom)
		}},
		{"tagging fails", func(f resyncFixture, i *mocks.MockIntegrations) {
			f.page("", onePage)
			f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, nil)
			i.EXPECT().GetMany(gomock.Any(), gomock.Any(), []string{"p1"}).Return(nil, nil)
			f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Any()).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail)}, nil)
			f.list.EXPECT().SetTags(gomock.Any(), gomock.Any(), gomock.Any()).Return(boom)
		}},
		{"state cannot be saved", func(f resyncFixture, i *mocks.MockIntegrations) {
			f.page("", onePage)
			f.ms.EXPECT().GetMany(gomock.Any(), []string{"p1"}).Return(nil, nil)
			i.EXPECT().GetMany(gomock.Any(), gomock.Any(), []string{"p1"}).Return(nil, nil)
			f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Any()).Return([]ports.SubscriberResult{subscribed(p1.PrimaryEmail)}, nil)
			f.list.EXPECT().SetTags(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil)
			i.EXPECT().Put(gomock.Any(), gomock.Any()).Return(int64(0), boom)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newResyncFixture(t)
			integrations := mocks.NewMockIntegrations(gomock.NewController(t))
			tt.setup(f, integrations)
			if _, err := f.resync(t, integrations).Handle(context.Background(), application.ResyncEmailListInput{}); !errors.Is(err, boom) {
				t.Fatalf("err = %v, want %v", err, boom)
			}
		})
	}
}

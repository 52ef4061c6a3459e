package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// emailStore is an in-memory ports.Integrations that keeps versions as the
// real store does (Put succeeds only on the version read) and counts Puts.
type emailStore struct {
	mu   sync.Mutex
	rows map[string]ports.IntegrationState
	puts int
}

func newEmailStore() *emailStore { return &emailStore{rows: map[string]ports.IntegrationState{}} }

func (s *emailStore) Get(_ context.Context, personID, provider string) (ports.IntegrationState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.rows[personID]
	if !ok || provider != application.EmailListIntegration {
		return ports.IntegrationState{}, ports.ErrNotFound
	}
	return st, nil
}

func (s *emailStore) GetMany(_ context.Context, provider string, personIDs []string) (map[string]ports.IntegrationState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if provider != application.EmailListIntegration {
		return nil, fmt.Errorf("unexpected provider %q", provider)
	}
	out := map[string]ports.IntegrationState{}
	for _, id := range personIDs {
		if st, ok := s.rows[id]; ok {
			out[id] = st
		}
	}
	return out, nil
}

func (s *emailStore) Put(_ context.Context, st ports.IntegrationState) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rows[st.PersonID].Version != st.Version {
		return 0, ports.ErrStaleState
	}
	s.puts++
	st.Version++
	s.rows[st.PersonID] = st
	return st.Version, nil
}

// seed stores what an earlier sync recorded for a person.
func (s *emailStore) seed(t *testing.T, personID string, status ports.SubscriberStatus, st syncedEmail) {
	t.Helper()
	body, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[personID] = ports.IntegrationState{PersonID: personID, Provider: application.EmailListIntegration,
		ExternalID: st.Email, Status: string(status), State: body, Version: 7}
}

// row returns what is stored for a person, with its state decoded.
func (s *emailStore) row(t *testing.T, personID string) (ports.IntegrationState, syncedEmail) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.rows[personID]
	if !ok {
		t.Fatalf("nothing stored for %s", personID)
	}
	var out syncedEmail
	if len(st.State) > 0 {
		if err := json.Unmarshal(st.State, &out); err != nil {
			t.Fatalf("stored state %s does not decode: %v", st.State, err)
		}
	}
	return st, out
}

func (s *emailStore) putCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

// syncedEmail mirrors the JSON the email use cases store per person.
type syncedEmail struct {
	Email     string          `json:"email"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Tier      string          `json:"tier"`
	Tags      map[string]bool `json:"tags"`
	Journeys  []string        `json:"journeys,omitempty"`
	Skipped   []string        `json:"skipped_journeys_not_configured,omitempty"`
}

var emailT0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// emailNow is when the email use cases run: a day after emailT0, inside
// the grace window of a payment that failed at emailT0.
var emailNow = emailT0.Add(24 * time.Hour)

// membershipOf returns person's membership after the subscription went
// through statuses, one snapshot an hour, all for tier.
func membershipOf(t *testing.T, personID, tier string, statuses ...membership.ProviderStatus) *membership.Membership {
	t.Helper()
	m, err := membership.New(personID)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := membership.NewTier(tier)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range statuses {
		attempt := 0
		if st == membership.ProviderPastDue {
			attempt = 1
		}
		snap, err := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_1", Status: st, Tier: tr,
			CurrentPeriodEnd: emailT0.Add(720 * time.Hour), TakenAt: emailT0.Add(time.Duration(i) * time.Hour), PaymentAttempt: attempt})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.ApplySnapshot(snap); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func activeIn(t *testing.T, personID, tier string) *membership.Membership {
	t.Helper()
	return membershipOf(t, personID, tier, membership.ProviderActive)
}

// tags returns the tag map of a person with no tier tag, then the given
// tier tags (name, active pairs).
func tags(member, active, pastDue, alumni bool, tierTags ...any) map[string]bool {
	out := map[string]bool{"member": member, "active": active, "past_due": pastDue, "alumni": alumni}
	for i := 0; i+1 < len(tierTags); i += 2 {
		out[tierTags[i].(string)] = tierTags[i+1].(bool)
	}
	return out
}

var testJourneys = application.Journeys{
	application.JourneyWelcome:       {JourneyID: "j_welcome", StepID: "s_welcome"},
	application.JourneyPaymentFailed: {JourneyID: "j_failed", StepID: "s_failed"},
	application.JourneyWinBack:       {JourneyID: "j_back", StepID: "s_back"},
}

// emailFixture is one person and the mocks and store the email use cases
// run on.
type emailFixture struct {
	list    *mocks.MockEmailList
	people  *mocks.MockPersonReader
	ms      *mocks.MockMembershipReader
	book    *ledgerBook // the access ledger
	access  *mocks.MockAccessReader
	store   *emailStore
	effects *effectStore
}

// effectStore is an in-memory ports.SideEffects: intents by key, sent or
// not.
type effectStore struct {
	mu   sync.Mutex
	keys map[string]bool // key → sent
}

func (e *effectStore) Intend(_ context.Context, key, _ string) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.keys[key]; ok {
		return false, nil
	}
	e.keys[key] = false
	return true, nil
}

func (e *effectStore) Sent(_ context.Context, key string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.keys[key]; !ok {
		return ports.ErrNotFound
	}
	e.keys[key] = true
	return nil
}

func (e *effectStore) Release(_ context.Context, key string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.keys[key] {
		delete(e.keys, key)
	}
	return nil
}

// emailTx is the email sync's transaction scope over the in-memory stores.
type emailTx struct {
	integrations ports.Integrations
	effects      *effectStore
}

func (t emailTx) Integrations() ports.Integrations { return t.integrations }
func (t emailTx) SideEffects() ports.SideEffects   { return t.effects }

func newEmailFixture(t *testing.T) emailFixture {
	t.Helper()
	ctrl := gomock.NewController(t)
	book := newLedgerBook()
	return emailFixture{list: mocks.NewMockEmailList(ctrl), people: mocks.NewMockPersonReader(ctrl),
		ms: mocks.NewMockMembershipReader(ctrl), book: book, access: book.readerMock(ctrl), store: newEmailStore(), effects: &effectStore{keys: map[string]bool{}}}
}

// person makes the reader return p, and ms its membership (nil: none),
// with the grants billing wrote to the ledger for it.
func (f emailFixture) person(p ports.Person, m *membership.Membership) {
	if m != nil {
		f.book.bill(m, emailT0)
	}
	f.personWith(p, m)
}

// personWith is person with the ledger as the test wrote it.
func (f emailFixture) personWith(p ports.Person, m *membership.Membership, grants ...ledger.Grant) {
	f.book.add(grants...)
	f.people.EXPECT().Get(gomock.Any(), p.ID).Return(p, nil).AnyTimes()
	if m == nil {
		f.ms.EXPECT().Get(gomock.Any(), p.ID).Return(nil, ports.ErrNotFound).AnyTimes()
		return
	}
	f.ms.EXPECT().Get(gomock.Any(), p.ID).Return(m, nil).AnyTimes()
}

func (f emailFixture) deps(integrations ports.Integrations) application.EmailSyncDeps {
	if integrations == nil {
		integrations = f.store
	}
	uow := newInlineUoW[ports.EmailSyncTx](emailTx{integrations: integrations, effects: f.effects})
	return application.EmailSyncDeps{List: f.list, People: f.people, Memberships: f.ms, Access: f.access, Clock: fixedClock{emailNow},
		Integrations: integrations, UoW: uow, Journeys: testJourneys}
}

func (f emailFixture) syncer(t *testing.T) application.SyncMemberEmail {
	t.Helper()
	h, err := application.NewSyncMemberEmail(f.deps(nil))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var ada = ports.Person{ID: "p1", PrimaryEmail: "ada@example.test", FirstName: "Ada", LastName: "Lovelace"}

func subscribed(email string) ports.SubscriberResult {
	return ports.SubscriberResult{Email: email, Status: ports.SubscriberSubscribed}
}

func TestSyncMemberEmailFirstSyncComputesTagsFromTheMembership(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		m        func(t *testing.T) *membership.Membership
		wantTier string
		wantTags map[string]bool
	}{
		{"no membership yet", func(*testing.T) *membership.Membership { return nil }, "",
			tags(false, false, false, false)},
		{"active member of a tier", func(t *testing.T) *membership.Membership { return activeIn(t, "p1", "community") }, "community",
			tags(true, true, false, false, "community", true)},
		// In the grace window: access goes on, but "active" means good
		// standing, so the payment problem shows as past_due.
		{"past due member in the grace window", func(t *testing.T) *membership.Membership {
			return membershipOf(t, "p1", "leader", membership.ProviderActive, membership.ProviderPastDue)
		}, "leader", tags(true, false, true, false, "leader", true)},
		{"canceled after being active is alumni", func(t *testing.T) *membership.Membership {
			return membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderCanceled)
		}, "community", tags(false, false, false, true, "community", false)},
		{"checkout not paid yet", func(t *testing.T) *membership.Membership {
			return membershipOf(t, "p1", "community", membership.ProviderIncomplete)
		}, "community", tags(false, false, false, false, "community", false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmailFixture(t)
			f.person(ada, tt.m(t))
			want := ports.Subscriber{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: tt.wantTier}
			gomock.InOrder(
				f.list.EXPECT().Upsert(gomock.Any(), want, "").Return(subscribed(ada.PrimaryEmail), nil),
				f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, tt.wantTags).Return(nil),
			)
			err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Reason: ports.ReasonSubscriptionSync})
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			row, st := f.store.row(t, "p1")
			if row.Status != string(ports.SubscriberSubscribed) || row.ExternalID != ada.PrimaryEmail || row.Provider != application.EmailListIntegration || row.Note != "" {
				t.Errorf("stored row = %+v, want subscribed %s without note", row, ada.PrimaryEmail)
			}
			wantState := syncedEmail{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: tt.wantTier, Tags: tt.wantTags}
			if !reflect.DeepEqual(st, wantState) {
				t.Errorf("stored state = %+v, want %+v", st, wantState)
			}
		})
	}
}

func TestSyncMemberEmailSendsOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	activeCommunity := syncedEmail{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: "community",
		Tags: tags(true, true, false, false, "community", true)}
	tests := []struct {
		name       string
		person     ports.Person
		m          func(t *testing.T) *membership.Membership
		wantUpsert *ports.Subscriber // nil: no upsert
		wantPrev   string
		wantTags   map[string]bool // nil: no SetTags
	}{
		{name: "nothing changed: no call at all", person: ada,
			m: func(t *testing.T) *membership.Membership { return activeIn(t, "p1", "community") }},
		{name: "renamed: merge fields only", person: ports.Person{ID: "p1", PrimaryEmail: ada.PrimaryEmail, FirstName: "Augusta", LastName: "King"},
			m:          func(t *testing.T) *membership.Membership { return activeIn(t, "p1", "community") },
			wantUpsert: &ports.Subscriber{Email: ada.PrimaryEmail, FirstName: "Augusta", LastName: "King", Tier: "community"}},
		{name: "payment failed: tags only", person: ada,
			m: func(t *testing.T) *membership.Membership {
				return membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderPastDue)
			},
			wantTags: map[string]bool{"active": false, "past_due": true}},
		{name: "tier changed: merge field, new tier on, old tier off", person: ada,
			m:          func(t *testing.T) *membership.Membership { return activeIn(t, "p1", "leader") },
			wantUpsert: &ports.Subscriber{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: "leader"},
			wantTags:   map[string]bool{"leader": true, "community": false}},
		{name: "address changed since the last sync: moved from it", person: ports.Person{ID: "p1", PrimaryEmail: "ada@new.test", FirstName: "Ada", LastName: "Lovelace"},
			m:          func(t *testing.T) *membership.Membership { return activeIn(t, "p1", "community") },
			wantUpsert: &ports.Subscriber{Email: "ada@new.test", FirstName: "Ada", LastName: "Lovelace", Tier: "community"},
			wantPrev:   ada.PrimaryEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmailFixture(t)
			f.person(tt.person, tt.m(t))
			f.store.seed(t, "p1", ports.SubscriberSubscribed, activeCommunity)
			if tt.wantUpsert != nil {
				f.list.EXPECT().Upsert(gomock.Any(), *tt.wantUpsert, tt.wantPrev).Return(subscribed(tt.wantUpsert.Email), nil)
			}
			if tt.wantTags != nil {
				f.list.EXPECT().SetTags(gomock.Any(), tt.person.PrimaryEmail, tt.wantTags).Return(nil)
			}
			err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Reason: ports.ReasonSubscriptionSync})
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if tt.wantUpsert == nil && tt.wantTags == nil {
				if n := f.store.putCount(); n != 0 {
					t.Fatalf("%d writes for an unchanged person, want none", n)
				}
				return
			}
			row, st := f.store.row(t, "p1")
			if row.Version != 8 || row.ExternalID != tt.person.PrimaryEmail || st.Email != tt.person.PrimaryEmail {
				t.Errorf("stored %+v / %+v, want version 8 at %s", row, st, tt.person.PrimaryEmail)
			}
		})
	}
}

func TestSyncMemberEmailTriggersEachJourneyOncePerMessage(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	m := membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderPastDue)
	f.person(ada, m)
	f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(subscribed(ada.PrimaryEmail), nil).Times(1)
	f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, gomock.Any()).Return(nil).Times(1)
	var triggered []string
	f.list.EXPECT().TriggerJourney(gomock.Any(), gomock.Any(), gomock.Any(), ada.PrimaryEmail).DoAndReturn(
		func(_ context.Context, journeyID, stepID, _ string) error {
			triggered = append(triggered, journeyID+"/"+stepID)
			return nil
		}).AnyTimes()
	h := f.syncer(t)
	failed := func(id string) application.SyncMemberEmailInput {
		return application.SyncMemberEmailInput{MessageID: id, PersonID: "p1", Reason: ports.ReasonPaymentFailed, Events: []string{membership.NamePaymentFailed}}
	}
	// A redelivery of invoice 1's message triggers nothing; invoice 2's
	// failure (another message) triggers the journey again.
	for _, in := range []application.SyncMemberEmailInput{failed("msg-invoice-1"), failed("msg-invoice-1"), failed("msg-invoice-2"), failed("msg-invoice-2")} {
		if err := h.Handle(context.Background(), in); err != nil {
			t.Fatalf("Handle(%s): %v", in.MessageID, err)
		}
	}
	if want := []string{"j_failed/s_failed", "j_failed/s_failed"}; !reflect.DeepEqual(triggered, want) {
		t.Fatalf("journeys triggered = %v, want %v", triggered, want)
	}
	_, st := f.store.row(t, "p1")
	if want := []string{"payment_failed:msg-invoice-1", "payment_failed:msg-invoice-2"}; !reflect.DeepEqual(st.Journeys, want) {
		t.Fatalf("journeys remembered = %v, want %v", st.Journeys, want)
	}
}

func TestSyncMemberEmailPicksTheJourneyTheChangeCallsFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reason   string
		events   []string
		journeys application.Journeys
		want     string // "" : no journey
	}{
		{"activated: welcome", ports.ReasonSubscriptionSync, []string{membership.NameActivated}, testJourneys, "j_welcome"},
		{"canceled: win back", ports.ReasonPeriodEnd, []string{membership.NameCanceled}, testJourneys, "j_back"},
		{"failed payment, whatever the events", ports.ReasonPaymentFailed, nil, testJourneys, "j_failed"},
		{"tier changed: none", ports.ReasonSubscriptionSync, []string{membership.NameTierChanged}, testJourneys, ""},
		{"activated but no welcome journey configured", ports.ReasonSubscriptionSync, []string{membership.NameActivated},
			application.Journeys{application.JourneyWinBack: {JourneyID: "j_back"}}, ""},
		{"rejoined without a welcome-back journey: welcome", ports.ReasonSubscriptionSync, []string{membership.NameReactivated}, testJourneys, "j_welcome"},
		{"rejoined: welcome back", ports.ReasonSubscriptionSync, []string{membership.NameReactivated},
			application.Journeys{application.JourneyWelcome: {JourneyID: "j_welcome"}, application.JourneyWelcomeBack: {JourneyID: "j_wb"}}, "j_wb"},
		{"recovered", ports.ReasonSubscriptionSync, []string{membership.NamePaymentRecovered},
			application.Journeys{application.JourneyRecovered: {JourneyID: "j_rec"}}, "j_rec"},
		{"became alumni, win-back unset", ports.ReasonPeriodEnd, []string{membership.NameCanceled},
			application.Journeys{application.JourneyAlumni: {JourneyID: "j_alumni"}}, "j_alumni"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmailFixture(t)
			f.person(ada, activeIn(t, "p1", "community"))
			f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(subscribed(ada.PrimaryEmail), nil)
			f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, gomock.Any()).Return(nil)
			if tt.want != "" {
				f.list.EXPECT().TriggerJourney(gomock.Any(), tt.want, gomock.Any(), ada.PrimaryEmail).Return(nil)
			}
			d := f.deps(nil)
			d.Journeys = tt.journeys
			h, err := application.NewSyncMemberEmail(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m9", PersonID: "p1", Reason: tt.reason, Events: tt.events}); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			_, st := f.store.row(t, "p1")
			if (len(st.Journeys) == 1) != (tt.want != "") {
				t.Errorf("journeys remembered = %v", st.Journeys)
			}
			// Every journey the change called for is either sent or recorded as skipped.
			if called := len(st.Journeys) + len(st.Skipped); called == 0 && tt.want == "" && len(tt.events) > 0 && tt.events[0] != membership.NameTierChanged {
				t.Errorf("an unset journey was not recorded as skipped: %+v", st)
			}
			for _, k := range st.Skipped {
				if !strings.HasSuffix(k, ":m9") {
					t.Errorf("skipped journey key %q, want <journey>:m9", k)
				}
			}
		})
	}
}

func TestSyncMemberEmailKeepsConsent(t *testing.T) {
	t.Parallel()
	welcome := application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NameActivated}}
	t.Run("an unsubscribed address is tagged but never gets a journey", func(t *testing.T) {
		t.Parallel()
		f := newEmailFixture(t)
		f.person(ada, activeIn(t, "p1", "community"))
		f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{Email: ada.PrimaryEmail, Status: ports.SubscriberUnsubscribed}, nil)
		f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, tags(true, true, false, false, "community", true)).Return(nil)
		// No TriggerJourney expectation: a call fails the test.
		if err := f.syncer(t).Handle(context.Background(), welcome); err != nil {
			t.Fatal(err)
		}
		row, st := f.store.row(t, "p1")
		if row.Status != string(ports.SubscriberUnsubscribed) || len(st.Journeys) != 0 {
			t.Fatalf("stored %s with journeys %v, want unsubscribed and none", row.Status, st.Journeys)
		}
	})
	t.Run("an already unsubscribed address is not upserted again and gets no journey", func(t *testing.T) {
		t.Parallel()
		f := newEmailFixture(t)
		f.person(ada, activeIn(t, "p1", "community"))
		f.store.seed(t, "p1", ports.SubscriberUnsubscribed, syncedEmail{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: "community",
			Tags: tags(false, false, false, false, "community", false)})
		f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, map[string]bool{"member": true, "active": true, "community": true}).Return(nil)
		if err := f.syncer(t).Handle(context.Background(), welcome); err != nil {
			t.Fatal(err)
		}
		if row, _ := f.store.row(t, "p1"); row.Status != string(ports.SubscriberUnsubscribed) {
			t.Fatalf("status became %s; consent belongs to the list", row.Status)
		}
	})
	t.Run("a pending address is neither tagged nor sent a journey, and its tags wait", func(t *testing.T) {
		t.Parallel()
		f := newEmailFixture(t)
		f.person(ada, activeIn(t, "p1", "community"))
		f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{Email: ada.PrimaryEmail, Status: ports.SubscriberPending}, nil)
		if err := f.syncer(t).Handle(context.Background(), welcome); err != nil {
			t.Fatal(err)
		}
		row, st := f.store.row(t, "p1")
		if row.Status != string(ports.SubscriberPending) || len(st.Tags) != 0 || len(st.Journeys) != 0 {
			t.Fatalf("stored %s, tags %v, journeys %v; want pending with no tags applied and no journey", row.Status, st.Tags, st.Journeys)
		}
		// Still pending on the next sync: the tags wait, nothing is called.
		if err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m2", PersonID: "p1"}); err != nil {
			t.Fatal(err)
		}
		if _, st := f.store.row(t, "p1"); len(st.Tags) != 0 {
			t.Fatalf("tags %v recorded as applied while pending", st.Tags)
		}
	})
	t.Run("an archived address is not tagged", func(t *testing.T) {
		t.Parallel()
		f := newEmailFixture(t)
		f.person(ada, activeIn(t, "p1", "community"))
		f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{Email: ada.PrimaryEmail, Status: ports.SubscriberArchived}, nil)
		if err := f.syncer(t).Handle(context.Background(), welcome); err != nil {
			t.Fatal(err)
		}
		if row, st := f.store.row(t, "p1"); row.Status != string(ports.SubscriberArchived) || len(st.Tags) != 0 {
			t.Fatalf("stored %s with tags %v", row.Status, st.Tags)
		}
	})
}

func TestSyncMemberEmailBoundsTheJourneyMemory(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	f.person(ada, activeIn(t, "p1", "community"))
	old := make([]string, 20)
	for i := range old {
		old[i] = fmt.Sprintf("welcome:old-%02d", i)
	}
	f.store.seed(t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: "community",
		Tags: tags(true, true, false, false, "community", true), Journeys: old})
	f.list.EXPECT().TriggerJourney(gomock.Any(), "j_welcome", "s_welcome", ada.PrimaryEmail).Return(nil)
	err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "new", PersonID: "p1", Events: []string{membership.NameActivated}})
	if err != nil {
		t.Fatal(err)
	}
	_, st := f.store.row(t, "p1")
	if len(st.Journeys) != 20 || st.Journeys[0] != "welcome:old-01" || st.Journeys[19] != "welcome:new" {
		t.Fatalf("journeys = %v, want the newest 20 ending in welcome:new", st.Journeys)
	}
}

func TestSyncMemberEmailResyncsFullyFromAnUnreadableState(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	f.person(ada, activeIn(t, "p1", "community"))
	f.store.rows["p1"] = ports.IntegrationState{PersonID: "p1", Provider: application.EmailListIntegration, Status: "subscribed",
		State: json.RawMessage(`{"email": 42`), Version: 3}
	f.list.EXPECT().Upsert(gomock.Any(), ports.Subscriber{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: "community"}, "").
		Return(subscribed(ada.PrimaryEmail), nil)
	f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, tags(true, true, false, false, "community", true)).Return(nil)
	if err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}); err != nil {
		t.Fatal(err)
	}
	row, st := f.store.row(t, "p1")
	if row.Note != "previous state unreadable; synced afresh" || row.Version != 4 || st.Email != ada.PrimaryEmail {
		t.Fatalf("stored %+v, want a fresh state noted as resynced from an unreadable one", row)
	}
}

func TestSyncMemberEmailRecordsAnUnconfiguredListAsSkipped(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	f.person(ada, activeIn(t, "p1", "community"))
	f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{}, ports.ErrNotConfigured).Times(2)
	for range 2 { // the skipped note is not a sync: the next one tries again
		err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Events: []string{membership.NameActivated}})
		if err != nil {
			t.Fatalf("Handle = %v, want nil (recorded as skipped)", err)
		}
		row, _ := f.store.row(t, "p1")
		if row.Note != "skipped: not configured" || row.Status != "" {
			t.Fatalf("stored %+v, want status empty and note \"skipped: not configured\"", row)
		}
	}
}

// TestSyncMemberEmailRecordsSkippedOverARacingWriter: the skipped note is
// written over whatever is stored, reading the version again once on a race;
// a second race or a failed read is returned for the worker to retry.
func TestSyncMemberEmailRecordsSkippedOverARacingWriter(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	skipped := func(version int64) any {
		return gomock.Cond(func(s ports.IntegrationState) bool {
			return s.Version == version && s.Note == "skipped: not configured" && s.Status == "" && s.PersonID == "p1" && s.Provider == application.EmailListIntegration
		})
	}
	tests := []struct {
		name    string
		setup   func(i *mocks.MockIntegrations)
		wantErr error
	}{
		{"one race: read again and write", func(i *mocks.MockIntegrations) {
			gomock.InOrder(
				i.EXPECT().Get(gomock.Any(), "p1", application.EmailListIntegration).Return(ports.IntegrationState{Version: 3}, nil),
				i.EXPECT().Put(gomock.Any(), skipped(3)).Return(int64(0), ports.ErrStaleState),
				i.EXPECT().Get(gomock.Any(), "p1", application.EmailListIntegration).Return(ports.IntegrationState{Version: 4}, nil),
				i.EXPECT().Put(gomock.Any(), skipped(4)).Return(int64(5), nil),
			)
		}, nil},
		{"two races: stale state returned for retry", func(i *mocks.MockIntegrations) {
			i.EXPECT().Get(gomock.Any(), "p1", application.EmailListIntegration).Return(ports.IntegrationState{}, ports.ErrNotFound).Times(2)
			i.EXPECT().Put(gomock.Any(), skipped(0)).Return(int64(0), ports.ErrStaleState).Times(2)
		}, ports.ErrStaleState},
		{"read failure", func(i *mocks.MockIntegrations) {
			i.EXPECT().Get(gomock.Any(), "p1", application.EmailListIntegration).Return(ports.IntegrationState{}, boom)
		}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmailFixture(t)
			f.person(ada, activeIn(t, "p1", "community"))
			integrations := mocks.NewMockIntegrations(gomock.NewController(t))
			// The plan reads the state first: nothing synced yet.
			first := integrations.EXPECT().Get(gomock.Any(), "p1", application.EmailListIntegration).Return(ports.IntegrationState{}, ports.ErrNotFound)
			f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{}, ports.ErrNotConfigured).After(first)
			tt.setup(integrations)
			h, err := application.NewSyncMemberEmail(f.deps(integrations))
			if err != nil {
				t.Fatal(err)
			}
			err = h.Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Events: []string{membership.NameActivated}})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestSyncMemberEmailLosingEveryRaceReturnsStaleStateAndTriggersNothing:
// a sync that loses its save to other syncs of the person each time plans
// again, at most three times, then leaves it to a retry; it never
// triggers a journey it could not record.
func TestSyncMemberEmailLosingEveryRaceReturnsStaleStateAndTriggersNothing(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	f.person(ada, activeIn(t, "p1", "community"))
	integrations := mocks.NewMockIntegrations(gomock.NewController(t))
	// Three plans, then the calls go on record: nothing synced to record them on.
	integrations.EXPECT().Get(gomock.Any(), "p1", application.EmailListIntegration).Return(ports.IntegrationState{}, ports.ErrNotFound).Times(4)
	integrations.EXPECT().Put(gomock.Any(), gomock.Any()).Return(int64(0), ports.ErrStaleState).Times(3)
	f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(subscribed(ada.PrimaryEmail), nil).Times(3)
	f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, gomock.Any()).Return(nil).Times(3)
	// No TriggerJourney: another sync of this person saved first each time.
	h, err := application.NewSyncMemberEmail(f.deps(integrations))
	if err != nil {
		t.Fatal(err)
	}
	err = h.Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Events: []string{membership.NameActivated}})
	if !errors.Is(err, ports.ErrStaleState) || ports.IsPermanent(err) {
		t.Fatalf("err = %v, want a retryable ErrStaleState", err)
	}
}

// racingStore is the email store with another sync of the person saving
// first: before the first Put, race runs (and saves through the store).
type racingStore struct {
	*emailStore
	once sync.Once
	race func(ctx context.Context)
}

func (s *racingStore) Put(ctx context.Context, st ports.IntegrationState) (int64, error) {
	s.once.Do(func() { s.race(ctx) })
	return s.emailStore.Put(ctx, st)
}

// saveAs saves st over whatever version is stored, as another sync would.
func (s *emailStore) saveAs(ctx context.Context, t *testing.T, personID string, status ports.SubscriberStatus, st syncedEmail) {
	t.Helper()
	cur, _ := s.Get(ctx, personID, application.EmailListIntegration)
	body, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, ports.IntegrationState{PersonID: personID, Provider: application.EmailListIntegration,
		ExternalID: st.Email, Status: string(status), State: body, Version: cur.Version}); err != nil {
		t.Fatal(err)
	}
}

// TestSyncMemberEmailRepairsItsOwnLateCallsAfterLosingARace: two syncs of
// one person run at once; the one that read the person first makes its
// calls, but the other saves first, and the first one's calls may reach
// the list last. The loser must not trust the saved state: it plans again
// and sends the person as they are now wherever its own calls said
// otherwise (a stale name; tags of a membership that has since ended).
func TestSyncMemberEmailRepairsItsOwnLateCallsAfterLosingARace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("a name", func(t *testing.T) {
		t.Parallel()
		f := newEmailFixture(t)
		f.person(ada, activeIn(t, "p1", "community")) // the membership; the person is read below
		augusta := ada
		augusta.FirstName = "Augusta"
		before := ada
		before.FirstName = "Ada Byron"
		f.people = mocks.NewMockPersonReader(gomock.NewController(t))
		gomock.InOrder(
			f.people.EXPECT().Get(gomock.Any(), "p1").Return(ada, nil),
			f.people.EXPECT().Get(gomock.Any(), "p1").Return(augusta, nil).AnyTimes(),
		)
		f.store.seed(t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: ada.PrimaryEmail, FirstName: before.FirstName, LastName: "Lovelace",
			Tier: "community", Tags: tags(true, true, false, false, "community", true)})
		store := &racingStore{emailStore: f.store}
		store.race = func(ctx context.Context) { // the other sync read "Augusta", sent it, and saved
			f.store.saveAs(ctx, t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: ada.PrimaryEmail, FirstName: "Augusta", LastName: "Lovelace",
				Tier: "community", Tags: tags(true, true, false, false, "community", true)})
		}
		gomock.InOrder(
			f.list.EXPECT().Upsert(gomock.Any(), ports.Subscriber{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace", Tier: "community"}, "").
				Return(subscribed(ada.PrimaryEmail), nil),
			// The repair: "Ada" may have landed after "Augusta".
			f.list.EXPECT().Upsert(gomock.Any(), ports.Subscriber{Email: ada.PrimaryEmail, FirstName: "Augusta", LastName: "Lovelace", Tier: "community"}, "").
				Return(subscribed(ada.PrimaryEmail), nil),
		)
		h, err := application.NewSyncMemberEmail(f.deps(store))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Handle(ctx, application.SyncMemberEmailInput{MessageID: "m2", PersonID: "p1"}); err != nil {
			t.Fatal(err)
		}
		if row, st := f.store.row(t, "p1"); st.FirstName != "Augusta" || row.Version != 9 {
			t.Fatalf("saved %+v (version %d), want Augusta on top of the other sync's save", st, row.Version)
		}
	})
	t.Run("tags of a membership that ended meanwhile", func(t *testing.T) {
		t.Parallel()
		f := newEmailFixture(t)
		active, canceled := activeIn(t, "p1", "community"), membershipOf(t, "p1", "community", membership.ProviderActive, membership.ProviderCanceled)
		f.book.bill(active, emailT0)
		var current atomic.Pointer[membership.Membership]
		current.Store(active)
		f.people.EXPECT().Get(gomock.Any(), "p1").Return(ada, nil).AnyTimes()
		f.ms.EXPECT().Get(gomock.Any(), "p1").DoAndReturn(func(context.Context, string) (*membership.Membership, error) {
			return current.Load(), nil
		}).AnyTimes()
		// Synced before the membership began: no member tags yet.
		f.store.seed(t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace",
			Tier: "community", Tags: tags(false, false, false, false, "community", false)})
		store := &racingStore{emailStore: f.store}
		alumni := tags(false, false, false, true, "community", false)
		store.race = func(ctx context.Context) { // the membership ended; the other sync sent that and saved
			current.Store(canceled)
			f.book.bill(canceled, emailT0)
			f.store.saveAs(ctx, t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: ada.PrimaryEmail, FirstName: "Ada", LastName: "Lovelace",
				Tier: "community", Tags: alumni})
		}
		gomock.InOrder(
			f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, map[string]bool{"member": true, "active": true, "community": true}).Return(nil),
			// The repair: the member tags this sync set may have landed last.
			f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, map[string]bool{"member": false, "active": false, "community": false}).Return(nil),
		)
		f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), gomock.Any()).Return(subscribed(ada.PrimaryEmail), nil).AnyTimes()
		h, err := application.NewSyncMemberEmail(f.deps(store))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Handle(ctx, application.SyncMemberEmailInput{MessageID: "m3", PersonID: "p1"}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSyncMemberEmailRecordsItsLateCallsWhenTheRepairFails: the loser of
// a race whose repair fails (the list is down) puts its own calls on
// record, so that the retry sends the person where they differ instead of
// trusting the winner's saved state.
func TestSyncMemberEmailRecordsItsLateCallsWhenTheRepairFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	boom := errors.New("list down")
	f := newEmailFixture(t)
	f.person(ada, activeIn(t, "p1", "community"))
	augusta := ada
	augusta.FirstName = "Augusta"
	f.people = mocks.NewMockPersonReader(gomock.NewController(t))
	gomock.InOrder(
		f.people.EXPECT().Get(gomock.Any(), "p1").Return(ada, nil),
		f.people.EXPECT().Get(gomock.Any(), "p1").Return(augusta, nil).AnyTimes(),
	)
	synced := syncedEmail{Email: ada.PrimaryEmail, FirstName: "Ada Byron", LastName: "Lovelace", Tier: "community",
		Tags: tags(true, true, false, false, "community", true)}
	f.store.seed(t, "p1", ports.SubscriberSubscribed, synced)
	store := &racingStore{emailStore: f.store}
	store.race = func(ctx context.Context) {
		augustaSynced := synced
		augustaSynced.FirstName = "Augusta"
		f.store.saveAs(ctx, t, "p1", ports.SubscriberSubscribed, augustaSynced)
	}
	subscriber := func(first string) ports.Subscriber {
		return ports.Subscriber{Email: ada.PrimaryEmail, FirstName: first, LastName: "Lovelace", Tier: "community"}
	}
	gomock.InOrder(
		f.list.EXPECT().Upsert(gomock.Any(), subscriber("Ada"), "").Return(subscribed(ada.PrimaryEmail), nil),
		f.list.EXPECT().Upsert(gomock.Any(), subscriber("Augusta"), "").Return(ports.SubscriberResult{}, boom),    // the repair
		f.list.EXPECT().Upsert(gomock.Any(), subscriber("Augusta"), "").Return(subscribed(ada.PrimaryEmail), nil), // the retry
	)
	h, err := application.NewSyncMemberEmail(f.deps(store))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(ctx, application.SyncMemberEmailInput{MessageID: "m2", PersonID: "p1"}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the list's failure", err)
	}
	if _, st := f.store.row(t, "p1"); st.FirstName != "Ada" {
		t.Fatalf("stored %+v, want the late call on record (Ada)", st)
	}
	if err := h.Handle(ctx, application.SyncMemberEmailInput{MessageID: "m2", PersonID: "p1"}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, st := f.store.row(t, "p1"); st.FirstName != "Augusta" {
		t.Fatalf("stored %+v after the retry, want Augusta", st)
	}
}

func TestSyncMemberEmailFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("list down")
	tests := []struct {
		name      string
		setup     func(t *testing.T, f emailFixture)
		in        application.SyncMemberEmailInput
		wantErr   error
		permanent bool
		wantPuts  int
	}{
		{name: "message without a person", setup: func(*testing.T, emailFixture) {},
			in: application.SyncMemberEmailInput{MessageID: "m1"}, wantErr: application.ErrInvalidInput, permanent: true},
		{name: "unknown person", setup: func(_ *testing.T, f emailFixture) {
			f.people.EXPECT().Get(gomock.Any(), "p1").Return(ports.Person{}, ports.ErrNotFound)
		}, in: application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}, permanent: true},
		{name: "person store down", setup: func(_ *testing.T, f emailFixture) {
			f.people.EXPECT().Get(gomock.Any(), "p1").Return(ports.Person{}, boom)
		}, in: application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}, wantErr: boom},
		{name: "membership store down", setup: func(_ *testing.T, f emailFixture) {
			f.people.EXPECT().Get(gomock.Any(), "p1").Return(ada, nil)
			f.ms.EXPECT().Get(gomock.Any(), "p1").Return(nil, boom)
		}, in: application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}, wantErr: boom},
		{name: "access ledger down", setup: func(t *testing.T, f emailFixture) {
			f.person(ada, activeIn(t, "p1", "community"))
			f.book.err = boom
		}, in: application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}, wantErr: boom},
		{name: "upsert fails: nothing saved", setup: func(t *testing.T, f emailFixture) {
			f.person(ada, activeIn(t, "p1", "community"))
			f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(ports.SubscriberResult{}, boom)
		}, in: application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}, wantErr: boom},
		{name: "tagging fails: nothing saved", setup: func(t *testing.T, f emailFixture) {
			f.person(ada, activeIn(t, "p1", "community"))
			f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(subscribed(ada.PrimaryEmail), nil)
			f.list.EXPECT().SetTags(gomock.Any(), gomock.Any(), gomock.Any()).Return(boom)
		}, in: application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}, wantErr: boom},
		{name: "journey fails: the sync is saved, the journey is not marked sent", setup: func(t *testing.T, f emailFixture) {
			f.person(ada, activeIn(t, "p1", "community"))
			f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(subscribed(ada.PrimaryEmail), nil)
			f.list.EXPECT().SetTags(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil)
			f.list.EXPECT().TriggerJourney(gomock.Any(), "j_welcome", "s_welcome", ada.PrimaryEmail).Return(boom)
		}, in: application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Events: []string{membership.NameActivated}}, wantErr: boom, wantPuts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmailFixture(t)
			tt.setup(t, f)
			err := f.syncer(t).Handle(context.Background(), tt.in)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if ports.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %t, want %t", err, ports.IsPermanent(err), tt.permanent)
			}
			if n := f.store.putCount(); n != tt.wantPuts {
				t.Errorf("%d states saved, want %d", n, tt.wantPuts)
			}
			if tt.wantPuts > 0 {
				if _, st := f.store.row(t, "p1"); len(st.Journeys) != 0 {
					t.Errorf("journey marked sent after it failed: %v", st.Journeys)
				}
			}
		})
	}
}

func TestSyncMemberEmailReadFailureOfTheStoredState(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	f.person(ada, activeIn(t, "p1", "community"))
	boom := errors.New("db down")
	integrations := mocks.NewMockIntegrations(gomock.NewController(t))
	integrations.EXPECT().Get(gomock.Any(), "p1", application.EmailListIntegration).Return(ports.IntegrationState{}, boom)
	h, err := application.NewSyncMemberEmail(f.deps(integrations))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestSyncMemberEmailLeavesErasedPeopleToTheArchive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		person ports.Person
	}{
		{"erased", ports.Person{ID: "p1", Erased: true}},
		{"without an address", ports.Person{ID: "p1", FirstName: "Ada"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmailFixture(t)
			f.people.EXPECT().Get(gomock.Any(), "p1").Return(tt.person, nil)
			// No list, membership or store calls.
			if err := f.syncer(t).Handle(context.Background(), application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1"}); err != nil {
				t.Fatal(err)
			}
			if n := f.store.putCount(); n != 0 {
				t.Fatalf("%d writes", n)
			}
		})
	}
}

func TestMoveMemberEmailPassesThePreviousAddress(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	moved := ports.Person{ID: "p1", PrimaryEmail: "ada@new.test", FirstName: "Ada", LastName: "Lovelace"}
	f.person(moved, activeIn(t, "p1", "community"))
	f.store.seed(t, "p1", ports.SubscriberSubscribed, syncedEmail{Email: "ada@new.test", FirstName: "Ada", LastName: "Lovelace", Tier: "community",
		Tags: tags(true, true, false, false, "community", true)})
	f.list.EXPECT().Upsert(gomock.Any(), ports.Subscriber{Email: "ada@new.test", FirstName: "Ada", LastName: "Lovelace", Tier: "community"}, "ada@old.test").
		Return(subscribed("ada@new.test"), nil)
	h, err := application.NewMoveMemberEmail(f.deps(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), application.MoveMemberEmailInput{PersonID: "p1", PreviousEmail: "ada@old.test"}); err != nil {
		t.Fatal(err)
	}
	if row, st := f.store.row(t, "p1"); row.ExternalID != "ada@new.test" || st.Email != "ada@new.test" {
		t.Fatalf("stored %+v", row)
	}
	err = h.Handle(context.Background(), application.MoveMemberEmailInput{PreviousEmail: "ada@old.test"})
	if !ports.IsPermanent(err) || !errors.Is(err, application.ErrInvalidInput) {
		t.Fatalf("message without a person: err = %v, want permanent invalid input", err)
	}
}

func TestEmailUseCasesRefuseNilDependencies(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	dir := mocks.NewMockPeopleDirectory(gomock.NewController(t))
	full := f.deps(nil)
	without := func(mod func(d *application.EmailSyncDeps)) application.EmailSyncDeps {
		d := full
		mod(&d)
		return d
	}
	resyncWithout := func(mod func(d *application.ResyncEmailListDeps)) application.ResyncEmailListDeps {
		d := application.ResyncEmailListDeps{List: f.list, People: dir, Person: f.people, Memberships: f.ms, Access: f.access, Clock: fixedClock{emailNow},
			Integrations: f.store, UoW: full.UoW}
		mod(&d)
		return d
	}
	if _, err := application.NewResyncEmailList(resyncWithout(func(*application.ResyncEmailListDeps) {})); err != nil {
		t.Fatalf("resync: complete dependencies refused: %v", err)
	}
	var nilList *mocks.MockEmailList // a typed nil inside the interface
	tests := []struct {
		name string
		make func() error
	}{
		{"sync without list", func() error {
			_, err := application.NewSyncMemberEmail(without(func(d *application.EmailSyncDeps) { d.List = nil }))
			return err
		}},
		{"sync with a typed nil list", func() error {
			_, err := application.NewSyncMemberEmail(without(func(d *application.EmailSyncDeps) { d.List = nilList }))
			return err
		}},
		{"move without people", func() error {
			_, err := application.NewMoveMemberEmail(without(func(d *application.EmailSyncDeps) { d.People = nil }))
			return err
		}},
		{"move without memberships", func() error {
			_, err := application.NewMoveMemberEmail(without(func(d *application.EmailSyncDeps) { d.Memberships = nil }))
			return err
		}},
		{"sync without the access ledger", func() error {
			_, err := application.NewSyncMemberEmail(without(func(d *application.EmailSyncDeps) { d.Access = nil }))
			return err
		}},
		{"sync without a clock", func() error {
			_, err := application.NewSyncMemberEmail(without(func(d *application.EmailSyncDeps) { d.Clock = nil }))
			return err
		}},
		{"sync without integrations", func() error {
			_, err := application.NewSyncMemberEmail(without(func(d *application.EmailSyncDeps) { d.Integrations = nil }))
			return err
		}},
		{"sync without a unit of work", func() error {
			_, err := application.NewSyncMemberEmail(without(func(d *application.EmailSyncDeps) { d.UoW = nil }))
			return err
		}},
		{"resync without directory", func() error {
			_, err := application.NewResyncEmailList(resyncWithout(func(d *application.ResyncEmailListDeps) { d.People = nil }))
			return err
		}},
		{"resync without integrations", func() error {
			_, err := application.NewResyncEmailList(resyncWithout(func(d *application.ResyncEmailListDeps) { d.Integrations = nil }))
			return err
		}},
		{"resync without the access ledger", func() error {
			_, err := application.NewResyncEmailList(resyncWithout(func(d *application.ResyncEmailListDeps) { d.Access = nil }))
			return err
		}},
		{"resync without a clock", func() error {
			_, err := application.NewResyncEmailList(resyncWithout(func(d *application.ResyncEmailListDeps) { d.Clock = nil }))
			return err
		}},
		{"resync without a person reader", func() error {
			_, err := application.NewResyncEmailList(resyncWithout(func(d *application.ResyncEmailListDeps) { d.Person = nil }))
			return err
		}},
		{"resync without a unit of work", func() error {
			_, err := application.NewResyncEmailList(resyncWithout(func(d *application.ResyncEmailListDeps) { d.UoW = nil }))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.make(); err == nil {
				t.Fatal("constructor succeeded, want a nil-dependency error")
			}
		})
	}
	if _, err := application.NewSyncMemberEmail(full); err != nil {
		t.Fatalf("complete dependencies refused: %v", err)
	}
}

// A journey's intent is recorded with the state, before the call: a refused
// trigger releases it so that the retry sends, and once sent, a sync of the
// same message that does not see it in the state (its memory was lost to a
// concurrent save) still does not send again.
func TestSyncMemberEmailJourneyIntentIsKeptOnceSentAndReleasedOnRefusal(t *testing.T) {
	t.Parallel()
	f := newEmailFixture(t)
	f.person(ada, activeIn(t, "p1", "community"))
	f.list.EXPECT().Upsert(gomock.Any(), gomock.Any(), "").Return(subscribed(ada.PrimaryEmail), nil).Times(1)
	f.list.EXPECT().SetTags(gomock.Any(), ada.PrimaryEmail, gomock.Any()).Return(nil).Times(1)
	refused := errors.New("list: 503")
	gomock.InOrder(
		f.list.EXPECT().TriggerJourney(gomock.Any(), "j_welcome", "s_welcome", ada.PrimaryEmail).Return(refused),
		f.list.EXPECT().TriggerJourney(gomock.Any(), "j_welcome", "s_welcome", ada.PrimaryEmail).Return(nil),
	)
	in := application.SyncMemberEmailInput{MessageID: "m1", PersonID: "p1", Events: []string{membership.NameActivated}}
	h := f.syncer(t)
	if err := h.Handle(context.Background(), in); !errors.Is(err, refused) {
		t.Fatalf("first attempt: %v, want the refusal (retried)", err)
	}
	if len(f.effects.keys) != 0 {
		t.Fatalf("intents after a refusal = %v, want none", f.effects.keys)
	}
	if err := h.Handle(context.Background(), in); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if sent := f.effects.keys["email_journey:p1:welcome:m1"]; !sent {
		t.Fatalf("intents = %v, want the welcome of m1 sent", f.effects.keys)
	}
	// The state forgets the journey (a concurrent save won): the intent
	// still stops a third trigger (TriggerJourney is expected twice only).
	row, st := f.store.row(t, "p1")
	st.Journeys = nil
	f.store.seed(t, "p1", ports.SubscriberStatus(row.Status), st)
	if err := h.Handle(context.Background(), in); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
}

package application_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// ledgerBook is an in-memory access ledger: the AccessGrants and
// AccessReader mocks of a test answer from it, so that a use case reads
// back what it wrote. Grant ids are g1, g2, … in the order they open.
type ledgerBook struct {
	mu     sync.Mutex
	grants map[string][]ledger.Grant // by person
	active map[string]bool           // the last SetActive by person
	seq    int
	opened int
	saved  int
	err    error // every call fails with it when set
}

func newLedgerBook() *ledgerBook {
	return &ledgerBook{grants: map[string][]ledger.Grant{}, active: map[string]bool{}}
}

// grantsMock is an AccessGrants over the book.
func (b *ledgerBook) grantsMock(ctrl *gomock.Controller) *mocks.MockAccessGrants {
	g := mocks.NewMockAccessGrants(ctrl)
	g.EXPECT().ForPerson(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, id string) ([]ledger.Grant, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		return slices.Clone(b.grants[id]), b.err
	}).AnyTimes()
	g.EXPECT().Get(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, id string) (ledger.Grant, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err != nil {
			return ledger.Grant{}, b.err
		}
		for _, gs := range b.grants {
			for _, g := range gs {
				if g.ID == id {
					return g, nil
				}
			}
		}
		return ledger.Grant{}, ports.ErrNotFound
	}).AnyTimes()
	g.EXPECT().Open(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, g ledger.Grant) (ledger.Grant, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err != nil {
			return ledger.Grant{}, b.err
		}
		b.opened++
		return b.open(g), nil
	}).AnyTimes()
	g.EXPECT().Save(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, g ledger.Grant) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err != nil {
			return b.err
		}
		b.saved++
		return b.save(g)
	}).AnyTimes()
	g.EXPECT().SetActive(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, id string, active bool) (bool, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err != nil {
			return false, b.err
		}
		was := b.active[id]
		b.active[id] = active
		return was, nil
	}).AnyTimes()
	return g
}

// readerMock is an AccessReader over the book.
func (b *ledgerBook) readerMock(ctrl *gomock.Controller) *mocks.MockAccessReader {
	r := mocks.NewMockAccessReader(ctrl)
	r.EXPECT().GrantsOf(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, ids []string) (map[string][]ledger.Grant, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err != nil {
			return nil, b.err
		}
		out := map[string][]ledger.Grant{}
		for _, id := range ids {
			if gs := b.grants[id]; len(gs) > 0 {
				out[id] = slices.Clone(gs)
			}
		}
		return out, nil
	}).AnyTimes()
	return r
}

func (b *ledgerBook) open(g ledger.Grant) ledger.Grant {
	b.seq++
	g.ID = fmt.Sprintf("g%d", b.seq)
	b.grants[g.PersonID] = append(b.grants[g.PersonID], g)
	return g
}

func (b *ledgerBook) save(g ledger.Grant) error {
	for i, old := range b.grants[g.PersonID] {
		if old.ID == g.ID {
			b.grants[g.PersonID][i] = g
			return nil
		}
	}
	return ports.ErrNotFound
}

// add stores grants as given (ids assigned) and returns them with their ids.
func (b *ledgerBook) add(gs ...ledger.Grant) []ledger.Grant {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]ledger.Grant, 0, len(gs))
	for _, g := range gs {
		out = append(out, b.open(g))
	}
	return out
}

// of returns the person's grants.
func (b *ledgerBook) of(personID string) []ledger.Grant {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.grants[personID])
}

// isActive is what was last recorded for the person.
func (b *ledgerBook) isActive(personID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.active[personID]
}

// setActive records access as evaluated earlier.
func (b *ledgerBook) setActive(personID string, active bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.active[personID] = active
}

// bill writes the grants billing would have written for m, as the
// application does after every membership change (ledger.Plan): a
// membership that was active and is no longer went through the active
// state at from and its present one an hour later. It records the access
// of the last step and returns it.
func (b *ledgerBook) bill(m *membership.Membership, from time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := m.PersonID()
	apply := func(bl ledger.Billing, at time.Time) {
		for _, c := range ledger.Plan(id, b.grants[id], bl, at, ledger.DefaultGracePeriod) {
			if c.Kind == ledger.Opened {
				b.open(c.Grant)
			} else if err := b.save(c.Grant); err != nil {
				panic(err)
			}
		}
	}
	now, bl := from, ledger.BillingOf(m)
	if m.EverActive() && bl.Status != membership.StatusActive {
		apply(ledger.Billing{Status: membership.StatusActive, Tier: bl.Tier}, from)
		now = from.Add(time.Hour)
	}
	apply(bl, now)
	b.active[id] = ledger.Explain(b.grants[id], now).Active
	return b.active[id]
}

// ledgerState is a copy of the book, to roll back a failed transaction.
type ledgerState struct {
	grants map[string][]ledger.Grant
	active map[string]bool
	seq    int
}

func (b *ledgerBook) state() ledgerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	gs := make(map[string][]ledger.Grant, len(b.grants))
	for k, v := range b.grants {
		gs[k] = slices.Clone(v)
	}
	return ledgerState{grants: gs, active: maps.Clone(b.active), seq: b.seq}
}

func (b *ledgerBook) restore(s ledgerState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.grants, b.active, b.seq = s.grants, s.active, s.seq
}

// subscriptionGrant is an open grant of a paid subscription since from.
func subscriptionGrant(personID, tier string, from time.Time) ledger.Grant {
	return ledger.Grant{PersonID: personID, Source: ledger.SourceSubscription, Tier: tier, From: from,
		GrantedBy: ledger.BillingActor, Reason: "subscription paid"}
}

// graceGrant is the grace window [from, until) after a failed payment.
func graceGrant(personID, tier string, from, until time.Time) ledger.Grant {
	return ledger.Grant{PersonID: personID, Source: ledger.SourceGrace, Tier: tier, From: from, Until: until,
		GrantedBy: ledger.BillingActor, Reason: "payment failed: grace period"}
}

// scholarship is a complimentary membership [from, until) granted by an admin.
func scholarship(t *testing.T, personID, tier string, from, until time.Time) ledger.Grant {
	t.Helper()
	g, err := ledger.NewGrant(ledger.SourceComplimentary, personID, tier, from, until, "p9", "scholarship 2026")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
)

// interval is the model's record of one reason for access, kept apart from
// the ledger's own code: [from, until), until zero while open.
type interval struct {
	source      ledger.Source
	from, until time.Time
}

func (iv interval) covers(t time.Time) bool {
	return !t.Before(iv.from) && (iv.until.IsZero() || t.Before(iv.until))
}

// model follows the rules of access in the plainest terms: paid time is
// access; the first failed payment after paid time starts one grace window
// of fixed length that recovery ends early (a suspension while paid up
// starts none); complimentary and manual grants last their window unless
// revoked.
type model struct {
	intervals []interval
	paying    int // index of the open paid interval, -1 when none
	grace     int // index of the grace window started by the last failure, -1 when none
}

func (m *model) endPaid(at time.Time) {
	if m.paying >= 0 {
		iv := &m.intervals[m.paying]
		if iv.until.IsZero() || at.Before(iv.until) {
			iv.until = at
		}
		m.paying = -1
	}
}

// system is what the property drives: the ledger's grants, updated by Plan
// on each billing change and by NewGrant and Revoke.
type system struct {
	grants  []ledger.Grant
	billing ledger.Billing
	nextID  int
}

func (s *system) apply(changes []ledger.Change) {
	for _, c := range changes {
		switch c.Kind {
		case ledger.Opened:
			s.nextID++
			c.Grant.ID = fmt.Sprintf("g%03d", s.nextID)
			s.grants = append(s.grants, c.Grant)
		case ledger.Closed, ledger.Updated:
			i := slices.IndexFunc(s.grants, func(g ledger.Grant) bool { return g.ID == c.Grant.ID })
			s.grants[i] = c.Grant
		}
	}
}

const propGrace = 7 * 24 * time.Hour

// TestAccessIsSomeGrantCurrent drives random sequences of grants,
// revocations, payments, failures, cancellations and the passing of time,
// and checks at every step and at sampled instants afterwards that access
// is exactly "some grant is current" by the independent model, and that the
// explanation names every current grant (one per reason of the model).
func TestAccessIsSomeGrantCurrent(t *testing.T) {
	for seed := range uint64(2000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		now := t0
		sys := &system{}
		mod := &model{paying: -1, grace: -1}
		var hand []int // model indexes of complimentary and manual grants
		var handIDs []string
		periodEnd := time.Time{} // a scheduled cancellation's end, zero when none
		setStatus := func(st membership.Status) {
			sys.billing.Status = st
			sys.apply(ledger.Plan("p1", sys.grants, sys.billing, now, propGrace))
		}
		for step := range 40 {
			// A scheduled cancellation takes effect at its period end.
			if !periodEnd.IsZero() && !now.Before(periodEnd) {
				mod.endPaid(periodEnd)
				periodEnd, sys.billing.CancelAtPeriodEnd = time.Time{}, false
				setStatus(membership.StatusCanceled)
			}
			switch op := rng.IntN(9); op {
			case 0, 1: // time passes
				now = now.Add(time.Duration(rng.IntN(10*24)) * time.Hour)
			case 2: // a payment succeeds
				if sys.billing.Status != membership.StatusActive {
					mod.intervals = append(mod.intervals, interval{source: ledger.SourceSubscription, from: now})
					mod.paying = len(mod.intervals) - 1
					if mod.grace >= 0 && mod.intervals[mod.grace].covers(now) {
						mod.intervals[mod.grace].until = now
					}
					mod.grace = -1
				}
				sys.billing.Tier = "community"
				setStatus(membership.StatusActive)
			case 3, 4: // a payment fails (past_due), or the provider stops collecting (suspended)
				if mod.paying >= 0 {
					mod.endPaid(now)
					if op == 3 && (mod.grace < 0 || !mod.intervals[mod.grace].covers(now)) {
						mod.intervals = append(mod.intervals, interval{source: ledger.SourceGrace, from: now, until: now.Add(propGrace)})
						mod.grace = len(mod.intervals) - 1
					}
					periodEnd, sys.billing.CancelAtPeriodEnd = time.Time{}, false
				}
				setStatus([]membership.Status{membership.StatusPastDue, membership.StatusSuspended}[op-3])
			case 5: // canceled outright
				mod.endPaid(now)
				periodEnd, sys.billing.CancelAtPeriodEnd = time.Time{}, false
				setStatus(membership.StatusCanceled)
			case 6: // a cancellation is scheduled, or withdrawn
				if sys.billing.Status != membership.StatusActive {
					continue
				}
				if periodEnd.IsZero() {
					periodEnd = now.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour)
					mod.intervals[mod.paying].until = periodEnd
				} else {
					periodEnd = time.Time{}
					mod.intervals[mod.paying].until = time.Time{}
				}
				sys.billing.CancelAtPeriodEnd, sys.billing.CurrentPeriodEnd = !periodEnd.IsZero(), periodEnd
				setStatus(membership.StatusActive)
			case 7: // an admin grants a scholarship, or a manual grant
				from := now.Add(time.Duration(rng.IntN(5*24)-2*24) * time.Hour)
				until := from.Add(time.Duration(1+rng.IntN(30*24)) * time.Hour)
				src := ledger.SourceComplimentary
				if rng.IntN(3) == 0 {
					src = ledger.SourceManual
					if rng.IntN(2) == 0 {
						until = time.Time{}
					}
				}
				g, err := ledger.NewGrant(src, "p1", "community", from, until, "admin", "because")
				if err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				sys.nextID++
				g.ID = fmt.Sprintf("h%03d", sys.nextID)
				sys.grants = append(sys.grants, g)
				mod.intervals = append(mod.intervals, interval{source: src, from: from, until: until})
				hand, handIDs = append(hand, len(mod.intervals)-1), append(handIDs, g.ID)
			case 8: // an admin revokes one of them
				if len(hand) == 0 {
					continue
				}
				k := rng.IntN(len(hand))
				i := slices.IndexFunc(sys.grants, func(g ledger.Grant) bool { return g.ID == handIDs[k] })
				r, err := sys.grants[i].Revoke(now, "admin", "revoked")
				iv := &mod.intervals[hand[k]]
				ended := !iv.until.IsZero() && !now.Before(iv.until)
				if ended != (err != nil) {
					t.Fatalf("seed %d step %d: revoke err %v, model says ended %v", seed, step, err, ended)
				}
				if err == nil {
					sys.grants[i] = r
					iv.until = now
					if iv.from.After(now) {
						iv.until = iv.from
					}
				}
			}
			checkAt(t, seed, sys.grants, mod.intervals, now)
		}
		for range 30 {
			checkAt(t, seed, sys.grants, mod.intervals, t0.Add(time.Duration(rng.Int64N(int64(now.Sub(t0))+int64(60*24*time.Hour)))))
		}
	}
}

func checkAt(t *testing.T, seed uint64, grants []ledger.Grant, ivs []interval, at time.Time) {
	t.Helper()
	want := map[ledger.Source]int{}
	for _, iv := range ivs {
		if iv.covers(at) {
			want[iv.source]++
		}
	}
	a := ledger.Explain(grants, at)
	got := map[ledger.Source]int{}
	for _, g := range a.Sources {
		if !g.CurrentAt(at) {
			t.Fatalf("seed %d at %s: explanation names a grant that is not current: %+v", seed, at, g)
		}
		got[g.Source]++
	}
	if a.Active != (len(want) > 0) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("seed %d at %s: access %v with sources %v; the model says %v\ngrants: %+v", seed, at, a.Active, got, want, grants)
	}
	if a.Active && !a.Until.IsZero() {
		// Access holds until Until and not at Until, unless a grant starts there.
		if !ledger.Explain(grants, a.Until.Add(-time.Nanosecond)).Active {
			t.Fatalf("seed %d at %s: access lapses before its stated end %s", seed, at, a.Until)
		}
		if ledger.Explain(grants, a.Until).Active {
			t.Fatalf("seed %d at %s: access continues past its stated end %s", seed, at, a.Until)
		}
	}
}

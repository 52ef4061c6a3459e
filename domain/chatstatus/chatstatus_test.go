package chatstatus_test

import (
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/womendefiningai/platform/domain/chatstatus"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// TestAllowed holds every pair of statuses, the start (New) included: the
// six steps of the diagram are allowed, every other one is forbidden.
func TestAllowed(t *testing.T) {
	t.Parallel()
	all := append([]chatstatus.Status{chatstatus.New}, chatstatus.Statuses()...)
	allowed := map[[2]chatstatus.Status]bool{
		{chatstatus.New, chatstatus.NotFound}:       true,
		{chatstatus.New, chatstatus.Active}:         true,
		{chatstatus.NotFound, chatstatus.Active}:    true,
		{chatstatus.Active, chatstatus.Inactive}:    true,
		{chatstatus.Inactive, chatstatus.Active}:    true,
		{chatstatus.Active, chatstatus.Deactivated}: true,
	}
	n := 0
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]chatstatus.Status{from, to}]
			if got := chatstatus.Allowed(from, to); got != want {
				t.Errorf("Allowed(%q, %q) = %v, want %v", from, to, got, want)
			}
			n++
		}
	}
	if n != 25 {
		t.Fatalf("checked %d pairs, want 25", n)
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, st := range chatstatus.Statuses() {
		got, err := chatstatus.ParseStatus(string(st))
		if err != nil || got != st {
			t.Errorf("ParseStatus(%q) = %q, %v", st, got, err)
		}
	}
	for _, bad := range []string{"", "Active", "deleted", "restricted"} {
		if _, err := chatstatus.ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q) accepted", bad)
		}
	}
}

func TestFromStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, status, user string
		ok                 bool
	}{
		{"never synced", "", "", true},
		{"never synced with a user", "", "U1", false},
		{"not found", "not_found", "", true},
		{"active", "active", "U1", true},
		{"active without a user", "active", "", false},
		{"inactive without a user", "inactive", "", false},
		{"deactivated", "deactivated", "U1", true},
		{"unknown", "gone", "U1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := chatstatus.FromStore(tc.status, tc.user, t0)
			if (err == nil) != tc.ok {
				t.Fatalf("FromStore(%q, %q) error = %v, want ok %v", tc.status, tc.user, err, tc.ok)
			}
			if err == nil && (string(l.Status()) != tc.status || l.UserID() != tc.user) {
				t.Errorf("FromStore = %q %q", l.Status(), l.UserID())
			}
		})
	}
}

func sight(a chatstatus.Account) chatstatus.Sighting {
	if a == chatstatus.AccountMissing {
		return chatstatus.Sighting{Account: a}
	}
	return chatstatus.Sighting{Account: a, UserID: "U1"}
}

// TestObserve covers every (stored status, shown account) pair: the steps it
// takes, or the refusal that leaves the link as it was.
func TestObserve(t *testing.T) {
	t.Parallel()
	const (
		n  = chatstatus.New
		nf = chatstatus.NotFound
		a  = chatstatus.Active
		i  = chatstatus.Inactive
		d  = chatstatus.Deactivated
	)
	tests := []struct {
		from    chatstatus.Status
		account chatstatus.Account
		path    []chatstatus.Status // nil with forbidden: refused; empty: stays
		refused bool
	}{
		{n, chatstatus.AccountMissing, []chatstatus.Status{nf}, false},
		{n, chatstatus.AccountActive, []chatstatus.Status{a}, false},
		{n, chatstatus.AccountRestricted, []chatstatus.Status{a, i}, false},
		{n, chatstatus.AccountDeleted, []chatstatus.Status{a, d}, false},
		{nf, chatstatus.AccountMissing, []chatstatus.Status{}, false},
		{nf, chatstatus.AccountActive, []chatstatus.Status{a}, false},
		{nf, chatstatus.AccountRestricted, []chatstatus.Status{a, i}, false},
		{nf, chatstatus.AccountDeleted, []chatstatus.Status{a, d}, false},
		{a, chatstatus.AccountMissing, nil, true},
		{a, chatstatus.AccountActive, []chatstatus.Status{}, false},
		{a, chatstatus.AccountRestricted, []chatstatus.Status{i}, false},
		{a, chatstatus.AccountDeleted, []chatstatus.Status{d}, false},
		{i, chatstatus.AccountMissing, nil, true},
		{i, chatstatus.AccountActive, []chatstatus.Status{a}, false},
		{i, chatstatus.AccountRestricted, []chatstatus.Status{}, false},
		{i, chatstatus.AccountDeleted, []chatstatus.Status{a, d}, false},
		{d, chatstatus.AccountMissing, nil, true},
		{d, chatstatus.AccountActive, nil, true},
		{d, chatstatus.AccountRestricted, nil, true},
		{d, chatstatus.AccountDeleted, []chatstatus.Status{}, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.from)+"→"+string(tc.account), func(t *testing.T) {
			t.Parallel()
			user := "U1"
			if tc.from == n || tc.from == nf {
				user = ""
			}
			l, err := chatstatus.FromStore(string(tc.from), user, t0)
			if err != nil {
				t.Fatal(err)
			}
			changes, err := l.Observe(sight(tc.account), t0.Add(time.Hour))
			if tc.refused {
				var te chatstatus.TransitionError
				if !errors.As(err, &te) || !errors.Is(err, chatstatus.ErrForbidden) || te.From != tc.from {
					t.Fatalf("Observe error = %v, want a TransitionError from %q", err, tc.from)
				}
				if l.Status() != tc.from || !l.SyncedAt().Equal(t0) || changes != nil {
					t.Errorf("refused observe changed the link: %q %v %v", l.Status(), l.SyncedAt(), changes)
				}
				return
			}
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if len(changes) != len(tc.path) {
				t.Fatalf("changes = %v, want path %v", changes, tc.path)
			}
			prev := tc.from
			for k, c := range changes {
				if c.From != prev || c.To != tc.path[k] || !chatstatus.Allowed(c.From, c.To) {
					t.Errorf("change %d = %+v, want %q → %q, an allowed step", k, c, prev, tc.path[k])
				}
				prev = c.To
			}
			want, _ := tc.account.Status()
			if l.Status() != want || !l.SyncedAt().Equal(t0.Add(time.Hour)) {
				t.Errorf("link = %q at %v, want %q at the sync time", l.Status(), l.SyncedAt(), want)
			}
		})
	}
}

func TestObserveKeepsDeactivatedUser(t *testing.T) {
	t.Parallel()
	l, _ := chatstatus.FromStore("deactivated", "U1", t0)
	if _, err := l.Observe(chatstatus.Sighting{Account: chatstatus.AccountDeleted, UserID: "U2"}, t0); err != nil {
		t.Fatal(err)
	}
	if l.UserID() != "U1" {
		t.Errorf("user id = %q, want U1 kept", l.UserID())
	}
	a, _ := chatstatus.FromStore("active", "U1", t0)
	if _, err := a.Observe(chatstatus.Sighting{Account: chatstatus.AccountActive, UserID: "U2"}, t0); err != nil || a.UserID() != "U2" {
		t.Errorf("active relinked = %q, %v; want U2", a.UserID(), err)
	}
}

func TestObserveRefusesBadSightings(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]chatstatus.Sighting{
		"missing with a user": {Account: chatstatus.AccountMissing, UserID: "U1"},
		"active without user": {Account: chatstatus.AccountActive},
		"unknown account":     {Account: "guest", UserID: "U1"},
	} {
		var l chatstatus.Link
		if _, err := l.Observe(s, t0); err == nil || l.Status() != chatstatus.New {
			t.Errorf("%s: Observe = %v, status %q; want an error and no change", name, err, l.Status())
		}
	}
}

// TestObserveProperty: whatever accounts a sync sees, in any order, every
// reported change is one allowed step continuing from the last, a
// deactivated link never changes again, and a link that was never refused
// shows the last sighting's status.
func TestObserveProperty(t *testing.T) {
	t.Parallel()
	accounts := []chatstatus.Account{chatstatus.AccountMissing, chatstatus.AccountActive, chatstatus.AccountRestricted, chatstatus.AccountDeleted}
	rapid.Check(t, func(rt *rapid.T) {
		seq := rapid.SliceOfN(rapid.SampledFrom(accounts), 1, 30).Draw(rt, "accounts")
		var l chatstatus.Link
		at := t0
		for _, acc := range seq {
			before := l.Status()
			at = at.Add(12 * time.Hour)
			changes, err := l.Observe(sight(acc), at)
			if err != nil {
				if !errors.Is(err, chatstatus.ErrForbidden) || l.Status() != before {
					rt.Fatalf("refusal %v changed %q to %q", err, before, l.Status())
				}
				continue
			}
			prev := before
			for _, c := range changes {
				if c.From != prev || !chatstatus.Allowed(c.From, c.To) {
					rt.Fatalf("change %+v does not continue from %q by an allowed step", c, prev)
				}
				prev = c.To
			}
			if before == chatstatus.Deactivated && l.Status() != chatstatus.Deactivated {
				rt.Fatalf("deactivated became %q", l.Status())
			}
			if want, _ := acc.Status(); l.Status() != want {
				rt.Fatalf("after %s status = %q, want %q", acc, l.Status(), want)
			}
		}
	})
}

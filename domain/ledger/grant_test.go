package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func comp(t *testing.T, from, until time.Time) ledger.Grant {
	t.Helper()
	g, err := ledger.NewGrant(ledger.SourceComplimentary, "p1", "community", from, until, "admin-1", "scholarship 2026")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCurrentAtIsHalfOpen(t *testing.T) {
	g := comp(t, day(0), day(10))
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{day(0).Add(-time.Nanosecond), false}, {day(0), true}, {day(5), true},
		{day(10).Add(-time.Nanosecond), true}, {day(10), false}, {day(11), false},
	} {
		if got := g.CurrentAt(c.at); got != c.want {
			t.Errorf("CurrentAt(%s) = %v, want %v", c.at, got, c.want)
		}
	}
	open := ledger.Grant{Source: ledger.SourceManual, From: day(0)}
	if !open.CurrentAt(day(10000)) {
		t.Error("an open grant ended")
	}
}

func TestNewGrantRefusesBadInput(t *testing.T) {
	long := strings.Repeat("x", ledger.MaxReason+1)
	for name, c := range map[string]struct {
		src                ledger.Source
		person, by, reason string
		from, until        time.Time
	}{
		"subscription by hand":      {ledger.SourceSubscription, "p1", "a", "r", day(0), day(1)},
		"grace by hand":             {ledger.SourceGrace, "p1", "a", "r", day(0), day(1)},
		"unknown source":            {0, "p1", "a", "r", day(0), day(1)},
		"no person":                 {ledger.SourceComplimentary, " ", "a", "r", day(0), day(1)},
		"no actor":                  {ledger.SourceComplimentary, "p1", "", "r", day(0), day(1)},
		"no reason":                 {ledger.SourceComplimentary, "p1", "a", "  ", day(0), day(1)},
		"reason too long":           {ledger.SourceComplimentary, "p1", "a", long, day(0), day(1)},
		"invalid UTF-8":             {ledger.SourceComplimentary, "p1", "a", "\xff", day(0), day(1)},
		"a terminal escape":         {ledger.SourceComplimentary, "p1", "a", "evil\x1b[31mRED", day(0), day(1)},
		"a newline":                 {ledger.SourceComplimentary, "p1", "a", "line\nbreak", day(0), day(1)},
		"a bidirectional override":  {ledger.SourceComplimentary, "p1", "a", "abc\u202edef", day(0), day(1)},
		"no start":                  {ledger.SourceComplimentary, "p1", "a", "r", time.Time{}, day(1)},
		"complimentary without end": {ledger.SourceComplimentary, "p1", "a", "r", day(0), time.Time{}},
		"ends before it starts":     {ledger.SourceManual, "p1", "a", "r", day(2), day(1)},
		"ends when it starts":       {ledger.SourceManual, "p1", "a", "r", day(1), day(1)},
	} {
		if _, err := ledger.NewGrant(c.src, c.person, "", c.from, c.until, c.by, c.reason); !errors.Is(err, ledger.ErrInvalidGrant) {
			t.Errorf("%s: err = %v, want ErrInvalidGrant", name, err)
		}
	}
	if _, err := ledger.NewGrant(ledger.SourceManual, "p1", "", day(0), time.Time{}, "a", "r"); err != nil {
		t.Errorf("an open manual grant: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	g := comp(t, day(0), day(10))
	r, err := g.Revoke(day(3), "admin-2", "left the programme")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Until.Equal(day(3)) || r.RevokedBy != "admin-2" || r.RevokeReason != "left the programme" || !r.RevokedAt.Equal(day(3)) {
		t.Fatalf("revoked = %+v", r)
	}
	if r.CurrentAt(day(3)) || !r.CurrentAt(day(2)) {
		t.Error("revocation did not end the grant at its time")
	}
	if _, err := r.Revoke(day(4), "a", "again"); !errors.Is(err, ledger.ErrEnded) {
		t.Errorf("revoking twice: %v, want ErrEnded", err)
	}
	if _, err := g.Revoke(day(10), "a", "too late"); !errors.Is(err, ledger.ErrEnded) {
		t.Errorf("revoking an expired grant: %v, want ErrEnded", err)
	}
	future := comp(t, day(5), day(10))
	fr, err := future.Revoke(day(1), "a", "never mind")
	if err != nil || !fr.Until.Equal(day(5)) || fr.CurrentAt(day(5)) {
		t.Errorf("revoking a future grant = %+v, %v; want an empty window at its start", fr, err)
	}
	if _, err := g.Revoke(day(1), "a", ""); !errors.Is(err, ledger.ErrInvalidGrant) {
		t.Errorf("revoking without a reason: %v", err)
	}
}

func TestExplain(t *testing.T) {
	a := comp(t, day(0), day(10))
	a.ID = "a"
	b := comp(t, day(8), day(20)) // overlaps a
	b.ID = "b"
	c := comp(t, day(20), day(25)) // touches b
	c.ID = "c"
	d := comp(t, day(30), day(40)) // after a gap
	d.ID = "d"
	open := ledger.Grant{ID: "o", Source: ledger.SourceManual, From: day(50)}
	grants := []ledger.Grant{d, c, b, a, open}
	for _, tc := range []struct {
		at      time.Time
		active  bool
		until   time.Time
		sources []string
	}{
		{day(-1), false, time.Time{}, nil},
		{day(1), true, day(25), []string{"a"}},
		{day(9), true, day(25), []string{"a", "b"}},
		{day(22), true, day(25), []string{"c"}},
		{day(26), false, time.Time{}, nil},
		{day(35), true, day(40), []string{"d"}},
		{day(60), true, time.Time{}, []string{"o"}},
	} {
		got := ledger.Explain(grants, tc.at)
		var ids []string
		for _, g := range got.Sources {
			ids = append(ids, g.ID)
		}
		if got.Active != tc.active || !got.Until.Equal(tc.until) || strings.Join(ids, ",") != strings.Join(tc.sources, ",") {
			t.Errorf("at %s: %+v (sources %v), want active %v until %s sources %v", tc.at, got, ids, tc.active, tc.until, tc.sources)
		}
	}
}

func TestPlanTable(t *testing.T) {
	const grace = 7 * 24 * time.Hour
	active := ledger.Billing{Status: membership.StatusActive, Tier: "community"}
	subOpen := ledger.Grant{ID: "s", PersonID: "p1", Source: ledger.SourceSubscription, Tier: "community", From: day(0), GrantedBy: ledger.BillingActor}
	graceOpen := ledger.Grant{ID: "g", PersonID: "p1", Source: ledger.SourceGrace, From: day(1), Until: day(8), GrantedBy: ledger.BillingActor}
	for _, tc := range []struct {
		name   string
		grants []ledger.Grant
		b      ledger.Billing
		want   string // kinds and sources of the changes
	}{
		{"first payment opens a subscription grant", nil, active, "opened subscription"},
		{"paid again changes nothing", []ledger.Grant{subOpen}, active, ""},
		{"a failed payment closes it and opens grace", []ledger.Grant{subOpen}, ledger.Billing{Status: membership.StatusPastDue}, "closed subscription,opened grace"},
		{"a pause while paid up ends access, no grace", []ledger.Grant{subOpen}, ledger.Billing{Status: membership.StatusSuspended}, "closed subscription"},
		{"the provider giving up leaves grace to run out", []ledger.Grant{graceOpen}, ledger.Billing{Status: membership.StatusSuspended}, ""},
		{"a second failure does not extend grace", []ledger.Grant{graceOpen}, ledger.Billing{Status: membership.StatusPastDue}, ""},
		{"recovery closes grace and reopens", []ledger.Grant{graceOpen}, active, "opened subscription,closed grace"},
		{"cancellation closes the subscription", []ledger.Grant{subOpen}, ledger.Billing{Status: membership.StatusCanceled}, "closed subscription"},
		{"cancellation leaves grace to run out", []ledger.Grant{graceOpen}, ledger.Billing{Status: membership.StatusCanceled}, ""},
		{"a scheduled cancellation moves the end", []ledger.Grant{subOpen}, ledger.Billing{Status: membership.StatusActive, Tier: "community", CancelAtPeriodEnd: true, CurrentPeriodEnd: day(30)}, "updated subscription"},
		{"a new tier updates the grant", []ledger.Grant{subOpen}, ledger.Billing{Status: membership.StatusActive, Tier: "leader"}, "updated subscription"},
		{"never paid, past_due: no grace", nil, ledger.Billing{Status: membership.StatusPastDue}, ""},
		{"no membership", []ledger.Grant{subOpen}, ledger.Billing{}, "closed subscription"},
	} {
		now := day(2)
		changes := ledger.Plan("p1", tc.grants, tc.b, now, grace)
		var got []string
		for _, c := range changes {
			got = append(got, c.Kind.String()+" "+c.Grant.Source.String())
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: changes %v, want %q", tc.name, got, tc.want)
		}
		for _, c := range changes {
			if c.Kind == ledger.Opened && c.Grant.Source == ledger.SourceGrace && !c.Grant.Until.Equal(now.Add(grace)) {
				t.Errorf("%s: grace until %s, want %s", tc.name, c.Grant.Until, now.Add(grace))
			}
			if c.Kind == ledger.Closed && (!c.Grant.Until.Equal(now) || c.Grant.RevokeReason == "") {
				t.Errorf("%s: closed grant %+v, want ended now with a reason", tc.name, c.Grant)
			}
		}
	}
}

func TestNextChange(t *testing.T) {
	grants := []ledger.Grant{comp(t, day(0), day(10)), comp(t, day(5), day(7)), {Source: ledger.SourceManual, From: day(20)}}
	for _, c := range []struct {
		now  time.Time
		want time.Time
		ok   bool
	}{
		{day(-1), day(0), true}, {day(0), day(5), true}, {day(6), day(7), true},
		{day(7), day(10), true}, {day(10), day(20), true}, {day(20), time.Time{}, false},
	} {
		got, ok := ledger.NextChange(grants, c.now)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("NextChange at %s = %s, %v; want %s, %v", c.now, got, ok, c.want, c.ok)
		}
	}
}

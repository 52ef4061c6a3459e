package membership_test

import (
	"errors"
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/membership"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, want := range []membership.Status{
		membership.StatusPending, membership.StatusActive, membership.StatusPastDue, membership.StatusCanceled,
	} {
		got, err := membership.ParseStatus(want.String())
		if err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", want.String(), got, err, want)
		}
	}
	for _, bad := range []string{"", "Active", "trialing", "unknown"} {
		if _, err := membership.ParseStatus(bad); !errors.Is(err, membership.ErrUnknownStatus) {
			t.Errorf("ParseStatus(%q) error = %v, want ErrUnknownStatus", bad, err)
		}
	}
	if got := membership.Status(0).String(); got != "Status(0)" {
		t.Errorf("invalid status prints as %q", got)
	}
}

func TestStatusIsMember(t *testing.T) {
	t.Parallel()
	tests := map[membership.Status]bool{
		membership.StatusPending:  false,
		membership.StatusActive:   true,
		membership.StatusPastDue:  true,
		membership.StatusCanceled: false,
		membership.Status(0):      false,
	}
	for st, want := range tests {
		if got := st.IsMember(); got != want {
			t.Errorf("%s.IsMember() = %t, want %t", st, got, want)
		}
	}
}

func TestProviderStatusMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		provider string
		want     membership.Status
	}{
		{"incomplete", membership.StatusPending},
		{"incomplete_expired", membership.StatusCanceled},
		{"trialing", membership.StatusActive},
		{"active", membership.StatusActive},
		{"past_due", membership.StatusPastDue},
		{"canceled", membership.StatusCanceled},
		{"unpaid", membership.StatusSuspended},
		{"paused", membership.StatusSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			t.Parallel()
			p, err := membership.ParseProviderStatus(tt.provider)
			if err != nil {
				t.Fatalf("ParseProviderStatus: %v", err)
			}
			if p.String() != tt.provider {
				t.Errorf("String() = %q, want %q", p.String(), tt.provider)
			}
			if got := p.Status(); got != tt.want {
				t.Errorf("maps to %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := membership.ParseProviderStatus("cancelled"); !errors.Is(err, membership.ErrUnknownStatus) {
		t.Errorf("ParseProviderStatus(cancelled) error = %v, want ErrUnknownStatus", err)
	}
	invalid := membership.ProviderStatus(0)
	if invalid.String() != "ProviderStatus(0)" || invalid.Status() != membership.Status(0) {
		t.Errorf("invalid provider status prints %q and maps to %v", invalid.String(), invalid.Status())
	}
}

func TestTier(t *testing.T) {
	t.Parallel()
	got, err := membership.NewTier("  premium ")
	if err != nil || got.String() != "premium" || got.IsZero() || got.IsUnknown() {
		t.Errorf("NewTier(premium) = %q, %v (zero %t, unknown %t)", got, err, got.IsZero(), got.IsUnknown())
	}
	for _, blank := range []string{"", " \t"} {
		if _, err := membership.NewTier(blank); !errors.Is(err, membership.ErrInvalidTier) {
			t.Errorf("NewTier(%q) error = %v, want ErrInvalidTier", blank, err)
		}
	}
	unknown := membership.UnknownTier()
	if !unknown.IsUnknown() || unknown.String() != "unknown" || unknown != tier("unknown") {
		t.Errorf("UnknownTier() = %q", unknown)
	}
	if !(membership.Tier{}).IsZero() {
		t.Error("zero Tier is not IsZero")
	}
}

func TestNewSnapshot(t *testing.T) {
	t.Parallel()
	p := sp(" sub_a ", membership.ProviderPastDue, 5, cancelAtEnd, attempt(2))
	s, err := membership.NewSnapshot(p)
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	if s.SubscriptionID() != "sub_a" || s.Status() != membership.ProviderPastDue || s.Tier() != tier("standard") ||
		!s.CancelAtPeriodEnd() || !s.CurrentPeriodEnd().Equal(at(720)) || !s.TakenAt().Equal(at(5)) || s.PaymentAttempt() != 2 {
		t.Errorf("snapshot does not carry its params: %+v", s)
	}
}

func TestNewSnapshotRefusesInvalidParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*membership.SnapshotParams)
	}{
		{"blank subscription id", func(p *membership.SnapshotParams) { p.SubscriptionID = "  " }},
		{"invalid provider status", func(p *membership.SnapshotParams) { p.Status = 0 }},
		{"missing tier", func(p *membership.SnapshotParams) { p.Tier = membership.Tier{} }},
		{"missing time taken", func(p *membership.SnapshotParams) { p.TakenAt = time.Time{} }},
		{"cancellation without a period end", func(p *membership.SnapshotParams) {
			p.CancelAtPeriodEnd = true
			p.CurrentPeriodEnd = time.Time{}
		}},
		{"negative payment attempt", attempt(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := sp(subA, membership.ProviderActive, 1)
			tt.mod(&p)
			if _, err := membership.NewSnapshot(p); !errors.Is(err, membership.ErrInvalidSnapshot) {
				t.Errorf("error = %v, want ErrInvalidSnapshot", err)
			}
		})
	}
}

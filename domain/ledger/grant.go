package ledger

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/womendefiningai/platform/domain/usertext"
)

// Source is why a grant exists. The zero Source is invalid.
type Source uint8

// The sources of access.
const (
	SourceSubscription  Source = iota + 1 // a paid subscription
	SourceGrace                           // the grace window after a failed payment
	SourceComplimentary                   // a complimentary membership (a scholarship)
	SourceManual                          // an operator's manual grant
)

// Sources lists every source, in declaration order.
func Sources() []Source {
	return []Source{SourceSubscription, SourceGrace, SourceComplimentary, SourceManual}
}

// ErrUnknownSource is wrapped by ParseSource's errors.
var ErrUnknownSource = errors.New("ledger: unknown source")

// ParseSource returns the source named s: "subscription", "grace",
// "complimentary" or "manual".
func ParseSource(s string) (Source, error) {
	for _, src := range Sources() {
		if src.String() == s {
			return src, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownSource, s)
}

// String returns the source's name.
func (s Source) String() string {
	switch s {
	case SourceSubscription:
		return "subscription"
	case SourceGrace:
		return "grace"
	case SourceComplimentary:
		return "complimentary"
	case SourceManual:
		return "manual"
	default:
		return fmt.Sprintf("Source(%d)", uint8(s))
	}
}

// Grant is one grant of access: a row of the ledger. Stores keep every
// field; ID is the store's and is empty until the grant is stored.
type Grant struct {
	ID       string
	PersonID string
	Source   Source
	// Tier is the membership tier the grant gives, empty when none.
	Tier string
	// From and Until bound the window [From, Until); a zero Until is open.
	From, Until time.Time
	// GrantedBy names who or what granted it: a person's id, or the
	// platform ("billing") for subscription and grace grants.
	GrantedBy string
	Reason    string
	// RevokedAt, RevokedBy and RevokeReason are set when someone ended the
	// grant before its time (Revoke).
	RevokedAt    time.Time
	RevokedBy    string
	RevokeReason string
}

// CurrentAt reports whether the grant gives access at t: From ≤ t, and t is
// before Until or Until is open.
func (g Grant) CurrentAt(t time.Time) bool {
	return !t.Before(g.From) && (g.Until.IsZero() || t.Before(g.Until))
}

// openAt reports whether the grant is current at t or starts later: it has
// not ended by t.
func (g Grant) openAt(t time.Time) bool { return g.Until.IsZero() || t.Before(g.Until) }

// Limits on what an admin may write into a grant.
const (
	MaxReason = 500 // characters
	MaxTier   = 100
	MaxActor  = 200
)

// Errors of NewGrant and Revoke.
var (
	ErrInvalidGrant = errors.New("ledger: invalid grant")
	ErrEnded        = errors.New("ledger: the grant has already ended")
)

// NewGrant returns a complimentary or manual grant for person personID,
// for the window [from, until), by grantedBy, for reason. A complimentary
// grant must end (until after from); a manual one may be open (zero until).
// Subscription and grace grants are made by Plan only.
func NewGrant(source Source, personID, tier string, from, until time.Time, grantedBy, reason string) (Grant, error) {
	g := Grant{
		PersonID: strings.TrimSpace(personID), Source: source, Tier: strings.TrimSpace(tier),
		From: from, Until: until, GrantedBy: strings.TrimSpace(grantedBy), Reason: strings.TrimSpace(reason),
	}
	switch {
	case source != SourceComplimentary && source != SourceManual:
		return Grant{}, fmt.Errorf("%w: only complimentary and manual grants are made by hand, not %s", ErrInvalidGrant, source)
	case g.PersonID == "":
		return Grant{}, fmt.Errorf("%w: no person", ErrInvalidGrant)
	case from.IsZero():
		return Grant{}, fmt.Errorf("%w: no start", ErrInvalidGrant)
	case source == SourceComplimentary && until.IsZero():
		return Grant{}, fmt.Errorf("%w: a complimentary membership needs an end", ErrInvalidGrant)
	case !until.IsZero() && !until.After(from):
		return Grant{}, fmt.Errorf("%w: it must end after it starts", ErrInvalidGrant)
	}
	if err := checkText(g.Tier, g.GrantedBy, g.Reason); err != nil {
		return Grant{}, err
	}
	return g, nil
}

// checkText checks the free text of a grant or a revocation.
func checkText(tier, actor, reason string) error {
	switch {
	case actor == "":
		return fmt.Errorf("%w: who grants or revokes it is unknown", ErrInvalidGrant)
	case reason == "":
		return fmt.Errorf("%w: a reason is required", ErrInvalidGrant)
	}
	for _, f := range []struct {
		what, text string
		max        int
	}{{"the reason", reason, MaxReason}, {"the tier", tier, MaxTier}, {"who", actor, MaxActor}} {
		if err := usertext.Check(f.text, f.max); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidGrant, f.what, err)
		}
	}
	return nil
}

// Revoke ends the grant at now (or at its start, if it has not started),
// by revokedBy, for reason. A grant that has already ended returns ErrEnded.
// Revoking one grant never touches another.
func (g Grant) Revoke(now time.Time, revokedBy, reason string) (Grant, error) {
	revokedBy, reason = strings.TrimSpace(revokedBy), strings.TrimSpace(reason)
	if !g.openAt(now) {
		return Grant{}, ErrEnded
	}
	if err := checkText("", revokedBy, reason); err != nil {
		return Grant{}, err
	}
	return g.endedAt(now, revokedBy, reason), nil
}

// endedAt is g ended at now (at its start if it has not started) by by,
// for reason.
func (g Grant) endedAt(now time.Time, by, reason string) Grant {
	g.Until = now
	if g.From.After(now) {
		g.Until = g.From
	}
	g.RevokedAt, g.RevokedBy, g.RevokeReason = now, by, reason
	return g
}

// Access is a person's access at an instant, with its explanation.
type Access struct {
	// Active reports whether some grant is current.
	Active bool
	// Until is when access ends if nothing changes: the end of the unbroken
	// run of grants covering the instant. Zero when access is open-ended,
	// or not active.
	Until time.Time
	// Sources are the current grants, oldest first.
	Sources []Grant
}

// Explain returns the access that grants give at now.
func Explain(grants []Grant, now time.Time) Access {
	var a Access
	for _, g := range grants {
		if g.CurrentAt(now) {
			a.Sources = append(a.Sources, g)
		}
	}
	if len(a.Sources) == 0 {
		return Access{}
	}
	slices.SortFunc(a.Sources, func(x, y Grant) int {
		if c := x.From.Compare(y.From); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	a.Active = true
	a.Until = coveredUntil(grants, now)
	return a
}

// coveredUntil follows the grants that overlap or touch one another from
// now, and returns where the run ends; zero when one of them is open.
func coveredUntil(grants []Grant, now time.Time) time.Time {
	end := now
	for {
		extended := false
		for _, g := range grants {
			if g.From.After(end) || !g.openAt(end) {
				continue
			}
			if g.Until.IsZero() {
				return time.Time{}
			}
			end, extended = g.Until, true
		}
		if !extended {
			return end
		}
	}
}

// Has reports whether a current source of the access is src.
func (a Access) Has(src Source) bool {
	return slices.ContainsFunc(a.Sources, func(g Grant) bool { return g.Source == src })
}

// NextChange returns the first instant after now at which a grant starts
// or ends, when access may change; false when none lies ahead.
func NextChange(grants []Grant, now time.Time) (time.Time, bool) {
	var next time.Time
	for _, g := range grants {
		for _, t := range []time.Time{g.From, g.Until} {
			if !t.IsZero() && t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next, !next.IsZero()
}

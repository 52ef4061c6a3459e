package membership

import (
	"errors"
	"strings"
)

// ErrInvalidTier is returned by NewTier for a blank name.
var ErrInvalidTier = errors.New("membership: tier name is empty")

// Tier is the membership level a subscription's price buys. It is a
// validated name; the zero Tier means "no tier yet" (a membership with no
// subscription).
type Tier struct {
	name string
}

const unknownTierName = "unknown"

// NewTier returns the tier named name, without surrounding spaces. The name
// must not be blank.
func NewTier(name string) (Tier, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Tier{}, ErrInvalidTier
	}
	return Tier{name: name}, nil
}

// UnknownTier returns the tier "unknown", which the billing adapter uses when
// a price maps to no known tier. It is a valid tier: the member keeps their
// standing while an operator fixes the price table.
func UnknownTier() Tier { return Tier{name: unknownTierName} }

// String returns the tier's name; empty for the zero Tier.
func (t Tier) String() string { return t.name }

// IsZero reports whether this is the zero Tier.
func (t Tier) IsZero() bool { return t.name == "" }

// IsUnknown reports whether this is UnknownTier.
func (t Tier) IsUnknown() bool { return t.name == unknownTierName }

package membership

import (
	"fmt"
	"strings"
)

// Record is everything a store must keep to rebuild a Membership exactly.
// Status, tier, cancellation flag, period end, attempt count and alumni are
// derived from it; FromStore recomputes them and does not read them back.
// A store also keeps them, as the membership's Summary, at every save, for
// queries and for reads that need only the summary (the sign-in): a change
// to how they are derived must therefore come with a migration that saves
// every membership again.
type Record struct {
	PersonID      string
	Visible       bool                // Membership.Visible
	EverActive    bool                // Membership.EverActive
	Subscriptions []SubscriptionState // Membership.Subscriptions, in any order
}

// FromStore rebuilds a membership from a stored record. Only stores call
// this; everyone else gets a Membership from New or from a store.
//
// It refuses, with an error wrapping ErrInvalidRecord, a record that no
// sequence of transitions can produce: a blank or padded person id, an invalid or
// repeated subscription, or a current membership never marked active.
func FromStore(r Record) (*Membership, error) {
	if r.PersonID == "" || strings.TrimSpace(r.PersonID) != r.PersonID {
		return nil, fmt.Errorf("%w: person id %q is empty or padded", ErrInvalidRecord, r.PersonID)
	}
	m := &Membership{
		personID:      r.PersonID,
		subscriptions: make(map[string]SubscriptionState, len(r.Subscriptions)),
		visible:       r.Visible,
		everActive:    r.EverActive,
	}
	for _, s := range r.Subscriptions {
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%w: person %s: %w", ErrInvalidRecord, r.PersonID, err)
		}
		if _, dup := m.subscriptions[s.ID]; dup {
			return nil, fmt.Errorf("%w: person %s: subscription %s appears twice", ErrInvalidRecord, r.PersonID, s.ID)
		}
		m.subscriptions[s.ID] = s
	}
	m.standing = derive(m.subscriptions)
	if m.standing.status.IsMember() && !m.everActive {
		return nil, fmt.Errorf("%w: person %s: %s but never active", ErrInvalidRecord, r.PersonID, m.standing.status)
	}
	return m, nil
}

package access

import (
	"errors"
	"fmt"
	"strings"
)

// Scope is a permission to read or change one kind of data. The set is
// closed: ParseScope is the only way to turn text into a Scope.
type Scope uint8

// The scopes, in a stable order (AllScopes returns them in this order).
const (
	ScopeMembersRead    Scope = iota + 1 // members:read — directory data (name, status, tier)
	ScopeMembersReadPII                  // members:read:pii — email addresses and external account ids
	ScopeMembersWrite                    // members:write — change people and memberships
	ScopeBillingRead                     // billing:read — subscriptions and payment state
	ScopeEventsRead                      // events:read — events and RSVPs
	ScopeEventsWrite                     // events:write — create events, decide RSVPs
	ScopeAuditRead                       // audit:read — the audit log
	ScopeOpsRead                         // ops:read — jobs, inbox, dead letters, health
	ScopeOpsWrite                        // ops:write — run jobs, replay or abandon messages
)

// ErrUnknownScope is wrapped by the error ParseScope returns for text that
// names no scope.
var ErrUnknownScope = errors.New("access: unknown scope")

var scopeNames = [...]string{
	ScopeMembersRead:    "members:read",
	ScopeMembersReadPII: "members:read:pii",
	ScopeMembersWrite:   "members:write",
	ScopeBillingRead:    "billing:read",
	ScopeEventsRead:     "events:read",
	ScopeEventsWrite:    "events:write",
	ScopeAuditRead:      "audit:read",
	ScopeOpsRead:        "ops:read",
	ScopeOpsWrite:       "ops:write",
}

// AllScopes returns every scope, in declaration order.
func AllScopes() []Scope {
	all := make([]Scope, 0, len(scopeNames)-1)
	for s := ScopeMembersRead; s <= ScopeOpsWrite; s++ {
		all = append(all, s)
	}
	return all
}

// ParseScope returns the scope named by s ("members:read", ...). The match is
// exact: scopes are identifiers, not prose.
func ParseScope(s string) (Scope, error) {
	for _, scope := range AllScopes() {
		if scopeNames[scope] == s {
			return scope, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known scopes: %s)", ErrUnknownScope, s, strings.Join(scopeStrings(AllScopes()), ", "))
}

// ParseScopes parses every element of ss, as stored with an agent key.
// Duplicates are kept out of the result; the order of first appearance is kept.
func ParseScopes(ss []string) ([]Scope, error) {
	var set scopeSet
	out := make([]Scope, 0, len(ss))
	for _, s := range ss {
		scope, err := ParseScope(s)
		if err != nil {
			return nil, err
		}
		if !set.has(scope) {
			set = set.with(scope)
			out = append(out, scope)
		}
	}
	return out, nil
}

// String returns the scope's wire name, e.g. "members:read:pii".
func (s Scope) String() string {
	if !s.valid() {
		return fmt.Sprintf("Scope(%d)", uint8(s))
	}
	return scopeNames[s]
}

func (s Scope) valid() bool { return s >= ScopeMembersRead && s <= ScopeOpsWrite }

func scopeStrings(scopes []Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s.String()
	}
	return out
}

// scopeSet is a set of valid scopes, one bit per scope.
type scopeSet uint16

func setOf(scopes ...Scope) scopeSet {
	var set scopeSet
	for _, s := range scopes {
		set = set.with(s)
	}
	return set
}

// with adds s to the set; an invalid scope is not a member of any set.
func (set scopeSet) with(s Scope) scopeSet {
	if !s.valid() {
		return set
	}
	return set | 1<<s
}

// without removes s from the set.
func (set scopeSet) without(s Scope) scopeSet {
	if !s.valid() {
		return set
	}
	return set &^ (1 << s)
}

func (set scopeSet) has(s Scope) bool { return s.valid() && set&(1<<s) != 0 }

// scopes lists the members of the set in declaration order.
func (set scopeSet) scopes() []Scope {
	out := []Scope{}
	for _, s := range AllScopes() {
		if set.has(s) {
			out = append(out, s)
		}
	}
	return out
}

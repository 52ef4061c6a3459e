package access

import (
	"errors"
	"fmt"
	"strings"
)

// Kind says what sort of caller a Principal is.
type Kind uint8

// The kinds of caller.
const (
	KindUser   Kind = iota + 1 // a person signed in through the identity provider
	KindAgent                  // an AI agent holding an API key
	KindSystem                 // the platform itself: cron jobs, the worker, CLI commands
)

// ErrUnknownKind is wrapped by the error ParseKind returns.
var ErrUnknownKind = errors.New("access: unknown principal kind")

// ParseKind returns the kind named by s: "user", "agent" or "system".
func ParseKind(s string) (Kind, error) {
	for _, k := range []Kind{KindUser, KindAgent, KindSystem} {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known kinds: user, agent, system)", ErrUnknownKind, s)
}

// String returns the kind's name, as written to the audit log.
func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindAgent:
		return "agent"
	case KindSystem:
		return "system"
	default:
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
}

// Errors returned by the Principal constructors.
var (
	ErrMissingID = errors.New("access: principal id is empty")
	ErrNoScopes  = errors.New("access: an agent needs at least one scope")
)

// Principal is whoever is calling: its kind, its id and the scopes it holds.
// It is a value; the zero Principal is the anonymous caller.
type Principal struct {
	kind   Kind
	id     string
	scopes scopeSet
}

// NewUser returns the principal of a signed-in person. id is the person's id
// on the platform, the same id their records carry, so that RedactionFor
// recognises their own record. hasAccess is what the access ledger
// (domain/ledger) says of them now. The scopes are userScopes(role, hasAccess).
func NewUser(id string, role Role, hasAccess bool) (Principal, error) {
	id, err := principalID(id)
	if err != nil {
		return Principal{}, err
	}
	if role.scopeSet() == 0 {
		return Principal{}, fmt.Errorf("%w: %s", ErrUnknownRole, role)
	}
	return Principal{kind: KindUser, id: id, scopes: userScopes(role, hasAccess)}, nil
}

// UserScopes returns the scopes a person holds with role, with or without
// access, in declaration order.
func UserScopes(role Role, hasAccess bool) []Scope {
	return userScopes(role, hasAccess).scopes()
}

// userScopes is the policy for people. A member reads the directory
// (members:read) and the community's events (events:read) only while the
// access ledger gives them access: a paid subscription, the grace window
// after a failed payment, a scholarship or a manual grant. Someone who
// signed up and never paid, whose membership ended or is suspended past its
// grace, sees only themselves. Leaders and admins are appointed by an
// operator and keep every scope of their role.
func userScopes(role Role, hasAccess bool) scopeSet {
	set := role.scopeSet()
	if role == RoleMember && !hasAccess {
		set = set.without(ScopeMembersRead).without(ScopeEventsRead)
	}
	return set
}

// NewAgent returns the principal of an agent key. id identifies the key
// (not its secret). The key carries explicit scopes, at least one; a Preset's
// Scopes are a convenient starting point.
func NewAgent(id string, scopes []Scope) (Principal, error) {
	id, err := principalID(id)
	if err != nil {
		return Principal{}, err
	}
	if len(scopes) == 0 {
		return Principal{}, ErrNoScopes
	}
	var set scopeSet
	for _, s := range scopes {
		if !s.valid() {
			return Principal{}, fmt.Errorf("%w: %s", ErrUnknownScope, s)
		}
		set = set.with(s)
	}
	return Principal{kind: KindAgent, id: id, scopes: set}, nil
}

// NewSystem returns the principal of the platform acting on its own, named by
// id for the audit log (e.g. "job:slack-sync", "worker"). It holds every scope.
func NewSystem(id string) (Principal, error) {
	id, err := principalID(id)
	if err != nil {
		return Principal{}, err
	}
	return Principal{kind: KindSystem, id: id, scopes: setOf(AllScopes()...)}, nil
}

// Anonymous returns the caller who presented no credentials: a user with no
// id and no scopes. It is the zero Principal.
func Anonymous() Principal { return Principal{} }

func principalID(id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", ErrMissingID
	}
	return id, nil
}

// Kind returns what sort of caller this is. The anonymous caller is a user.
func (p Principal) Kind() Kind {
	if p.kind == 0 {
		return KindUser
	}
	return p.kind
}

// ID returns the principal's id; empty for the anonymous caller.
func (p Principal) ID() string { return p.id }

// IsAnonymous reports whether the caller presented no credentials.
func (p Principal) IsAnonymous() bool { return p.id == "" }

// Has reports whether the principal holds scope s.
func (p Principal) Has(s Scope) bool { return p.scopes.has(s) }

// Scopes returns the scopes the principal holds, in declaration order.
func (p Principal) Scopes() []Scope { return p.scopes.scopes() }

// String describes the principal for logs and audit records, e.g.
// "agent:key_123"; it never contains a secret.
func (p Principal) String() string {
	if p.IsAnonymous() {
		return "anonymous"
	}
	return p.Kind().String() + ":" + p.id
}

package access

import (
	"errors"
	"fmt"
)

// Role is a person's role on the platform: a named bundle of scopes.
// The zero Role is no role at all.
type Role uint8

// The roles, from least to most privileged.
const (
	RoleMember Role = iota + 1 // member: reads the directory and events
	RoleLeader                 // leader: a member who also creates events and reviews RSVP decisions in the audit log
	RoleAdmin                  // admin: every scope
)

// ErrUnknownRole is wrapped by the error ParseRole returns.
var ErrUnknownRole = errors.New("access: unknown role")

// ParseRole returns the role named by s: "member", "leader" or "admin".
func ParseRole(s string) (Role, error) {
	for _, r := range []Role{RoleMember, RoleLeader, RoleAdmin} {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known roles: member, leader, admin)", ErrUnknownRole, s)
}

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case RoleMember:
		return "member"
	case RoleLeader:
		return "leader"
	case RoleAdmin:
		return "admin"
	default:
		return fmt.Sprintf("Role(%d)", uint8(r))
	}
}

// Scopes returns the scopes the role grants, in declaration order. An
// invalid role grants nothing.
func (r Role) Scopes() []Scope { return r.scopeSet().scopes() }

func (r Role) scopeSet() scopeSet {
	member := setOf(ScopeMembersRead, ScopeEventsRead)
	switch r {
	case RoleMember:
		return member
	case RoleLeader:
		// Leaders create events and see the approval job's decisions,
		// which are audited: so they read the audit log too.
		return member.with(ScopeEventsWrite).with(ScopeAuditRead)
	case RoleAdmin:
		return setOf(AllScopes()...)
	default:
		return 0
	}
}

// Preset is a named set of scopes offered when an agent key is created. The
// key stores the resulting scopes, not the preset, so changing a preset
// later does not widen keys already issued.
type Preset uint8

// The agent presets.
const (
	PresetFinance    Preset = iota + 1 // finance: members:read, billing:read
	PresetSupport                      // support: members:read, members:read:pii, billing:read, audit:read
	PresetEngagement                   // engagement: members:read, events:read
)

// ErrUnknownPreset is wrapped by the error ParsePreset returns.
var ErrUnknownPreset = errors.New("access: unknown agent preset")

// ParsePreset returns the preset named by s: "finance", "support" or "engagement".
func ParsePreset(s string) (Preset, error) {
	for _, p := range []Preset{PresetFinance, PresetSupport, PresetEngagement} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known presets: finance, support, engagement)", ErrUnknownPreset, s)
}

// String returns the preset's name.
func (p Preset) String() string {
	switch p {
	case PresetFinance:
		return "finance"
	case PresetSupport:
		return "support"
	case PresetEngagement:
		return "engagement"
	default:
		return fmt.Sprintf("Preset(%d)", uint8(p))
	}
}

// Scopes returns the scopes of the preset, in declaration order. An invalid
// preset has none.
func (p Preset) Scopes() []Scope {
	switch p {
	case PresetFinance:
		return setOf(ScopeMembersRead, ScopeBillingRead).scopes()
	case PresetSupport:
		return setOf(ScopeMembersRead, ScopeMembersReadPII, ScopeBillingRead, ScopeAuditRead).scopes()
	case PresetEngagement:
		return setOf(ScopeMembersRead, ScopeEventsRead).scopes()
	default:
		return []Scope{}
	}
}

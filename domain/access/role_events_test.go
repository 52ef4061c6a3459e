package access_test

import (
	"testing"

	"github.com/womendefiningai/platform/domain/access"
)

// Who may do what with events and the audit log: members read events
// while their membership is current (as the directory), leaders also
// create them and read the audit log (the RSVP decisions), admins do
// everything; anonymous callers, and people who never paid or whose
// membership ended, nothing.
func TestEventAndAuditScopesByRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		role                  access.Role
		hasAccess             bool
		read, write, auditLog bool
	}{
		{"active member", access.RoleMember, true, true, false, false},
		{"past_due member in the grace window", access.RoleMember, true, true, false, false},
		{"scholarship member", access.RoleMember, true, true, false, false},
		{"canceled member (alumni)", access.RoleMember, false, false, false, false},
		{"signed up, never paid", access.RoleMember, false, false, false, false},
		{"checkout pending", access.RoleMember, false, false, false, false},
		{"leader", access.RoleLeader, true, true, true, true},
		{"leader without a membership", access.RoleLeader, false, true, true, true},
		{"admin", access.RoleAdmin, false, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := access.NewUser("person_1", tt.role, tt.hasAccess)
			if err != nil {
				t.Fatal(err)
			}
			for scope, want := range map[access.Scope]bool{access.ScopeEventsRead: tt.read, access.ScopeEventsWrite: tt.write, access.ScopeAuditRead: tt.auditLog} {
				if got := access.Allows(p, scope); got != want {
					t.Errorf("%s: Allows(%s) = %v, want %v", tt.name, scope, got, want)
				}
			}
		})
	}
	if access.Allows(access.Anonymous(), access.ScopeEventsRead) {
		t.Error("an anonymous caller reads events")
	}
}

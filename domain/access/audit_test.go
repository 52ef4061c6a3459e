package access_test

import (
	"testing"

	"github.com/womendefiningai/platform/domain/access"
)

// TestAuditViewLimitsLeadersToEventsAndRSVPs: a leader (audit:read, no
// members:read:pii, no billing:read) reads event.* and rsvp.* actions only;
// an admin reads every action; a member reads none.
func TestAuditViewLimitsLeadersToEventsAndRSVPs(t *testing.T) {
	t.Parallel()
	leader, _ := access.NewUser("l1", access.RoleLeader, true)
	admin, _ := access.NewUser("a1", access.RoleAdmin, false)
	member, _ := access.NewUser("m1", access.RoleMember, true)
	actions := map[string][3]bool{ // leader, admin, member
		"event.create":       {true, true, false},
		"event.unavailable":  {true, true, false},
		"rsvp.approve":       {true, true, false},
		"chat_status.change": {false, true, false},
		"person.set_role":    {false, true, false},
		"job.enqueue":        {false, true, false},
		"agent_key.create":   {false, true, false},
		"person.erase":       {false, true, false},
		"billing.link":       {false, true, false},
		"events":             {false, true, false},
	}
	for action, want := range actions {
		for i, p := range []access.Principal{leader, admin, member} {
			if got := access.AuditViewFor(p).Allows(action); got != want[i] {
				t.Errorf("%s reading %s: %v, want %v", []string{"leader", "admin", "member"}[i], action, got, want[i])
			}
		}
	}
	if v := access.AuditViewFor(leader); !v.CanRead() || v.All() || len(v.Prefixes()) != 2 {
		t.Errorf("leader view: read %v, all %v, prefixes %v", v.CanRead(), v.All(), v.Prefixes())
	}
	if v := access.AuditViewFor(admin); !v.All() || v.Prefixes() != nil {
		t.Errorf("admin view: all %v, prefixes %v", v.All(), v.Prefixes())
	}
	if v := access.AuditViewFor(member); v.CanRead() || v.Prefixes() != nil {
		t.Errorf("member view: read %v, prefixes %v", v.CanRead(), v.Prefixes())
	}
}

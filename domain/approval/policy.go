package approval

import "fmt"

// Policy says what to do with RSVPs that are not approved. The zero Policy
// is DefaultPolicy. Whether a member is approved is not a policy here: the
// access ledger decides it, grace window included.
type Policy struct {
	NonMember NonMemberRule
}

// DefaultPolicy leaves everyone not approved pending: declining is final
// from the guest's point of view, while a pending RSVP can still be
// approved by an organiser, or by a later run once the person has joined.
func DefaultPolicy() Policy {
	return Policy{NonMember: NonMemberLeavePending}
}

// nonMember decides for someone not approved outright.
func (p Policy) nonMember(reason Reason) Decision {
	switch p.NonMember {
	case NonMemberDecline:
		return Decision{Outcome: Decline, Reason: reason}
	case NonMemberLeavePending:
		return Decision{Outcome: LeavePending, Reason: reason}
	default:
		return Decision{Outcome: LeavePending, Reason: reason}
	}
}

// NonMemberRule says what happens to an RSVP that is not approved. The zero
// value is NonMemberLeavePending.
type NonMemberRule uint8

// The non-member rules.
const (
	NonMemberLeavePending NonMemberRule = iota // leave the RSVP pending
	NonMemberDecline                           // decline the RSVP
)

// ParseNonMemberRule returns the rule named by s: "leave_pending" or "decline".
func ParseNonMemberRule(s string) (NonMemberRule, error) {
	for _, r := range []NonMemberRule{NonMemberLeavePending, NonMemberDecline} {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("approval: unknown non-member rule %q (known: leave_pending, decline)", s)
}

// String returns the rule's name.
func (r NonMemberRule) String() string {
	switch r {
	case NonMemberLeavePending:
		return "leave_pending"
	case NonMemberDecline:
		return "decline"
	default:
		return fmt.Sprintf("NonMemberRule(%d)", uint8(r))
	}
}

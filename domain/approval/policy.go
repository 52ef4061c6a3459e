package approval

import "fmt"

// Policy says what to do with RSVPs that are not approved outright. The zero
// Policy is DefaultPolicy.
type Policy struct {
	PastDue   PastDueRule
	NonMember NonMemberRule
}

// DefaultPolicy approves past_due members during dunning and leaves
// everyone else pending: declining is final from the guest's point of view,
// while a pending RSVP can still be approved by an organiser, or by a later
// run once the person has joined.
func DefaultPolicy() Policy {
	return Policy{PastDue: PastDueGrace, NonMember: NonMemberLeavePending}
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

// PastDueRule says whether a past_due member is approved. The zero value is
// PastDueGrace.
type PastDueRule uint8

// The past_due rules.
const (
	PastDueGrace   PastDueRule = iota // approve while the provider retries the payment
	PastDueNoGrace                    // treat like a non-member (NonMemberRule)
)

// ParsePastDueRule returns the rule named by s: "grace" or "no_grace".
func ParsePastDueRule(s string) (PastDueRule, error) {
	for _, r := range []PastDueRule{PastDueGrace, PastDueNoGrace} {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("approval: unknown past_due rule %q (known: grace, no_grace)", s)
}

// String returns the rule's name.
func (r PastDueRule) String() string {
	switch r {
	case PastDueGrace:
		return "grace"
	case PastDueNoGrace:
		return "no_grace"
	default:
		return fmt.Sprintf("PastDueRule(%d)", uint8(r))
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

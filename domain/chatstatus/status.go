package chatstatus

import (
	"errors"
	"fmt"
)

// Status is a member's status in the chat workspace.
type Status string

// The statuses. New is the status of a link that was never synced (the
// diagram's start); it is never stored.
const (
	New         Status = ""
	NotFound    Status = "not_found"
	Active      Status = "active"
	Inactive    Status = "inactive"
	Deactivated Status = "deactivated"
)

// Statuses lists the stored statuses, in the diagram's order.
func Statuses() []Status { return []Status{NotFound, Active, Inactive, Deactivated} }

// ParseStatus parses a stored status; New is not one.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case NotFound, Active, Inactive, Deactivated:
		return st, nil
	case New:
		return "", errors.New("chatstatus: empty status")
	default:
		return "", fmt.Errorf("chatstatus: unknown status %q", s)
	}
}

// steps are the diagram's allowed single steps.
var steps = map[Status][]Status{
	New:         {NotFound, Active},
	NotFound:    {Active},
	Active:      {Inactive, Deactivated},
	Inactive:    {Active},
	Deactivated: nil, // permanent
}

// Allowed reports whether one step from → to is in the diagram. Staying in
// a status is not a step.
func Allowed(from, to Status) bool {
	for _, s := range steps[from] {
		if s == to {
			return true
		}
	}
	return false
}

// path returns the shortest sequence of allowed steps from → to (without
// from), or false when none reaches it.
func path(from, to Status) ([]Status, bool) {
	prev := map[Status]Status{from: from}
	queue := []Status{from}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		if at == to {
			var out []Status
			for s := to; s != from; s = prev[s] {
				out = append([]Status{s}, out...)
			}
			return out, true
		}
		for _, next := range steps[at] {
			if _, seen := prev[next]; !seen {
				prev[next] = at
				queue = append(queue, next)
			}
		}
	}
	return nil, false
}

// Account is what the workspace's directory shows about an account.
type Account string

// The account states a directory reports.
const (
	AccountMissing    Account = "missing"    // no account has the person's addresses
	AccountActive     Account = "active"     // a full member of the workspace
	AccountRestricted Account = "restricted" // a guest, or otherwise restricted
	AccountDeleted    Account = "deleted"    // deactivated by the workspace
)

// Status is the link status the account shows.
func (a Account) Status() (Status, error) {
	switch a {
	case AccountMissing:
		return NotFound, nil
	case AccountActive:
		return Active, nil
	case AccountRestricted:
		return Inactive, nil
	case AccountDeleted:
		return Deactivated, nil
	default:
		return "", fmt.Errorf("chatstatus: unknown account state %q", string(a))
	}
}

// ErrForbidden matches every TransitionError.
var ErrForbidden = errors.New("chatstatus: transition not allowed")

// TransitionError refuses a status that no allowed path reaches.
type TransitionError struct {
	From, To Status
}

func (e TransitionError) Error() string {
	from := e.From
	if from == New {
		from = "new"
	}
	return fmt.Sprintf("chatstatus: %s cannot become %s", from, e.To)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e TransitionError) Is(target error) bool { return target == ErrForbidden }

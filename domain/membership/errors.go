package membership

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by Membership's constructor and transitions.
var (
	// ErrInvalidPersonID: New or FromStore was given a blank person id.
	ErrInvalidPersonID = errors.New("membership: person id is empty")
	// ErrNotActive: only someone with access can make themselves visible.
	ErrNotActive = errors.New("membership: no access")
	// ErrNoScheduledCancellation: ReachPeriodEnd on a membership that is not
	// a current one set to cancel at its period end (including a second call,
	// or a call after the provider's canceled snapshot won the race).
	ErrNoScheduledCancellation = errors.New("membership: no cancellation scheduled")
	// ErrPeriodNotEnded: ReachPeriodEnd before the period end.
	ErrPeriodNotEnded = errors.New("membership: period has not ended")
	// ErrInvalidRecord: FromStore was given a record that no sequence of
	// transitions can produce.
	ErrInvalidRecord = errors.New("membership: invalid stored record")
)

// StaleSnapshotError says a snapshot was refused because the membership has
// already applied a newer one for the same subscription (or a different one
// taken at the same instant that wins the tie). Nothing changed; the caller
// should acknowledge the delivery, not retry it.
type StaleSnapshotError struct {
	SubscriptionID string
	Applied        time.Time // time of the snapshot already applied
	Got            time.Time // time of the refused snapshot
}

func (e StaleSnapshotError) Error() string {
	return fmt.Sprintf("membership: stale snapshot of subscription %s: taken %s, already applied %s",
		e.SubscriptionID, e.Got.Format(time.RFC3339Nano), e.Applied.Format(time.RFC3339Nano))
}

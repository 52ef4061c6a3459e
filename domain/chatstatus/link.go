package chatstatus

import (
	"errors"
	"fmt"
	"time"
)

// Link is one person's status in the chat workspace.
type Link struct {
	status   Status
	userID   string
	syncedAt time.Time
}

// FromStore rebuilds a link from a stored row; only stores call it. An
// empty status is a link never synced. A status with an account (active,
// inactive, deactivated) needs the account's user id.
func FromStore(status, userID string, syncedAt time.Time) (Link, error) {
	if status == "" {
		if userID != "" {
			return Link{}, errors.New("chatstatus: a link never synced has no user id")
		}
		return Link{}, nil
	}
	st, err := ParseStatus(status)
	if err != nil {
		return Link{}, err
	}
	if st != NotFound && userID == "" {
		return Link{}, fmt.Errorf("chatstatus: %s link without a user id", st)
	}
	return Link{status: st, userID: userID, syncedAt: syncedAt}, nil
}

// Status is the link's status (New if never synced).
func (l Link) Status() Status { return l.status }

// UserID is the matched account's id ("" while not found).
func (l Link) UserID() string { return l.userID }

// SyncedAt is when a sync last applied a sighting.
func (l Link) SyncedAt() time.Time { return l.syncedAt }

// Sighting is what one sync saw of a person: the matched account's state
// and id, or AccountMissing and no id.
type Sighting struct {
	Account Account
	UserID  string
}

// Change is one step of a link's status.
type Change struct {
	From, To Status
	UserID   string
}

// Observe applies what a sync saw at now. It returns the steps taken (none
// when the status stays; the user id and sync time are still updated), or
// a TransitionError that changes nothing when no allowed path reaches the
// shown status.
func (l *Link) Observe(s Sighting, now time.Time) ([]Change, error) {
	to, err := s.Account.Status()
	if err != nil {
		return nil, err
	}
	if (to == NotFound) != (s.UserID == "") {
		return nil, fmt.Errorf("chatstatus: sighting %s with user id %q", s.Account, s.UserID)
	}
	if to == l.status {
		if to != Deactivated {
			l.userID = s.UserID
		}
		l.syncedAt = now
		return nil, nil
	}
	route, ok := path(l.status, to)
	if !ok {
		return nil, TransitionError{From: l.status, To: to}
	}
	changes := make([]Change, 0, len(route))
	from := l.status
	for _, st := range route {
		changes = append(changes, Change{From: from, To: st, UserID: s.UserID})
		from = st
	}
	l.status, l.userID, l.syncedAt = to, s.UserID, now
	return changes, nil
}

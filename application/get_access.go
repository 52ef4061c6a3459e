package application

import (
	"context"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/ports"
)

// AccessView is a person's access now, with its explanation: every current
// grant, who granted it and why.
type AccessView struct {
	Active  bool
	Until   time.Time // zero: open-ended, or no access
	Sources []ledger.Grant
}

// GetAccess explains people's access, for a dataloader: a person's own
// always, anyone's with members:read:pii (admins, the support agent), so
// that "why does this person have access?" has one answer.
type GetAccess struct {
	grants ports.AccessReader
	clock  ports.Clock
}

// NewGetAccess refuses nil dependencies.
func NewGetAccess(grants ports.AccessReader, clock ports.Clock) (GetAccess, error) {
	if anyNil(grants, clock) {
		return GetAccess{}, nilDependency("get access")
	}
	return GetAccess{grants: grants, clock: clock}, nil
}

// Handle returns the access of each person the principal may see; the
// others are absent.
func (h GetAccess) Handle(ctx context.Context, personIDs []string) (map[string]AccessView, error) {
	p := PrincipalFrom(ctx)
	ids := make([]string, 0, len(personIDs))
	for _, id := range personIDs {
		if !access.RedactionFor(p, id).Hides(access.FieldAccess) {
			ids = append(ids, id)
		}
	}
	out := make(map[string]AccessView, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	now := h.clock.Now()
	grants, err := h.grants.GrantsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id] = accessView(ledger.Explain(grants[id], now))
	}
	return out, nil
}

func accessView(a ledger.Access) AccessView {
	return AccessView{Active: a.Active, Until: a.Until, Sources: a.Sources}
}

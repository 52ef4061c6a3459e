package graph

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/graph/model"
)

// newAccessLoader batches the access of people into one query.
func newAccessLoader(app *application.App) *dataloadgen.Loader[string, *application.AccessView] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*application.AccessView, error) {
		views, err := app.Queries.GetAccess.Handle(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[string]*application.AccessView, len(ids))
		for _, id := range ids {
			out[id] = nil // not the caller's to see
			if v, ok := views[id]; ok {
				out[id] = &v
			}
		}
		return out, nil
	}, dataloadgen.WithWait(time.Millisecond))
}

var accessSources = map[ledger.Source]model.AccessSource{
	ledger.SourceSubscription:  model.AccessSourceSubscription,
	ledger.SourceGrace:         model.AccessSourceGrace,
	ledger.SourceComplimentary: model.AccessSourceComplimentary,
	ledger.SourceManual:        model.AccessSourceManual,
}

func mapAccess(v application.AccessView) *model.Access {
	out := &model.Access{Active: v.Active, Until: timePtr(v.Until), Sources: make([]model.AccessGrant, 0, len(v.Sources))}
	for _, g := range v.Sources {
		out.Sources = append(out.Sources, *mapGrant(g))
	}
	return out
}

func mapGrant(g ledger.Grant) *model.AccessGrant {
	out := &model.AccessGrant{ID: g.ID, Kind: accessSources[g.Source], From: g.From, Until: timePtr(g.Until), GrantedBy: g.GrantedBy, Reason: g.Reason}
	if g.Tier != "" {
		tier := g.Tier
		out.Tier = &tier
	}
	return out
}

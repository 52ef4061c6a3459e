package graph

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/womendefiningai/platform/application"
)

// loaders batch what a list would otherwise fetch once per row: a page of
// members costs one membership query, not fifty. They are made per
// operation, so nothing is cached across callers (redaction depends on who
// asks).
type loaders struct {
	memberships *dataloadgen.Loader[string, application.MembershipView]
}

type loadersKey struct{}

func withLoaders(ctx context.Context, app *application.App) context.Context {
	return context.WithValue(ctx, loadersKey{}, &loaders{
		memberships: dataloadgen.NewMappedLoader(app.Queries.People.Memberships, dataloadgen.WithWait(time.Millisecond)),
	})
}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/womendefiningai/platform/application"
)

// loaders batch what a list would otherwise fetch once per row: a page of
// members costs one membership query, not fifty. They are made per
// operation, so nothing is cached across callers (redaction depends on who
// asks).
type loaders struct {
	// memberships maps a person id to the membership the caller may see;
	// nil means none (or not the caller's to see).
	memberships *dataloadgen.Loader[string, *application.MembershipView]
	// chat maps a person id to their chat workspace link (chat_loader.go).
	chat *dataloadgen.Loader[string, *application.ChatLinkView]
	// access maps a person id to their access and its explanation
	// (access_loader.go); nil when not the caller's to see.
	access *dataloadgen.Loader[string, *application.AccessView]
}

type loadersKey struct{}

func withLoaders(ctx context.Context, app *application.App) context.Context {
	return context.WithValue(ctx, loadersKey{}, &loaders{
		memberships: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*application.MembershipView, error) {
			return membershipsByPerson(ctx, app, ids)
		}, dataloadgen.WithWait(time.Millisecond)),
		chat:   newChatLoader(app),
		access: newAccessLoader(app),
	})
}

// membershipsByPerson fetches in one call and answers every id, nil where
// there is no membership to show.
func membershipsByPerson(ctx context.Context, app *application.App, ids []string) (map[string]*application.MembershipView, error) {
	views, err := app.Queries.GetMemberships.Handle(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*application.MembershipView, len(ids))
	for _, id := range ids {
		if v, ok := views[id]; ok {
			out[id] = &v
		} else {
			out[id] = nil
		}
	}
	return out, nil
}

// primeMemberships loads the memberships of a whole page in one call, so
// the per-row resolvers never depend on the loader's batching window.
func primeMemberships(ctx context.Context, app *application.App, ids []string) error {
	l := loadersFrom(ctx)
	if l == nil || len(ids) == 0 {
		return nil
	}
	views, err := membershipsByPerson(ctx, app, ids)
	if err != nil {
		return err
	}
	for id, v := range views {
		l.memberships.Prime(id, v)
	}
	return nil
}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// selectsMembership reports whether the members query asks for
// edges.node.membership.
func selectsMembership(ctx context.Context) bool { return selectsNodeField(ctx, "membership") }

// selectsOwnMembership reports whether the person field being resolved
// (me, member) asks for its membership: such a resolver loads it at once
// (primeMemberships) rather than after the loader's batching wait.
func selectsOwnMembership(ctx context.Context) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "membership" {
			return true
		}
	}
	return false
}

// selectsNodeField reports whether the members query asks for
// edges.node.<field>.
func selectsNodeField(ctx context.Context, field string) bool {
	oc := graphql.GetOperationContext(ctx)
	for _, edges := range graphql.CollectFieldsCtx(ctx, nil) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(oc, edges.Selections, nil) {
			if node.Name != "node" {
				continue
			}
			for _, f := range graphql.CollectFields(oc, node.Selections, nil) {
				if f.Name == field {
					return true
				}
			}
		}
	}
	return false
}

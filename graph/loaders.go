package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/womendefiningai/platform/application"
)

// loaders batch what a list would otherwise fetch once per row: a page of
// members costs one membership query, not fifty. They are made per
// operation, so nothing is cached across callers (redaction depends on who
// asks), and each only when the operation first uses it.
type loaders struct {
	app *application.App
	// memberships maps a person id to the membership the caller may see;
	// nil means none (or not the caller's to see).
	memberships lazyLoader[application.MembershipView]
	// chat maps a person id to their chat workspace link (chat_loader.go).
	chat lazyLoader[application.ChatLinkView]
	// access maps a person id to their access and its explanation
	// (access_loader.go); nil when not the caller's to see.
	access lazyLoader[application.AccessView]
}

// lazyLoader is a loader made on its first use.
type lazyLoader[V any] struct {
	once   sync.Once
	loader *dataloadgen.Loader[string, *V]
}

// get returns the loader, made by build on the first call.
func (l *lazyLoader[V]) get(build func() *dataloadgen.Loader[string, *V]) *dataloadgen.Loader[string, *V] {
	l.once.Do(func() { l.loader = build() })
	return l.loader
}

func (l *loaders) membershipLoader() *dataloadgen.Loader[string, *application.MembershipView] {
	return l.memberships.get(func() *dataloadgen.Loader[string, *application.MembershipView] { return newMembershipLoader(l.app) })
}

func (l *loaders) chatLoader() *dataloadgen.Loader[string, *application.ChatLinkView] {
	return l.chat.get(func() *dataloadgen.Loader[string, *application.ChatLinkView] { return newChatLoader(l.app) })
}

func (l *loaders) accessLoader() *dataloadgen.Loader[string, *application.AccessView] {
	return l.access.get(func() *dataloadgen.Loader[string, *application.AccessView] { return newAccessLoader(l.app) })
}

type loadersKey struct{}

func withLoaders(ctx context.Context, app *application.App) context.Context {
	return context.WithValue(ctx, loadersKey{}, &loaders{app: app})
}

func newMembershipLoader(app *application.App) *dataloadgen.Loader[string, *application.MembershipView] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*application.MembershipView, error) {
		return membershipsByPerson(ctx, app, ids)
	}, dataloadgen.WithWait(time.Millisecond))
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
		l.membershipLoader().Prime(id, v)
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

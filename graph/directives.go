package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph/generated"
	"github.com/womendefiningai/platform/graph/model"
)

// NewDirectiveRoot wires every access directive of the schema. A nil entry
// would fail only at run time; TestEveryDirectiveIsWired guards that.
func NewDirectiveRoot() generated.DirectiveRoot {
	return generated.DirectiveRoot{
		Public:        func(ctx context.Context, _ any, next graphql.Resolver) (any, error) { return next(ctx) },
		Authenticated: authenticated,
		Requires:      requires,
	}
}

// requires enforces @requires(scopes) through domain/access.
func requires(ctx context.Context, _ any, next graphql.Resolver, scopes []model.Scope) (any, error) {
	needed := make([]access.Scope, 0, len(scopes))
	for _, s := range scopes {
		sc, err := DomainScope(s)
		if err != nil {
			return nil, err
		}
		needed = append(needed, sc)
	}
	p := application.PrincipalFrom(ctx)
	if !access.Allows(p, needed...) {
		return nil, &gqlerror.Error{
			Message:    "forbidden: this field needs " + joinScopes(needed),
			Extensions: map[string]any{"code": CodeForbidden},
		}
	}
	return next(ctx)
}

// authenticated admits signed-in people (user principals) only, by the
// same rule the use cases apply.
func authenticated(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if _, err := application.SignedInUser(ctx); err != nil {
		return nil, &gqlerror.Error{Message: "forbidden: sign in first", Extensions: map[string]any{"code": CodeForbidden}}
	}
	return next(ctx)
}

// DomainScope maps a GraphQL Scope (MEMBERS_READ) to its domain scope
// (members:read).
func DomainScope(s model.Scope) (access.Scope, error) {
	name := strings.ReplaceAll(strings.ToLower(string(s)), "_", ":")
	sc, err := access.ParseScope(name)
	if err != nil {
		return 0, fmt.Errorf("graph: scope %s has no domain scope: %w", s, err)
	}
	return sc, nil
}

func joinScopes(s []access.Scope) string {
	names := make([]string, 0, len(s))
	for _, sc := range s {
		names = append(names, sc.String())
	}
	return strings.Join(names, ", ")
}

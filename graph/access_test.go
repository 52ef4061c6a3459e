package graph_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/vektah/gqlparser/v2/ast"
	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/graph/generated"
	"github.com/womendefiningai/platform/graph/model"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func schema(t *testing.T) *ast.Schema {
	t.Helper()
	return generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}, Directives: graph.NewDirectiveRoot()}).Schema()
}

// rootFields lists "Query.x" and "Mutation.y" with their definitions.
func rootFields(t *testing.T) map[string]*ast.FieldDefinition {
	t.Helper()
	s := schema(t)
	out := map[string]*ast.FieldDefinition{}
	for _, root := range []*ast.Definition{s.Query, s.Mutation} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			out[root.Name+"."+f.Name] = f
		}
	}
	return out
}

func TestEveryRootFieldDeclaresAccess(t *testing.T) {
	t.Parallel()
	fields := rootFields(t)
	if len(fields) == 0 {
		t.Fatal("no root fields found")
	}
	for name, f := range fields {
		public, requires := f.Directives.ForName("public") != nil, f.Directives.ForName("requires") != nil
		if public == requires {
			t.Errorf("%s must declare exactly one of @public or @requires(scopes: ...)", name)
		}
		if requires && f.Type.NonNull {
			t.Errorf("%s is protected but non-null: a denial would null its parent; make it nullable", name)
		}
	}
}

func TestEveryDirectiveIsWired(t *testing.T) {
	t.Parallel()
	root := reflect.ValueOf(graph.NewDirectiveRoot())
	for i := range root.NumField() {
		if root.Field(i).IsNil() {
			t.Errorf("directive %s is declared but not wired", root.Type().Field(i).Name)
		}
	}
	builtin := map[string]bool{"skip": true, "include": true, "deprecated": true, "specifiedBy": true, "oneOf": true, "defer": true, "goModel": true, "goField": true, "goTag": true, "goExtraField": true, "goEnum": true}
	for name := range schema(t).Directives {
		if builtin[name] {
			continue
		}
		field := strings.ToUpper(name[:1]) + name[1:]
		if f := root.FieldByName(field); !f.IsValid() {
			t.Errorf("schema directive @%s has no DirectiveRoot entry", name)
		}
	}
}

func TestEveryGraphQLScopeIsADomainScope(t *testing.T) {
	t.Parallel()
	seen := map[access.Scope]bool{}
	for _, s := range model.AllScope {
		d, err := graph.DomainScope(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		seen[d] = true
	}
	if len(seen) != len(access.AllScopes()) {
		t.Fatalf("GraphQL has %d scopes, the domain %d", len(seen), len(access.AllScopes()))
	}
}

// protectedCases has one operation per protected root field. The test below
// fails when a protected field has no case, so a new field cannot ship
// without its denial and success being shown.
var protectedCases = map[string]string{
	"Query.deadLetters":          `{ deadLetters(status: OPEN, first: 5) { id status } }`,
	"Query.deadLetter":           `{ deadLetter(id: "dl1") { id topic } }`,
	"Mutation.replayDeadLetter":  `mutation { replayDeadLetter(id: "dl1") { id status } }`,
	"Mutation.abandonDeadLetter": `mutation { abandonDeadLetter(id: "dl1", reason: "refunded") { id status } }`,
}

func fakeApp(t *testing.T) *application.App {
	t.Helper()
	ctrl := gomock.NewController(t)
	dl := ports.DeadLetter{ID: "dl1", Topic: "member.changed", Status: ports.DeadLetterOpen, Attempts: 4, FirstFailedAt: time.Now(), LastFailedAt: time.Now()}
	store := mocks.NewMockDeadLetters(ctrl)
	store.EXPECT().List(gomock.Any(), gomock.Any(), gomock.Any()).Return([]ports.DeadLetter{dl}, nil).AnyTimes()
	store.EXPECT().Get(gomock.Any(), gomock.Any()).Return(dl, nil).AnyTimes()
	store.EXPECT().Replay(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	store.EXPECT().Abandon(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	audit := mocks.NewMockAuditLog(ctrl)
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	tx := mocks.NewMockTx(ctrl)
	tx.EXPECT().DeadLetters().Return(store).AnyTimes()
	tx.EXPECT().Audit().Return(audit).AnyTimes()
	uow := mocks.NewMockUnitOfWork(ctrl)
	uow.EXPECT().Do(gomock.Any(), gomock.Any()).DoAndReturn(
		func(ctx context.Context, fn func(context.Context, ports.Tx) error) error { return fn(ctx, tx) }).AnyTimes()

	app := newApp(t, nil, nil)
	var err error
	if app.Queries.DeadLetters, err = application.NewDeadLettersHandler(store); err != nil {
		t.Fatal(err)
	}
	if app.Commands.ResolveDeadLetter, err = application.NewResolveDeadLetterHandler(uow); err != nil {
		t.Fatal(err)
	}
	return app
}

func as(p access.Principal) client.Option {
	return func(r *client.Request) {
		r.HTTP = r.HTTP.WithContext(application.WithPrincipal(r.HTTP.Context(), p))
	}
}

func TestProtectedFieldsDenyWithoutScopeAndAllowWithIt(t *testing.T) {
	t.Parallel()
	fields := rootFields(t)
	c := client.New(graph.NewHandler(fakeApp(t), graph.Options{}))
	for name, f := range fields {
		dir := f.Directives.ForName("requires")
		if dir == nil {
			continue
		}
		op, ok := protectedCases[name]
		if !ok {
			t.Errorf("protected field %s has no case in protectedCases", name)
			continue
		}
		var needed []access.Scope
		for _, v := range dir.Arguments.ForName("scopes").Value.Children {
			s, err := graph.DomainScope(model.Scope(v.Value.Raw))
			if err != nil {
				t.Fatal(err)
			}
			needed = append(needed, s)
		}
		t.Run(name, func(t *testing.T) {
			// Denied: anonymous, and an agent holding every other scope.
			var others []access.Scope
			for _, s := range access.AllScopes() {
				if !contains(needed, s) {
					others = append(others, s)
				}
			}
			lacking, err := access.NewAgent("lacking", others)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []access.Principal{access.Anonymous(), lacking} {
				var resp json.RawMessage
				err := c.Post(op, &resp, as(p))
				if err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) || !strings.Contains(err.Error(), f.Name) {
					t.Errorf("as %v: err = %v, want FORBIDDEN on %s", p, err, f.Name)
				}
			}
			// Allowed: exactly the required scopes.
			holder, err := access.NewAgent("holder", needed)
			if err != nil {
				t.Fatal(err)
			}
			var resp map[string]any
			if err := c.Post(op, &resp, as(holder)); err != nil {
				t.Fatalf("with %v: %v", needed, err)
			}
			if resp[f.Name] == nil {
				t.Fatalf("with %v: %s is null", needed, f.Name)
			}
		})
	}
}

func contains(list []access.Scope, s access.Scope) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

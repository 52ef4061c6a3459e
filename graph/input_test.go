package graph_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
)

// TestEveryTextArgumentRefusesControlCharacters sends, for every argument
// of every root field that can carry text (String, ID, or an input object or
// list holding them), a value with a NUL and one with an escape sequence.
// Each is answered BAD_USER_INPUT on that field, naming the argument, before
// any use case runs: the fake app's strict mocks would fail the test if one
// were called with it, and without the guard a NUL reached PostgreSQL and
// answered INTERNAL. New fields are covered by construction.
func TestEveryTextArgumentRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	s := schema(t)
	c := client.New(graph.NewHandler(fakeApp(t), graph.Options{}))
	// A user with every scope passes every access directive.
	admin, err := access.NewUser("p1", access.RoleAdmin, false)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, root := range []*ast.Definition{s.Query, s.Mutation} {
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			for _, target := range f.Arguments {
				if !holdsText(s, target.Type, 0) {
					continue
				}
				for _, bad := range []string{"a\u0000b", "\u001b[2J"} {
					checked++
					op, vars := operation(s, root, f, target.Name, bad)
					name := fmt.Sprintf("%s.%s(%s=%q)", root.Name, f.Name, target.Name, bad)
					var resp map[string]any
					err := c.Post(op, &resp, as(admin), withVars(vars))
					if err == nil || !strings.Contains(err.Error(), graph.CodeBadUserInput) || !strings.Contains(err.Error(), target.Name) ||
						!strings.Contains(err.Error(), `"path":["`+f.Name+`"]`) {
						t.Errorf("%s: err = %v, want BAD_USER_INPUT on %s naming the argument", name, err, f.Name)
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d text arguments checked: the schema walk is broken", checked)
	}
	t.Logf("%d requests refused (%d text arguments, 2 values each)", checked, checked/2)
}

func withVars(vars map[string]any) client.Option {
	return func(r *client.Request) { r.Variables = vars }
}

// operation builds "query ($a: T, ...) { field(a: $a, ...) { __typename } }"
// with every argument a variable: the target holds bad in each of its text
// places, the others harmless values.
func operation(s *ast.Schema, root *ast.Definition, f *ast.FieldDefinition, target, bad string) (string, map[string]any) {
	vars := map[string]any{}
	var params, args []string
	for _, a := range f.Arguments {
		text := "x"
		if a.Name == target {
			text = bad
		}
		vars[a.Name] = value(s, a.Type, text)
		params = append(params, "$"+a.Name+": "+a.Type.String())
		args = append(args, a.Name+": $"+a.Name)
	}
	sort.Strings(params)
	sel := ""
	if d := s.Types[f.Type.Name()]; d != nil && d.Kind != ast.Scalar && d.Kind != ast.Enum {
		sel = " { __typename }"
	}
	kind := "query"
	if root == s.Mutation {
		kind = "mutation"
	}
	return fmt.Sprintf("%s (%s) { %s(%s)%s }", kind, strings.Join(params, ", "), f.Name, strings.Join(args, ", "), sel), vars
}

// formatted are valid values of the custom scalars that are not free text.
var formatted = map[string]any{"Time": "2030-01-02T15:04:05Z"}

// value is a valid value of type t whose text places all hold text.
func value(s *ast.Schema, t *ast.Type, text string) any {
	if t.Elem != nil {
		return []any{value(s, t.Elem, text)}
	}
	if v, ok := formatted[t.NamedType]; ok {
		return v
	}
	switch t.NamedType {
	case "String", "ID":
		return text
	case "Int":
		return 1
	case "Float":
		return 1.5
	case "Boolean":
		return true
	}
	d := s.Types[t.NamedType]
	switch d.Kind { //nolint:exhaustive // arguments are scalars, enums or input objects
	case ast.Enum:
		return d.EnumValues[0].Name
	case ast.InputObject:
		out := map[string]any{}
		for _, f := range d.Fields {
			out[f.Name] = value(s, f.Type, text)
		}
		return out
	}
	return text // a custom scalar: text
}

// holdsText reports whether a value of type t can carry a string.
func holdsText(s *ast.Schema, t *ast.Type, depth int) bool {
	if t.Elem != nil {
		return holdsText(s, t.Elem, depth)
	}
	switch t.NamedType {
	case "String", "ID":
		return true
	case "Int", "Float", "Boolean":
		return false
	}
	d := s.Types[t.NamedType]
	if d == nil || depth > 8 {
		return false
	}
	switch d.Kind { //nolint:exhaustive // arguments are scalars, enums or input objects
	case ast.Scalar:
		_, notText := formatted[t.NamedType]
		return !notText
	case ast.InputObject:
		for _, f := range d.Fields {
			if holdsText(s, f.Type, depth+1) {
				return true
			}
		}
	}
	return false
}

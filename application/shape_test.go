package application_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The shape that lets a newcomer read App and know the system: every use
// case (a type with a Handle method) is a field of App's Commands or
// Queries, none takes more than maxDependencies ports, and no file grows
// past about maxFileLines lines.
const (
	maxDependencies = 5
	maxFileLines    = 220
)

func TestApplicationShape(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	files := parseApplication(t, fset)

	structs := map[string]*ast.StructType{}
	handlers := map[string]bool{}
	for name, f := range files {
		if lines := fset.File(f.Pos()).LineCount(); lines > maxFileLines {
			t.Errorf("%s has %d lines; split it (at most about %d)", name, lines, maxFileLines)
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if ts, ok := spec.(*ast.TypeSpec); ok {
						if st, ok := ts.Type.(*ast.StructType); ok {
							structs[ts.Name.Name] = st
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil && d.Name.Name == "Handle" {
					handlers[receiverName(d.Recv.List[0].Type)] = true
				}
			}
		}
	}
	if len(handlers) < 20 {
		t.Fatalf("found %d use cases; the parse is wrong", len(handlers))
	}

	listed := map[string]bool{}
	for _, group := range []string{"Commands", "Queries"} {
		st, ok := structs[group]
		if !ok {
			t.Fatalf("App's %s struct is missing", group)
		}
		for _, field := range st.Fields.List {
			listed[exprName(field.Type)] = true
		}
	}
	for name := range handlers {
		if !listed[name] {
			t.Errorf("use case %s is not listed in App (Commands or Queries)", name)
		}
		if n := countFields(structs[name]); n > maxDependencies {
			t.Errorf("use case %s has %d dependencies; at most %d", name, n, maxDependencies)
		}
	}
	for name := range listed {
		if !handlers[name] {
			t.Errorf("App lists %s, which has no Handle method", name)
		}
	}
}

// TestNoTransactionText: transactions are the unit of work's; nothing
// outside adapters/postgres/tx.go sends BEGIN or COMMIT. The one other
// place is the message queue's claim transaction, which Watermill's
// subscriber begins through its own Beginner interface and no handler sees
// (adapters/messaging/subscriber_tx.go).
func TestNoTransactionText(t *testing.T) {
	t.Parallel()
	stmt := regexp.MustCompile(`(?i)"\s*(BEGIN|COMMIT|ROLLBACK|START TRANSACTION)\b`)
	root := filepath.Join("..")
	allowed := map[string]bool{
		filepath.Join("adapters", "postgres", "tx.go"):             true,
		filepath.Join("adapters", "messaging", "subscriber_tx.go"): true,
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" || d.Name() == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || allowed[rel] {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if loc := stmt.FindIndex(src); loc != nil {
			t.Errorf("%s sends transaction control text (%q); use a unit of work", rel, src[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func parseApplication(t *testing.T, fset *token.FileSet) map[string]*ast.File {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*ast.File{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	if !slices.ContainsFunc(names, func(n string) bool { return n == "app.go" }) {
		t.Fatal("app.go not found: run the test from application/")
	}
	return files
}

func receiverName(e ast.Expr) string {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	return exprName(e)
}

func exprName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.IndexExpr:
		return exprName(x.X)
	default:
		return ""
	}
}

func countFields(st *ast.StructType) int {
	if st == nil {
		return 0
	}
	n := 0
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			n++ // embedded
			continue
		}
		n += len(f.Names)
	}
	return n
}

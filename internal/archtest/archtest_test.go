// Package archtest checks the dependency rule of DESIGN.md §1: the domain
// imports only the standard library, application/ never imports adapters/ or
// graph/, and adapters never import graph/. It also proves that the lint rule
// enforcing this (depguard in .golangci.yml) fails on a deliberate bad import.
package archtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/womendefiningai/platform"

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func TestDomainImportsOnlyTheStandardLibrary(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./domain/...")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var seen int
	for _, pkg := range strings.Fields(string(out)) {
		seen++
		if !strings.HasPrefix(pkg, module+"/domain") {
			t.Errorf("domain depends on %s, which is neither the standard library nor domain/", pkg)
		}
	}
	if seen == 0 {
		t.Fatal("go list found no domain packages")
	}
}

// TestLintRuleFailsOnBadImports writes a scratch module with the project's
// lint configuration and one deliberate violation of each rule, then runs
// golangci-lint: every violation must be reported, and the clean package not.
func TestLintRuleFailsOnBadImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs golangci-lint; skipped with -short")
	}
	t.Parallel()
	root := repoRoot(t)
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(root, ".golangci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		".golangci.yml": string(cfg),
		"go.mod":        "module " + module + "\n\ngo 1.26\n",
		// Clean: the domain may use the standard library and itself.
		"domain/good/good.go":   "// Package good is clean.\npackage good\n\nimport (\n\t\"strings\"\n\n\t\"" + module + "/domain/other\"\n)\n\n// F is clean.\nfunc F() string { return strings.ToUpper(other.Name) }\n",
		"domain/other/other.go": "// Package other is clean.\npackage other\n\n// Name is clean.\nconst Name = \"x\"\n",
		// Violation 1: the domain imports something outside the standard library.
		"domain/bad/bad.go": "// Package bad breaks the rule.\npackage bad\n\nimport \"" + module + "/ports\"\n\n// F uses ports.\nfunc F() string { return ports.Name }\n",
		"ports/ports.go":    "// Package ports is a stand-in.\npackage ports\n\n// Name is a stand-in.\nconst Name = \"p\"\n",
		// Violation 2: application imports an adapter.
		"application/app.go":      "// Package application breaks the rule.\npackage application\n\nimport \"" + module + "/adapters/postgres\"\n\n// F uses an adapter.\nfunc F() string { return postgres.Name }\n",
		"adapters/postgres/pg.go": "// Package postgres is a stand-in.\npackage postgres\n\n// Name is a stand-in.\nconst Name = \"pg\"\n",
		// Violation 3: an adapter imports graph/.
		"adapters/httpapi/h.go": "// Package httpapi breaks the rule.\npackage httpapi\n\nimport \"" + module + "/graph\"\n\n// F uses graph.\nfunc F() string { return graph.Name }\n",
		"graph/graph.go":        "// Package graph is a stand-in.\npackage graph\n\n// Name is a stand-in.\nconst Name = \"g\"\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "tool", "-modfile="+filepath.Join(root, "tools", "go.mod"),
		"golangci-lint", "run", "--enable-only", "depguard", "--output.text.path", "stdout", "./...")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := out.String()
	if err == nil {
		t.Fatalf("golangci-lint passed a tree with three bad imports:\n%s", text)
	}
	for _, want := range []string{"domain/bad/bad.go", "application/app.go", "adapters/httpapi/h.go"} {
		if !strings.Contains(text, want) {
			t.Errorf("lint did not report %s:\n%s", want, text)
		}
	}
	t.Logf("lint output:\n%s", text)
	if strings.Contains(text, "domain/good") {
		t.Errorf("lint reported the clean domain package:\n%s", text)
	}
}

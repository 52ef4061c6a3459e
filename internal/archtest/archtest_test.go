// Package archtest checks the dependency rule: the domain imports only the
// standard library, and each layer imports only what the allow-lists of
// depguard in .golangci.yml permit. It proves that every one of those rules
// fails on a deliberate bad import, and passes a good one.
package archtest

import (
	"bytes"
	"fmt"
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
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./domain/...")
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

// importCase is one file of the scratch module: it imports imports (blank
// imports, so nothing needs to be used) and lint must report it or not.
type importCase struct {
	file    string // path in the scratch module
	imports []string
	bad     bool // lint must report the file
}

func (c importCase) source() string {
	pkg := filepath.Base(filepath.Dir(c.file))
	var b strings.Builder
	fmt.Fprintf(&b, "// Package %s is a case of the lint test.\npackage %s\n\n", pkg, pkg)
	for _, imp := range c.imports {
		fmt.Fprintf(&b, "import _ %q\n", imp)
	}
	return b.String()
}

// adapterFolders lists the folders of adapters/ in the repository: each must
// have its own rule against importing the others.
func adapterFolders(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "adapters"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) < 2 {
		t.Fatalf("found adapters %v; want at least two", names)
	}
	return names
}

// lintCases are the files of the scratch module, one or more per rule of
// depguard in .golangci.yml. Stand-ins (the packages the cases import) are
// clean and not listed.
func lintCases(adapters []string) []importCase {
	const m = module
	cases := []importCase{
		// domain: the standard library and domain/ only.
		{file: "domain/good/good.go", imports: []string{"strings", m + "/domain/other"}},
		{file: "domain/bad/bad.go", imports: []string{m + "/ports"}, bad: true},
		{file: "domain/badthirdparty/bad.go", imports: []string{"github.com/jackc/pgx/v5"}, bad: true},

		// application: the standard library, domain, ports and itself.
		{file: "application/good/good.go", imports: []string{"strings", m + "/domain/other", m + "/ports", m + "/application"}},
		{file: "application/badadapter/bad.go", imports: []string{m + "/adapters/postgres"}, bad: true},
		{file: "application/badgraph/bad.go", imports: []string{m + "/graph"}, bad: true},
		{file: "application/badinternal/bad.go", imports: []string{m + "/internal/config"}, bad: true},
		{file: "application/badmock/bad.go", imports: []string{"go.uber.org/mock/gomock"}, bad: true},
		// application tests: also gomock, rapid and the mocks of ports.
		{file: "application/goodtest/good_test.go", imports: []string{m + "/ports/mocks", "go.uber.org/mock/gomock", "pgregory.net/rapid"}},
		{file: "application/badtest/bad_test.go", imports: []string{m + "/adapters/postgres"}, bad: true},
		{file: "application/badtestthirdparty/bad_test.go", imports: []string{"github.com/jackc/pgx/v5"}, bad: true},

		// ports: the standard library, domain and itself.
		{file: "ports/good/good.go", imports: []string{"time", m + "/domain/other", m + "/ports"}},
		{file: "ports/badapp/bad.go", imports: []string{m + "/application"}, bad: true},
		{file: "ports/badmock/bad.go", imports: []string{"go.uber.org/mock/gomock"}, bad: true},
		// ports/mocks: also gomock.
		{file: "ports/mocks/good.go", imports: []string{"go.uber.org/mock/gomock", m + "/ports", m + "/domain/other"}},
		{file: "ports/mocks/badmocks/bad.go", imports: []string{m + "/adapters/postgres"}, bad: true},

		// graph: application, ports, domain, itself and the GraphQL libraries.
		{file: "graph/good/good.go", imports: []string{m + "/application", m + "/ports", m + "/domain/other", m + "/graph"}},
		{file: "graph/badadapter/bad.go", imports: []string{m + "/adapters/postgres"}, bad: true},
		{file: "graph/badinternal/bad.go", imports: []string{m + "/internal/pgembed"}, bad: true},
		{file: "graph/badthirdparty/bad.go", imports: []string{"github.com/jackc/pgx/v5"}, bad: true},
		// graph tests: also gomock.
		{file: "graph/goodtest/good_test.go", imports: []string{m + "/ports/mocks", "go.uber.org/mock/gomock"}},
		{file: "graph/badtest/bad_test.go", imports: []string{m + "/adapters/postgres"}, bad: true},

		// internal/config: no adapter; leaf packages of internal/ are fine.
		{file: "internal/config/good.go", imports: []string{m + "/internal/schedule"}},
		{file: "internal/config/bad/bad.go", imports: []string{m + "/adapters/" + adapters[0]}, bad: true},
	}
	// No adapter imports another adapter or graph/; its own subpackages are
	// fine. One case per folder of adapters/, so a new adapter without its
	// rule fails this test.
	for i, a := range adapters {
		other := adapters[(i+1)%len(adapters)]
		cases = append(cases,
			importCase{file: "adapters/" + a + "/good/good.go", imports: []string{m + "/adapters/" + a, m + "/adapters/" + a + "/sub", m + "/ports", m + "/application"}},
			importCase{file: "adapters/" + a + "/badadapter/bad.go", imports: []string{m + "/adapters/" + other}, bad: true},
			importCase{file: "adapters/" + a + "/badtest/bad_test.go", imports: []string{m + "/adapters/" + other}, bad: true},
			importCase{file: "adapters/" + a + "/badgraph/bad.go", imports: []string{m + "/graph"}, bad: true},
		)
	}
	return cases
}

// TestLintRuleFailsOnBadImports writes a scratch module with the project's
// lint configuration, stand-ins for the packages, and the files of
// lintCases, then runs golangci-lint with depguard alone: every bad file must
// be reported, and no good one. Third-party modules are local stubs, so the
// test needs no network.
func TestLintRuleFailsOnBadImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs golangci-lint; skipped with -short")
	}
	t.Parallel()
	root := repoRoot(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(root, ".golangci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	adapters := adapterFolders(t, root)
	stub := func(pkg string) string { return "// Package " + pkg + " is a stand-in.\npackage " + pkg + "\n" }
	files := map[string]string{
		".golangci.yml": string(cfg),
		"go.mod": "module " + module + "\n\ngo 1.26\n\n" +
			"require (\n\tgithub.com/jackc/pgx/v5 v5.0.0\n\tgo.uber.org/mock v0.0.0\n\tpgregory.net/rapid v0.0.0\n)\n\n" +
			"replace github.com/jackc/pgx/v5 => ./_stubs/pgx\n\n" +
			"replace go.uber.org/mock => ./_stubs/mock\n\n" +
			"replace pgregory.net/rapid => ./_stubs/rapid\n",
		"_stubs/pgx/go.mod":             "module github.com/jackc/pgx/v5\n\ngo 1.26\n",
		"_stubs/pgx/pgx.go":             stub("pgx"),
		"_stubs/mock/go.mod":            "module go.uber.org/mock\n\ngo 1.26\n",
		"_stubs/mock/gomock/gomock.go":  stub("gomock"),
		"_stubs/rapid/go.mod":           "module pgregory.net/rapid\n\ngo 1.26\n",
		"_stubs/rapid/rapid.go":         stub("rapid"),
		"domain/other/other.go":         stub("other"),
		"ports/ports.go":                stub("ports"),
		"application/application.go":    stub("application"),
		"graph/graph.go":                stub("graph"),
		"internal/pgembed/pgembed.go":   stub("pgembed"),
		"internal/schedule/schedule.go": stub("schedule"),
	}
	for _, a := range adapters {
		files["adapters/"+a+"/"+a+".go"] = stub(a)
		files["adapters/"+a+"/sub/sub.go"] = stub("sub")
	}
	cases := lintCases(adapters)
	for _, c := range cases {
		if _, dup := files[c.file]; dup {
			t.Fatalf("case %s overwrites a stand-in", c.file)
		}
		files[c.file] = c.source()
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
	cmd := exec.CommandContext(t.Context(), "go", "tool", "-modfile="+filepath.Join(root, "tools", "go.mod"),
		"golangci-lint", "run", "--allow-parallel-runners", "--enable-only", "depguard",
		"--max-issues-per-linter", "0", "--max-same-issues", "0", "--output.text.path", "stdout", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := out.String()
	t.Logf("lint output:\n%s", text)
	if err == nil {
		t.Fatal("golangci-lint passed a tree with bad imports")
	}
	if strings.Contains(text, "typecheck") || strings.Contains(text, "level=error") {
		t.Fatal("the scratch module does not load; a good file might go unreported for that reason")
	}
	for _, c := range cases {
		reported := strings.Contains(text, c.file+":")
		switch {
		case c.bad && !reported:
			t.Errorf("lint did not report %s, which imports %v", c.file, c.imports)
		case !c.bad && reported:
			t.Errorf("lint reported %s, which imports only allowed packages %v", c.file, c.imports)
		}
	}
}

package graph_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph"
)

// TestGraphQLOverHTTPAudit runs the graphql-http package's server audits
// (GraphQL over HTTP conformance) against /graphql with the production
// limits, served in-process. It needs
// Node; it installs the pinned audit package (scripts/graphql-http-audit,
// package-lock.json) with npm ci when it is not installed yet.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the graphql-http audit needs Node 20+ and npm (make graphql-audit)")
	}
	dir := filepath.Join("..", "scripts", "graphql-http-audit")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-http")); errors.Is(err, os.ErrNotExist) {
		npm := exec.CommandContext(t.Context(), "npm", "ci", "--no-audit", "--no-fund")
		npm.Dir = dir
		if out, err := npm.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	tiers, err := application.NewListMembershipTiers(fixedTiers{{ID: "community", Name: "Community"}})
	if err != nil {
		t.Fatal(err)
	}
	app := &application.App{Queries: application.Queries{ListMembershipTiers: tiers}}
	// The audit asks __type(name:) in two audits. Production refuses all
	// introspection, so it is audited twice: with introspection on, every
	// audit passes; with it off (production as shipped), exactly those two
	// fail, and for that reason only.
	for _, tc := range []struct {
		name          string
		introspection bool
		wantErrors    []string
	}{
		{"production limits, introspection on", true, nil},
		{"production as shipped", false, []string{"BF61", "28B9"}},
	} {
		srv := httptest.NewServer(graph.NewHandler(app, graph.Options{Introspection: tc.introspection, Logger: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		cmd := exec.CommandContext(t.Context(), node, "audit.mjs", srv.URL+"/graphql")
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		runErr := cmd.Run()
		t.Logf("graphql-http audit, %s:\n%s", tc.name, out.String())
		if !regexp.MustCompile(`summary ok=\d+ notice=\d+ warn=\d+ error=\d+`).Match(out.Bytes()) {
			t.Fatalf("%s: no audit summary (exit: %v)", tc.name, runErr)
		}
		var failed []string
		for _, m := range regexp.MustCompile(`(?m)^error\s+(\S+)\s`).FindAllStringSubmatch(out.String(), -1) {
			failed = append(failed, m[1])
		}
		if !slices.Equal(failed, tc.wantErrors) {
			t.Errorf("%s: audits in error = %v, want %v", tc.name, failed, tc.wantErrors)
		}
	}
}

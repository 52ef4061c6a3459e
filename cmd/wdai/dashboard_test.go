package main

// deploy/: the Grafana dashboard is valid against Grafana's dashboard model
// (the Foundation SDK's strict decoder and validation), and every metric the
// dashboard and the Prometheus rules query is one /metrics exports.

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/ports"
)

// exportedMetrics serves /metrics of a system with a job run, a waiting
// inbox row and one answered request behind it, and returns the metric
// names it lists.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	h := newHealthHarness(t, ports.SystemClock{})
	if _, err := h.pool.Exec(t.Context(), `
		INSERT INTO job_runs (job, slot, trigger, status, finished_at) VALUES ('slack_sync', now(), 'cron', 'completed', now());
		INSERT INTO billing_inbox (event_id, type, created, payload, source) VALUES ('evt_1', 'invoice.paid', now(), '{}', 'webhook')`); err != nil {
		t.Fatal(err)
	}
	migrator, err := postgres.NewMigrator(h.pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = migrator.Close() })
	public, metrics, err := buildHTTPAndMetrics(h.sys, migrator)
	if err != nil {
		t.Fatal(err)
	}
	public.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/healthz", nil))
	rec := httptest.NewRecorder()
	metrics.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	names := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			names[f[2]] = true
			if f[3] == "histogram" {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					names[f[2]+s] = true
				}
			}
		}
	}
	return names
}

var metricName = regexp.MustCompile(`\b(wdai_[a-z0-9_]+|http_[a-z0-9_]+)\b`)

// queried returns the metric names in exprs.
func queried(exprs []string) []string {
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, m := range metricName.FindAllString(e, -1) {
			seen[m] = true
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// exprsIn collects every "expr" string of a decoded JSON document.
func exprsIn(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "expr" {
				*out = append(*out, s)
			}
			exprsIn(val, out)
		}
	case []any:
		for _, val := range x {
			exprsIn(val, out)
		}
	}
}

// grafanaDashboard is Grafana's classic dashboard JSON model, the one its
// import and file provisioning read (the SDK marks it deprecated in favour
// of the newer v2 resource schema).
type grafanaDashboard = dashboard.Dashboard //nolint:staticcheck // see above

// strictDashboard decodes raw into d, refusing unknown and missing fields.
// The SDK returns its error list even when it is empty (a non-nil error
// holding no error), so an empty list is success.
func strictDashboard(d *grafanaDashboard, raw []byte) error {
	err := d.UnmarshalJSONStrict(raw)
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err //nolint:wrapcheck // the test prints it
}

func TestDashboardModelRefusesWhatGrafanaWould(t *testing.T) {
	t.Parallel()
	plugins.RegisterDefaultPlugins()
	for name, raw := range map[string]string{
		"unknown field":   `{"title": "x", "panelz": []}`,
		"title of a type": `{"title": 7}`,
		"panel options":   `{"title": "x", "panels": [{"type": "stat", "id": 1, "title": "s", "options": {}}]}`,
	} {
		var d grafanaDashboard
		if err := strictDashboard(&d, []byte(raw)); err == nil {
			t.Errorf("%s: %s was accepted", name, raw)
		}
	}
}

func TestDashboardIsAValidGrafanaDashboardOverExportedMetrics(t *testing.T) {
	t.Parallel()
	plugins.RegisterDefaultPlugins()
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "grafana", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana (%v)", err)
	}
	exported := exportedMetrics(t)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d grafanaDashboard
		if err := strictDashboard(&d, raw); err != nil {
			t.Fatalf("%s does not match Grafana's dashboard model: %v", f, err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var doc any
		_ = json.Unmarshal(raw, &doc)
		var exprs []string
		exprsIn(doc, &exprs)
		if len(d.Panels) < 10 || len(exprs) < 10 {
			t.Fatalf("%s has %d panels and %d queries; want the health view's (states, jobs, webhooks, dead letters, breakers, rate limits)", f, len(d.Panels), len(exprs))
		}
		for _, m := range queried(exprs) {
			if !exported[m] {
				t.Errorf("%s queries %s, which /metrics does not export", filepath.Base(f), m)
			}
		}
		t.Logf("%s: %d panels, %d queries over %v", filepath.Base(f), len(d.Panels), len(exprs), queried(exprs))
	}
}

func TestAlertRulesPassPromtoolOverExportedMetrics(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "deploy", "prometheus", "wdai-alerts.yml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The expressions: "expr: ..." lines and the block lines under "expr: |".
	var exprs []string
	block := false
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "expr: |"):
			block = true
		case strings.HasPrefix(trimmed, "expr:"):
			exprs, block = append(exprs, strings.TrimPrefix(trimmed, "expr:")), false
		case block && strings.HasPrefix(line, "          "):
			exprs = append(exprs, trimmed)
		default:
			block = false
		}
	}
	exported := exportedMetrics(t)
	names := queried(exprs)
	if len(names) < 5 {
		t.Fatalf("the rules query %v; want every threshold's metric", names)
	}
	for _, m := range names {
		if !exported[m] {
			t.Errorf("the rules query %s, which /metrics does not export", m)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); the metric names were checked")
	}
	out, err := exec.CommandContext(t.Context(), promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
}

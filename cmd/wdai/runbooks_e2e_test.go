package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/testdb"
)

// runbookCommands returns the lines of a page's ```sh blocks.
func runbookCommands(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.TrimSpace(line) == "```sh":
			in = true
		case strings.TrimSpace(line) == "```":
			in = false
		case in && strings.TrimSpace(line) != "":
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// TestRunbookCommandsRun runs every command every runbook names, with the
// built binary, against a test database: each must exist and succeed.
// There is a page per alert measure and per row of the compensation table.
func TestRunbookCommandsRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "docs", "runbooks")
	pages, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stripe-webhook-missed.md", "mailchimp-sync-failed.md", "luma-api-timeout.md", "slack-rate-limited.md", "database-connection-lost.md"}
	for _, m := range []string{application.MeasureWebhookSuccessRate, application.MeasureJobFailureRate, application.MeasureAPIP95,
		application.MeasureOpenDeadLetters, application.MeasureRateLimitHits} {
		want = append(want, "alert-"+m+".md")
	}
	for _, w := range want {
		if _, err := os.Stat(filepath.Join(dir, w)); err != nil {
			t.Errorf("no runbook %s", w)
		}
	}
	dbURL := testdb.NewURL(t)
	ran := 0
	for _, page := range pages {
		if filepath.Base(page) == "README.md" {
			continue
		}
		cmds := runbookCommands(t, page)
		if len(cmds) == 0 {
			t.Errorf("%s names no command in an sh block", page)
		}
		for _, c := range cmds {
			args := strings.Fields(c)
			if args[0] != "wdai" {
				t.Errorf("%s: %q is not a wdai command", page, c)
				continue
			}
			out, err := runCLI(t, dbURL, args[1:]...)
			if err != nil {
				t.Errorf("%s: %q failed: %v\n%s", filepath.Base(page), c, err, out)
			}
			ran++
		}
	}
	t.Logf("%d runbooks, %d commands run", len(pages)-1, ran)
}

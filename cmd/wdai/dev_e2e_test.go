package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWdaiDevSimulatesCheckout runs `wdai dev` (stand-ins on loopback, the
// embedded database) and `wdai dev simulate checkout` beside it: the
// Stripe stand-in's signed webhooks are accepted, the membership becomes
// active, and the report lists the webhooks and the calls Stripe and
// Mailchimp received (the welcome journey among them), which the server
// also logs. GraphiQL comes with a development sign-in header; `wdai dev`
// is refused in production.
func TestWdaiDevSimulatesCheckout(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	if err := os.Chmod(dataDir, 0o755); err != nil { //nolint:gosec // as root, the postgres account must reach the cluster
		t.Fatal(err)
	}
	dev := start(t, map[string]string{"WDAI_DATA_DIR": dataDir}, "dev")
	dev.waitReady(t, 90*time.Second)
	var info struct{ URL, Base string }
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dataDir, "dev.json"))
		if err == nil && json.Unmarshal(b, &info) == nil && info.URL != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dev.json:\n%s", dev.output())
		}
		time.Sleep(100 * time.Millisecond)
	}

	resp, err := httpGet(t, "http://"+dev.addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `Bearer wdaidev_`) {
		t.Errorf("GraphiQL has no prefilled development sign-in (%d)", resp.StatusCode)
	}

	cmd := exec.CommandContext(t.Context(), wdaiBin, "dev", "simulate", "checkout", "--email", "ada@example.com")
	cmd.Env = append(baseEnv(), "WDAI_DATA_DIR="+dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("simulate checkout: %v\n%s\nserver:\n%s", err, out, dev.output())
	}
	for _, want := range []string{
		"webhook sent: stripe checkout.session.completed", "status=active",
		"stripe    GET    /v1/subscriptions/", "mailchimp PUT    /3.0/lists/devlist/members/",
		"journeys/dev_welcome/steps/dev_welcome_step/actions/trigger -> 204",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("simulate checkout output lacks %q:\n%s", want, out)
		}
	}
	if log := dev.output(); !strings.Contains(log, `"msg":"provider call","provider":"mailchimp"`) ||
		!strings.Contains(log, `"msg":"stand-in sent a webhook","provider":"stripe"`) {
		t.Errorf("the server log shows no provider call or webhook:\n%s", log)
	}
	dev.stop(t, syscall.SIGINT)
	if _, err := os.Stat(filepath.Join(dataDir, "dev.json")); !os.IsNotExist(err) {
		t.Errorf("dev.json left behind (stat: %v)", err)
	}

	refused := exec.CommandContext(t.Context(), wdaiBin, "dev")
	refused.Env = append(baseEnv(), "WDAI_ENV=production", "DATABASE_URL=postgres://127.0.0.1:1/x", "WDAI_DATA_DIR="+dataDir)
	if out, err := refused.CombinedOutput(); err == nil || !strings.Contains(string(out), "development only") {
		t.Errorf("wdai dev in production: %v\n%s", err, out)
	}
}

package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/luma/lumafake"
)

// TestWdaiDevSimulatesCheckout runs `wdai dev` (stand-ins on loopback, the
// embedded database) and `wdai dev simulate checkout` beside it: the
// Stripe stand-in's signed webhooks are accepted, the membership becomes
// active, and the report lists the webhooks and the calls Stripe and
// Mailchimp received (the welcome journey among them), which the server
// also logs. GraphiQL comes with a development sign-in header; the Luma
// webhook is configured (checkDevLumaWebhook); `wdai dev` is refused in
// production.
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
	checkDevLumaWebhook(t, dev, dataDir)
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

// checkDevLumaWebhook is the Luma part of TestWdaiDevSimulatesCheckout,
// on its running `wdai dev` after Ada's checkout: dev.json holds a Luma
// signing secret of the form the config accepts; /webhooks/luma answers
// 200 to a guest.registered signed with it and 400 to a bad signature;
// after a leader creates an event, `wdai dev simulate rsvp-webhook` gets
// Ada, a member, approved at the stand-in through the webhook (no run of
// the approval job), which the audit log, read over GraphQL, shows.
func checkDevLumaWebhook(t *testing.T, dev *process, dataDir string) {
	t.Helper()
	path := filepath.Join(dataDir, "dev.json")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dev.json: %v, mode %v, want 0600", err, fi)
	}
	b, err := os.ReadFile(path) //nolint:gosec // the test's own data folder
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Base   string
		Secret string `json:"luma_webhook_secret"`
	}
	if err := json.Unmarshal(b, &info); err != nil || info.Base == "" {
		t.Fatalf("dev.json: %v %+v", err, info)
	}
	if key, err := luma.WebhookKey(info.Secret); err != nil || len(key) < 16 {
		t.Fatalf("the dev Luma webhook secret is not whsec_ and base64 of at least 16 bytes: %v", err)
	}

	// A registration for an event the platform did not create: accepted
	// and stored (then ignored by the worker).
	body := []byte(`{"type":"guest.registered","data":{"id":"gst-devcheck","user_email":"someone@example.com",` +
		`"approval_status":"pending_approval","event":{"id":"evt-not-ours"}}}`)
	url := info.Base + "webhooks/luma"
	h, err := lumafake.SignWebhook(info.Secret, lumafake.NewDeliveryID(), time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	if status, err := lumafake.Deliver(t.Context(), url, body, h); err != nil || status != http.StatusOK {
		t.Errorf("signed guest.registered: %d, %v; want 200\n%s", status, err, dev.output())
	}
	bad, err := lumafake.SignWebhook("whsec_"+strings.Repeat("A", 32), lumafake.NewDeliveryID(), time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	if status, err := lumafake.Deliver(t.Context(), url, body, bad); err != nil || status != http.StatusBadRequest {
		t.Errorf("guest.registered signed with another secret: %d, %v; want 400", status, err)
	}

	token := devCLI(t, dataDir, "dev", "token", "--email", "grace@example.com", "--role", "leader")
	day := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	created := postGraphQL(t, dev.addr, strings.TrimSpace(token), map[string]any{"query": fmt.Sprintf(
		`mutation { createEvent(input: {idempotencyKey: "dev-luma", name: "Dev meetup", startAt: %q, endAt: %q, timeZone: "Europe/Berlin", capacity: 40}) { id } }`,
		day.Format(time.RFC3339), day.Add(2*time.Hour).Format(time.RFC3339))})
	if created.Status != http.StatusOK || len(created.Errors) != 0 || created.Data["createEvent"] == nil {
		t.Fatalf("createEvent: %+v", created)
	}

	out := devCLI(t, dataDir, "dev", "simulate", "rsvp-webhook", "--email", "ada@example.com")
	for _, want := range []string{"webhook sent: luma guest.registered msg_", "-> 200", "guest inbox: processed",
		"decision: approve", "guest status at luma: approved", "luma      POST   " + luma.PathUpdateStatus + " -> 200", "auditLog"} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate rsvp-webhook output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "job luma_approval") {
		t.Errorf("simulate rsvp-webhook ran the approval job:\n%s", out)
	}
	audit := postGraphQL(t, dev.addr, strings.TrimSpace(token), map[string]any{
		"query": `{ auditLog(first: 5, filter: {action: "rsvp.approve"}) { edges { node { action outcome details } } } }`})
	if raw, _ := json.Marshal(audit.Data); !strings.Contains(string(raw), `\"run\":\"webhook:msg_`) {
		t.Errorf("no rsvp.approve by a webhook run in the audit log: %s %+v", raw, audit.Errors)
	}
}

// devCLI runs wdai beside the running `wdai dev` and returns its stdout.
func devCLI(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), wdaiBin, args...)
	cmd.Env = append(baseEnv(), "WDAI_DATA_DIR="+dataDir)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wdai %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/alert"
	"github.com/womendefiningai/platform/ports"
)

// leaky is an alert whose every part carries something that must not leave.
var leaky = ports.Alert{
	Severity: ports.SeverityCritical,
	Title:    "Mailchimp sync failed for jane.doe@example.org",
	Detail:   "upsert member Jane.Doe@Example.org: 401 with key sk_live_abc123XYZ and Bearer eyJhbGciOi.x.y; db postgres://app:hunter2@db:5432/app",
	Fields: map[string]string{
		"dead_letter_id": "7d9f0d3e-0000-4000-8000-000000000001",
		"payload":        `{"email":"jane.doe@example.org"}`,
		"email":          "jane.doe@example.org",
		"reason":         "slack token xoxb-1234-abcd rejected; webhook https://hooks.slack.com/services/T0/B0/sekret",
		"api_key":        "0123456789abcdef0123456789abcdef-us21",
	},
}

var mustNotLeak = []string{
	"jane.doe", "Jane.Doe", "example.org", "sk_live_abc123XYZ", "eyJhbGciOi", "hunter2",
	"xoxb-1234-abcd", "hooks.slack.com", "sekret", "0123456789abcdef0123456789abcdef",
}

func assertNoLeak(t *testing.T, got string) {
	t.Helper()
	for _, s := range mustNotLeak {
		if strings.Contains(got, s) {
			t.Errorf("alert output leaks %q:\n%s", s, got)
		}
	}
}

func TestSlackPostsTextWithoutSecrets(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		reqs []*http.Request
		body []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, r)
		body = b
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()

	s, err := alert.NewSlack(srv.URL+"/services/T0/B0/secret", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Alert(context.Background(), leaky); err != nil {
		t.Fatalf("Alert: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.URL.Path != "/services/T0/B0/secret" {
		t.Errorf("request = %s %s, want POST /services/T0/B0/secret", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	text, ok := msg["text"].(string)
	if !ok || len(msg) != 1 {
		t.Fatalf(`body = %s, want exactly {"text": "..."}`, body)
	}
	for _, want := range []string{"CRITICAL", "Mailchimp sync failed", "dead_letter_id", "7d9f0d3e-0000-4000-8000-000000000001"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	assertNoLeak(t, string(body))
}

func TestSlackReportsFailureWithoutTheWebhookURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid_token", http.StatusForbidden)
	}))
	defer srv.Close()
	s, err := alert.NewSlack(srv.URL+"/services/T0/B0/secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Alert(context.Background(), ports.Alert{Title: "x"})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v, want one naming status 403", err)
	}

	// A transport error must not quote the URL either.
	srv.Close()
	err = s.Alert(context.Background(), ports.Alert{Title: "x"})
	if err == nil {
		t.Fatal("Alert to a closed server succeeded")
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "/services/") {
		t.Errorf("error leaks the webhook URL: %v", err)
	}
}

func TestSlackHonoursContextDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, err := alert.NewSlack(srv.URL, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Alert(ctx, ports.Alert{Title: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Alert took %v", d)
	}
}

func TestNewSlackRejectsBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "hooks.slack.com/services/x", "ftp://example.com/x", "https://"} {
		if _, err := alert.NewSlack(u, nil); err == nil {
			t.Errorf("NewSlack(%q) succeeded", u)
		}
	}
}

func TestLogWritesScrubbedStructuredAlert(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := alert.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	if err := l.Alert(context.Background(), leaky); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, buf.String())
	}
	if rec["level"] != "ERROR" {
		t.Errorf("level = %v, want ERROR for a critical alert", rec["level"])
	}
	if msg, _ := rec["msg"].(string); !strings.HasPrefix(msg, "alert: Mailchimp sync failed") {
		t.Errorf("msg = %q", msg)
	}
	fields, _ := rec["fields"].(map[string]any)
	if fields["dead_letter_id"] != "7d9f0d3e-0000-4000-8000-000000000001" {
		t.Errorf("fields = %v, want dead_letter_id kept", fields)
	}
	assertNoLeak(t, buf.String())
}

func TestLogLevelsFollowSeverity(t *testing.T) {
	t.Parallel()
	for sev, want := range map[ports.Severity]string{
		ports.SeverityInfo:     "INFO",
		ports.SeverityWarning:  "WARN",
		ports.SeverityCritical: "ERROR",
		"":                     "WARN",
	} {
		var buf bytes.Buffer
		_ = alert.NewLog(slog.New(slog.NewJSONHandler(&buf, nil))).Alert(context.Background(), ports.Alert{Severity: sev, Title: "t"})
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["level"] != want {
			t.Errorf("severity %q logged at %v, want %s", sev, rec["level"], want)
		}
	}
}

type recorder struct {
	got []ports.Alert
	err error
}

func (r *recorder) Alert(_ context.Context, a ports.Alert) error {
	r.got = append(r.got, a)
	return r.err
}

func TestFanoutReachesEveryAlerterDespiteFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("slack down")
	a, b := &recorder{err: boom}, &recorder{}
	err := alert.Fanout{a, b}.Alert(context.Background(), ports.Alert{Title: "t"})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the failing alerter's error", err)
	}
	if len(a.got) != 1 || len(b.got) != 1 {
		t.Errorf("alerts delivered: %d and %d, want 1 each", len(a.got), len(b.got))
	}
}

// An outage of the alert webhook is transient, so whatever raised the alert
// is retried with back-off instead of being dead-lettered in a second; a
// refusal of the request itself is not.
func TestSlackOutageIsTransient(t *testing.T) {
	t.Parallel()
	status := http.StatusInternalServerError
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	s, err := alert.NewSlack(srv.URL+"/services/T0/B0/secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	set := func(code int) {
		mu.Lock()
		status = code
		mu.Unlock()
	}
	if err := s.Alert(context.Background(), ports.Alert{Title: "x"}); !ports.IsTransient(err) {
		t.Errorf("500: err = %v, want transient", err)
	}
	set(http.StatusTooManyRequests)
	err = s.Alert(context.Background(), ports.Alert{Title: "x"})
	if tr, ok := ports.AsTransient(err); !ok || tr.RetryAfter != 7*time.Second {
		t.Errorf("429: err = %v, want transient with Retry-After 7s", err)
	}
	set(http.StatusBadRequest)
	if err := s.Alert(context.Background(), ports.Alert{Title: "x"}); err == nil || ports.IsTransient(err) {
		t.Errorf("400: err = %v, want a failure that is not transient", err)
	}
	srv.Close()
	if err := s.Alert(context.Background(), ports.Alert{Title: "x"}); !ports.IsTransient(err) {
		t.Errorf("refused connection: err = %v, want transient", err)
	}
}

package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/ports"
)

// SlackWebhookEnv names the variable that holds the Slack incoming-webhook
// URL. The URL is a secret: it never appears in errors or logs.
const SlackWebhookEnv = "ALERT_SLACK_WEBHOOK_URL"

// alertProvider names the alert webhook in transient errors.
const alertProvider = "alert"

// defaultSlackTimeout bounds one webhook call when the client has no timeout.
const defaultSlackTimeout = 5 * time.Second

// Slack posts alerts to a Slack incoming webhook as {"text": ...}.
type Slack struct {
	url    string
	client *http.Client
}

var _ ports.Alerter = (*Slack)(nil)

// NewSlack returns an alerter posting to webhookURL with client (nil means a
// client with a 5s timeout).
func NewSlack(webhookURL string, client *http.Client) (*Slack, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("alert: %s is not an http(s) URL", SlackWebhookEnv)
	}
	if client == nil {
		client = &http.Client{Timeout: defaultSlackTimeout}
	}
	return &Slack{url: webhookURL, client: client}, nil
}

// Alert posts a, scrubbed. A non-2xx answer is an error.
func (s *Slack) Alert(ctx context.Context, a ports.Alert) error {
	body, err := json.Marshal(map[string]string{"text": slackText(scrub(a))})
	if err != nil {
		return fmt.Errorf("alert: slack: encode: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok && s.client.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultSlackTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("alert: slack: cannot build the webhook request")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which is the secret: keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		// A refused or timed-out post is worth retrying later, with back-off,
		// rather than as an ordinary failure of whatever raised the alert.
		return breaker.NetworkTransient(alertProvider, fmt.Errorf("alert: slack: post: %w", err))
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if breaker.StatusTransient(resp.StatusCode) {
		return ports.Transient(alertProvider, fmt.Errorf("alert: slack: webhook answered %d", resp.StatusCode),
			breaker.RetryAfter(resp.Header, time.Now()))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("alert: slack: webhook answered %d", resp.StatusCode)
	}
	return nil
}

var severityEmoji = map[ports.Severity]string{
	ports.SeverityInfo:     ":information_source:",
	ports.SeverityWarning:  ":warning:",
	ports.SeverityCritical: ":rotating_light:",
}

// slackText renders an alert as Slack mrkdwn.
func slackText(a ports.Alert) string {
	var b strings.Builder
	if e := severityEmoji[a.Severity]; e != "" {
		b.WriteString(e + " ")
	}
	fmt.Fprintf(&b, "*[%s] %s*", strings.ToUpper(string(a.Severity)), escapeSlack(a.Title))
	if a.Detail != "" {
		b.WriteString("\n" + escapeSlack(a.Detail))
	}
	for _, k := range sortedKeys(a.Fields) {
		fmt.Fprintf(&b, "\n• %s: `%s`", escapeSlack(k), strings.ReplaceAll(escapeSlack(oneLine(a.Fields[k])), "`", "'"))
	}
	return b.String()
}

// escapeSlack escapes the three characters Slack treats as control
// sequences.
func escapeSlack(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

package mailchimp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/womendefiningai/platform/internal/breaker"
)

// Error is a non-2xx answer from Mailchimp, decoded from its
// application/problem+json body {type, title, status, detail, instance}.
// Detail has email addresses masked (and the API key removed), so Error()
// is safe to log.
type Error struct {
	Status   int    // HTTP status of the answer
	Title    string // "Member In Compliance State", "Resource Not Found", ...
	Detail   string // the human-readable explanation, emails masked
	Type     string // the problem type URI
	Instance string // Mailchimp's id of this occurrence, for its support

	noBody bool // the answer had no body (a 403 so is the connection limit)

	retryAfter time.Duration // the answer's Retry-After, if any
}

// Error returns "status 400 Invalid Resource: detail".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %d", e.Status)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Retryable reports whether sending the same request later may succeed:
//
//	429, 408, 5xx          retryable (rate, connection limit, Mailchimp trouble)
//	403 with no body       retryable (Mailchimp's connection-limit answer)
//	other 4xx (400, 401,   permanent (the request, key or resource is wrong)
//	  403 with a body, 404, 405, 422, ...), and 1xx/3xx
//
// Timeouts and network errors are not *Error; the client returns them as
// retryable.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout:
		return true
	case e.Status >= 500:
		return true
	case e.Status == http.StatusForbidden && e.noBody:
		return true
	default:
		return false
	}
}

// ComplianceState reports whether this is Mailchimp's "Member In
// Compliance State" answer: the address unsubscribed, bounced or is under
// compliance review and cannot be subscribed through the API.
func (e *Error) ComplianceState() bool {
	return e.Status == http.StatusBadRequest &&
		(strings.EqualFold(e.Title, "Member In Compliance State") ||
			strings.Contains(strings.ToLower(e.Detail), "compliance state"))
}

// problem is the wire form of an error body.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

// apiError builds the *Error for a non-2xx answer.
func (c *Client) apiError(resp *http.Response) *Error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &Error{Status: resp.StatusCode, retryAfter: breaker.RetryAfter(resp.Header, time.Now())}
	if len(bytes.TrimSpace(raw)) == 0 {
		e.noBody = true
		e.Title = http.StatusText(resp.StatusCode)
		if resp.StatusCode == http.StatusForbidden {
			e.Title = "Forbidden (no body: connection limit)"
		}
		return e
	}
	var p problem
	if err := json.Unmarshal(raw, &p); err != nil || (p.Title == "" && p.Detail == "") {
		// Not a problem document (a proxy's HTML page, say): keep only the
		// status, never the unknown body.
		e.Title = http.StatusText(resp.StatusCode)
		return e
	}
	e.Title = c.redact(p.Title)
	e.Detail = c.redact(p.Detail)
	e.Type = p.Type
	e.Instance = p.Instance
	return e
}

// emailAddress matches an email address (its domain need not have a dot),
// capturing the first character of its local part and its domain.
var emailAddress = regexp.MustCompile("([" + atext + "])[" + atext + "]*@([A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*)")

// atext is the characters of an address's local part (RFC 5322), and dots.
const atext = `A-Za-z0-9!#$%&'*+/=?^_{|}~.\-` + "`"

// mailchimpKey matches anything shaped like a Mailchimp API key.
var mailchimpKey = regexp.MustCompile(`\b[0-9a-f]{32}-[a-z]{2,}[0-9]+\b`)

// redact masks email addresses ("j***@example.com") and removes the API key
// from text Mailchimp wrote.
func (c *Client) redact(s string) string {
	if c.key != "" {
		s = strings.ReplaceAll(s, c.key, "[redacted]")
	}
	s = mailchimpKey.ReplaceAllString(s, "[redacted]")
	return maskEmails(s)
}

// maskEmails masks every email address in s as "j***@example.com".
func maskEmails(s string) string {
	return emailAddress.ReplaceAllString(s, "$1***@$2")
}

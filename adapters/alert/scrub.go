// Package alert implements ports.Alerter: a structured log alerter (Log) and
// a Slack incoming-webhook alerter (Slack), and Fanout to use both.
//
// Alerts must not carry payloads, email addresses or secrets. Callers name
// things by id; as a second line of defence every alerter here drops fields
// whose names suggest secrets or personal data and masks email addresses,
// provider keys, bearer tokens, URLs with credentials and webhook URLs in
// the text it sends.
package alert

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/womendefiningai/platform/ports"
)

const redacted = "[redacted]"

var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)[A-Z0-9._%+\-]+@[A-Z0-9.\-]+\.[A-Z]{2,}`),           // email addresses
	regexp.MustCompile(`\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+`),             // Stripe keys
	regexp.MustCompile(`\bwhsec_[A-Za-z0-9]+`),                                  // Stripe webhook secrets
	regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]+`),                           // Slack tokens
	regexp.MustCompile(`https://hooks\.slack\.com/\S+`),                         // Slack webhook URLs
	regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+`),                   // bearer tokens
	regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://[^\s/:@]+:[^\s/@]+@`),        // URLs with user:password@
	regexp.MustCompile(`(?i)\b(?:api[_-]?key|token|secret|password)=[^\s&"']+`), // key=value secrets
	regexp.MustCompile(`\b[0-9a-f]{32}-us[0-9]{1,2}\b`),                         // Mailchimp keys
}

// sensitiveField matches field names whose values must never leave.
var sensitiveField = regexp.MustCompile(`(?i)payload|body|email|e-mail|token|secret|password|passwd|api[_-]?key|authorization|cookie|metadata`)

// scrubText masks anything in s that looks like personal data or a secret.
func scrubText(s string) string {
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, redacted)
	}
	return s
}

// scrub returns a copy of a that is safe to send.
func scrub(a ports.Alert) ports.Alert {
	out := ports.Alert{
		Severity: a.Severity,
		Title:    scrubText(a.Title),
		Detail:   scrubText(a.Detail),
	}
	if len(a.Fields) > 0 {
		out.Fields = make(map[string]string, len(a.Fields))
		for k, v := range a.Fields {
			if sensitiveField.MatchString(k) {
				out.Fields[k] = redacted
				continue
			}
			out.Fields[k] = scrubText(v)
		}
	}
	if out.Severity == "" {
		out.Severity = ports.SeverityWarning
	}
	return out
}

// sortedKeys gives fields a stable order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// oneLine keeps a field value on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

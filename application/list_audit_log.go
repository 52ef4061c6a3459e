package application

import (
	"context"
	"strings"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// Page sizes of the audit log.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 200
)

// ListAuditLogInput selects a page of the audit log, newest first. Filter
// fields left empty select everything; an Action ending in "." is a prefix
// ("rsvp." for every RSVP decision).
type ListAuditLogInput struct {
	First  int // 1..MaxAuditPage; 0 means DefaultAuditPage
	After  string
	Filter ports.AuditFilter
}

// ListAuditLog lets leaders and operators read the audit log (the approval
// job's decisions among it). Needs audit:read; what part is readable is the
// domain's access.AuditViewFor (leaders: event.* and rsvp.* only). Without
// members:read:pii the details lose every value that holds an email address.
type ListAuditLog struct {
	audit ports.AuditReader
}

// NewListAuditLog refuses a nil reader.
func NewListAuditLog(audit ports.AuditReader) (ListAuditLog, error) {
	if anyNil(audit) {
		return ListAuditLog{}, nilDependency("list audit log")
	}
	return ListAuditLog{audit: audit}, nil
}

// Handle returns one page.
func (h ListAuditLog) Handle(ctx context.Context, in ListAuditLogInput) (ports.AuditPage, error) {
	if err := requireScope(ctx, access.ScopeAuditRead, "reading the audit log"); err != nil {
		return ports.AuditPage{}, err
	}
	view := access.AuditViewFor(PrincipalFrom(ctx))
	first := in.First
	if first == 0 {
		first = DefaultAuditPage
	}
	if first < 1 || first > MaxAuditPage {
		return ports.AuditPage{}, invalid("first must be between 1 and %d", MaxAuditPage)
	}
	f := in.Filter
	f.After, f.Limit, f.OnlyPrefixes = in.After, first, view.Prefixes()
	page, err := h.audit.List(ctx, f)
	if err != nil {
		return ports.AuditPage{}, cursorError(err)
	}
	kept := page.Records[:0]
	for _, r := range page.Records { // the store filtered already; the policy has the last word
		if view.Allows(r.Action) {
			kept = append(kept, r)
		}
	}
	page.Records = kept
	if !access.Allows(PrincipalFrom(ctx), access.ScopeMembersReadPII) {
		for i := range page.Records {
			page.Records[i].Details = withoutEmails(page.Records[i].Details)
		}
	}
	return page, nil
}

// withoutEmails returns d with "[redacted]" for every string that holds an
// address, at any depth.
func withoutEmails(d map[string]any) map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		out[k] = redactValue(v)
	}
	return out
}

func redactValue(v any) any {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, "@") {
			return "[redacted]"
		}
		return t
	case map[string]any:
		return withoutEmails(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = redactValue(e)
		}
		return out
	default:
		return v
	}
}

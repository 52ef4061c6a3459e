package access

import "strings"

// auditOpenPrefixes are the audit actions anyone with audit:read may read:
// the events leaders create and the RSVP decisions on them. Their details
// hold our ids, Luma's event and guest ids and reasons; never billing or
// chat accounts.
var auditOpenPrefixes = []string{"event.", "rsvp."}

// AuditView is what part of the audit log a principal may read.
type AuditView struct {
	read bool
	all  bool
}

// AuditViewFor returns p's view of the audit log. Without audit:read it
// is nothing. Every other action (role changes, job runs, agent keys,
// erasures, billing and chat-account changes) carries external account
// ids, billing details or both, so reading it also needs the scopes that
// show those on a record: members:read:pii and billing:read (admins).
// Anyone else with audit:read (leaders) reads the event.* and rsvp.*
// actions only.
func AuditViewFor(p Principal) AuditView {
	if !p.Has(ScopeAuditRead) {
		return AuditView{}
	}
	return AuditView{read: true, all: p.Has(FieldExternalIDs.Requires()) && p.Has(FieldBilling.Requires())}
}

// CanRead reports whether any of the audit log is readable.
func (v AuditView) CanRead() bool { return v.read }

// All reports whether every action is readable.
func (v AuditView) All() bool { return v.read && v.all }

// Prefixes returns the action prefixes the view is limited to; nil when
// it is not limited (All) or reads nothing (see CanRead).
func (v AuditView) Prefixes() []string {
	if !v.read || v.all {
		return nil
	}
	return append([]string(nil), auditOpenPrefixes...)
}

// Allows reports whether an entry with action may be read.
func (v AuditView) Allows(action string) bool {
	if !v.read {
		return false
	}
	if v.all {
		return true
	}
	for _, p := range auditOpenPrefixes {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

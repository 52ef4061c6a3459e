package access

import (
	"errors"
	"fmt"
	"strings"
)

// ErrForbidden is the sentinel every MissingScopesError matches with
// errors.Is, so that one error presenter can map it to "forbidden".
var ErrForbidden = errors.New("access: forbidden")

// MissingScopesError says which required scopes a principal lacks.
// A caller that is anonymous (Principal.IsAnonymous) is better answered with
// "unauthenticated" than with this error's "forbidden"; that choice belongs to
// the driving adapter.
type MissingScopesError struct {
	Missing []Scope
}

func (e MissingScopesError) Error() string {
	return "access: missing scopes: " + strings.Join(scopeStrings(e.Missing), ", ")
}

// Unwrap lets errors.Is(err, ErrForbidden) match.
func (e MissingScopesError) Unwrap() error { return ErrForbidden }

// Allows reports whether p holds every required scope. No required scope
// means the operation is open to every caller, including the anonymous one.
func Allows(p Principal, required ...Scope) bool {
	return Authorize(p, required...) == nil
}

// Authorize returns nil when p holds every required scope, and otherwise a
// MissingScopesError listing the scopes it lacks, once each, in the order
// they were required.
func Authorize(p Principal, required ...Scope) error {
	var missing []Scope
	var seen scopeSet
	for _, s := range required {
		if p.Has(s) || seen.has(s) {
			continue
		}
		seen = seen.with(s)
		missing = append(missing, s)
	}
	if len(missing) == 0 {
		return nil
	}
	return MissingScopesError{Missing: missing}
}

// Field is a part of a person's record that some principals may not see.
type Field uint8

// The redactable fields.
const (
	FieldEmail       Field = iota + 1 // every email address of the person
	FieldExternalIDs                  // the person's ids at other services (identity, chat, billing customer)
	FieldBilling                      // subscriptions, payment attempts, period ends
	FieldAccess                       // why the person has access: their grants, who granted them and why
)

// AllFields returns every redactable field, in declaration order.
func AllFields() []Field { return []Field{FieldEmail, FieldExternalIDs, FieldBilling, FieldAccess} }

// String returns the field's name.
func (f Field) String() string {
	switch f {
	case FieldEmail:
		return "email"
	case FieldExternalIDs:
		return "external_ids"
	case FieldBilling:
		return "billing"
	case FieldAccess:
		return "access"
	default:
		return fmt.Sprintf("Field(%d)", uint8(f))
	}
}

// Requires returns the scope a principal needs to see the field on someone
// else's record.
func (f Field) Requires() Scope {
	switch f {
	case FieldEmail, FieldExternalIDs, FieldAccess:
		return ScopeMembersReadPII
	case FieldBilling:
		return ScopeBillingRead
	default:
		return 0 // never held: an unknown field is always hidden
	}
}

// Redaction is the set of fields to hide from one principal on one record.
type Redaction struct {
	hidden []Field
}

// RedactionFor returns the fields of the record of person subjectID that must
// be hidden from p. A signed-in person sees all of their own record; anyone
// else sees a field only if they hold the scope it Requires.
func RedactionFor(p Principal, subjectID string) Redaction {
	if p.Kind() == KindUser && !p.IsAnonymous() && p.ID() == strings.TrimSpace(subjectID) {
		return Redaction{}
	}
	var r Redaction
	for _, f := range AllFields() {
		if !p.Has(f.Requires()) {
			r.hidden = append(r.hidden, f)
		}
	}
	return r
}

// Hides reports whether f must be hidden.
func (r Redaction) Hides(f Field) bool {
	for _, h := range r.hidden {
		if h == f {
			return true
		}
	}
	return !f.Requires().valid()
}

// Fields returns the hidden fields, in declaration order.
func (r Redaction) Fields() []Field { return append([]Field{}, r.hidden...) }

// None reports whether nothing is hidden.
func (r Redaction) None() bool { return len(r.hidden) == 0 }

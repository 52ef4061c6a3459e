// Package event decides what makes a community event valid to create: a
// name, a start in the future, an end after the start, an IANA time zone
// and a positive capacity. Every problem is reported at once, each on the
// field it concerns, so a form can show them all.
package event

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/womendefiningai/platform/domain/usertext"
)

// Bounds of an event's fields.
const (
	MaxName        = 200
	MaxDescription = 10000
	MaxCapacity    = 100000
	MaxDuration    = 31 * 24 * time.Hour
	// MaxLeadTime is how far ahead an event may start (about five years).
	MaxLeadTime = 5 * 366 * 24 * time.Hour
)

// ErrInvalid is matched (errors.Is) by every *InvalidError.
var ErrInvalid = errors.New("event: invalid")

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string // name, description, startAt, endAt, timeZone, capacity
	Message string
}

// InvalidError lists every problem with a draft.
type InvalidError struct {
	Fields []FieldError
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid event: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Params are the fields a leader fills in.
type Params struct {
	Name        string
	Description string
	StartAt     time.Time
	EndAt       time.Time
	TimeZone    string
	Capacity    int
}

// Draft is a valid event not yet created. Make one with NewDraft.
type Draft struct {
	p Params
}

// Name returns the name, without surrounding spaces.
func (d Draft) Name() string { return d.p.Name }

// Description returns the description, without surrounding spaces.
func (d Draft) Description() string { return d.p.Description }

// StartAt returns the start, in UTC.
func (d Draft) StartAt() time.Time { return d.p.StartAt }

// EndAt returns the end, in UTC.
func (d Draft) EndAt() time.Time { return d.p.EndAt }

// TimeZone returns the IANA time zone name.
func (d Draft) TimeZone() string { return d.p.TimeZone }

// Capacity returns how many guests may attend.
func (d Draft) Capacity() int { return d.p.Capacity }

// NewDraft validates p at now. The error is an *InvalidError listing every
// problem, in field order.
func NewDraft(p Params, now time.Time) (Draft, error) {
	p.Name, p.Description, p.TimeZone = usertext.Trim(p.Name), strings.TrimSpace(p.Description), strings.TrimSpace(p.TimeZone)
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	if usertext.Blank(p.Name) { // a name that shows nothing is missing
		add("name", "is required")
	} else if err := usertext.Check(p.Name, MaxName); err != nil {
		add("name", err.Error())
	}
	if utf8.RuneCountInString(p.Description) > MaxDescription || !utf8.ValidString(p.Description) {
		add("description", "is longer than 10000 characters or not text")
	}
	switch {
	case p.StartAt.IsZero():
		add("startAt", "is required")
	case !p.StartAt.After(now):
		add("startAt", "must be in the future")
	case p.StartAt.Sub(now) > MaxLeadTime:
		add("startAt", "must be within five years from now")
	}
	switch {
	case p.EndAt.IsZero():
		add("endAt", "is required")
	case !p.StartAt.IsZero() && !p.EndAt.After(p.StartAt):
		add("endAt", "must be after the start")
	case !p.StartAt.IsZero() && p.EndAt.Sub(p.StartAt) > MaxDuration:
		add("endAt", "must be within 31 days of the start")
	}
	if !validZone(p.TimeZone) {
		add("timeZone", "must be an IANA time zone such as Europe/Berlin")
	}
	if p.Capacity < 1 || p.Capacity > MaxCapacity {
		add("capacity", "must be between 1 and 100000")
	}
	if len(errs) > 0 {
		return Draft{}, &InvalidError{Fields: errs}
	}
	p.StartAt, p.EndAt = p.StartAt.UTC(), p.EndAt.UTC()
	return Draft{p: p}, nil
}

// validZone accepts IANA names ("UTC", "Europe/Berlin"); not "Local" or
// an empty name, which LoadLocation would also accept.
func validZone(name string) bool {
	if name == "" || name == "Local" || len(name) > 64 {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// Package schedule parses and steps times of day in UTC: the slots of the
// recurring jobs. It is a leaf: internal/config validates the CRON_* settings
// with it and adapters/cron runs the scheduler on it.
package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TimeOfDay is a time of day in UTC, to the minute.
type TimeOfDay struct {
	Hour   int // 0 to 23
	Minute int // 0 to 59
}

// String writes t as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// Valid reports whether t is a time of day: hour 0 to 23, minute 0 to 59.
func (t TimeOfDay) Valid() bool {
	return t.Hour >= 0 && t.Hour < 24 && t.Minute >= 0 && t.Minute < 60
}

func (t TimeOfDay) minutes() int { return t.Hour*60 + t.Minute }

// on returns t on the UTC day of d.
func (t TimeOfDay) on(d time.Time) time.Time {
	y, m, day := d.UTC().Date()
	return time.Date(y, m, day, t.Hour, t.Minute, 0, 0, time.UTC)
}

// DefaultTimes are the default slots of the twice-daily jobs: 09:00 and
// 21:00 UTC.
func DefaultTimes() []TimeOfDay { return []TimeOfDay{{9, 0}, {21, 0}} }

var timeOfDay = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// ParseTimeOfDay parses "HH:MM" (24-hour, UTC, two digits each).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	m := timeOfDay.FindStringSubmatch(s)
	if m == nil {
		return TimeOfDay{}, fmt.Errorf("schedule: %q is not a time of day: want HH:MM in UTC, from 00:00 to 23:59", s)
	}
	h, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	return TimeOfDay{Hour: h, Minute: mm}, nil
}

// ParseTimes parses a comma-separated list of times of day, such as
// "09:00,21:00" (spaces around the commas are allowed). It refuses an empty
// list, an empty item, a malformed or out-of-range time and a time listed
// twice, naming each problem. The times are returned sorted.
func ParseTimes(s string) ([]TimeOfDay, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New(`schedule: no times given: want HH:MM in UTC, comma-separated, such as "09:00,21:00"`)
	}
	var out []TimeOfDay
	var errs []error
	seen := map[TimeOfDay]bool{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		t, err := ParseTimeOfDay(item)
		switch {
		case item == "":
			errs = append(errs, fmt.Errorf("schedule: item %d is empty", i+1))
		case err != nil:
			errs = append(errs, err)
		case seen[t]:
			errs = append(errs, fmt.Errorf("schedule: %s is listed twice", t))
		default:
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	Sort(out)
	return out, nil
}

// Sort sorts ts from the earliest to the latest time of day.
func Sort(ts []TimeOfDay) {
	slices.SortFunc(ts, func(a, b TimeOfDay) int { return a.minutes() - b.minutes() })
}

// NextSlot returns the first slot of times strictly after t, in UTC. times
// must not be empty.
func NextSlot(times []TimeOfDay, t time.Time) time.Time {
	var next time.Time
	for _, tod := range times {
		s := tod.on(t)
		if !s.After(t) {
			s = tod.on(t.UTC().AddDate(0, 0, 1))
		}
		if next.IsZero() || s.Before(next) {
			next = s
		}
	}
	return next
}

// LastSlot returns the latest slot of times at or before t, in UTC. times
// must not be empty.
func LastSlot(times []TimeOfDay, t time.Time) time.Time {
	var last time.Time
	for _, tod := range times {
		s := tod.on(t)
		if s.After(t) {
			s = tod.on(t.UTC().AddDate(0, 0, -1))
		}
		if s.After(last) {
			last = s
		}
	}
	return last
}

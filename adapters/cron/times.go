package cron

import "github.com/womendefiningai/platform/internal/schedule"

// TimeOfDay is a time of day in UTC, to the minute (see internal/schedule).
type TimeOfDay = schedule.TimeOfDay

// DefaultTimes are the default slots of the twice-daily jobs: 09:00 and
// 21:00 UTC.
func DefaultTimes() []TimeOfDay { return schedule.DefaultTimes() }

// ParseTimes parses a comma-separated list of times of day, such as
// "09:00,21:00"; see schedule.ParseTimes.
func ParseTimes(s string) ([]TimeOfDay, error) { return schedule.ParseTimes(s) }

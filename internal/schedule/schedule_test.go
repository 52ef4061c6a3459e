package schedule_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/schedule"
)

func TestParseTimes(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want string
	}{
		{"09:00,21:00", "[09:00 21:00]"},
		{" 21:00 , 09:00 ", "[09:00 21:00]"},
		{"00:00", "[00:00]"},
		{"23:59,00:00,12:30", "[00:00 12:30 23:59]"},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := schedule.ParseTimes(tc.in)
			if err != nil {
				t.Fatalf("ParseTimes(%q): %v", tc.in, err)
			}
			if s := fmt.Sprint(got); s != tc.want {
				t.Fatalf("ParseTimes(%q) = %s, want %s", tc.in, s, tc.want)
			}
		})
	}
	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "  "},
		{"one digit hour", "9:00"},
		{"hour 24", "24:00"},
		{"minute 60", "12:60"},
		{"seconds", "09:00:00"},
		{"no colon", "0900"},
		{"letters", "ab:cd"},
		{"trailing comma", "09:00,"},
		{"leading comma", ",09:00"},
		{"semicolon", "09:00;21:00"},
		{"sign", "+9:00"},
		{"am/pm", "9am"},
		{"twice", "09:00,21:00,09:00"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, err := schedule.ParseTimes(tc.in); err == nil {
				t.Fatalf("ParseTimes(%q) = %v, want an error", tc.in, got)
			}
		})
	}
}

func TestParseTimesNamesEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := schedule.ParseTimes("9:00,,25:00,21:00,21:00")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`"9:00"`, "item 2 is empty", `"25:00"`, "21:00 is listed twice", "HH:MM"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestNextAndLastSlot(t *testing.T) {
	t.Parallel()
	twice := schedule.DefaultTimes()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name       string
		times      []schedule.TimeOfDay
		now        string
		next, last string
	}{
		{"early morning", twice, "2026-01-15T03:00:00Z", "2026-01-15T09:00:00Z", "2026-01-14T21:00:00Z"},
		{"exactly at a slot", twice, "2026-01-15T09:00:00Z", "2026-01-15T21:00:00Z", "2026-01-15T09:00:00Z"},
		{"just before a slot", twice, "2026-01-15T08:59:59.999Z", "2026-01-15T09:00:00Z", "2026-01-14T21:00:00Z"},
		{"just after a slot", twice, "2026-01-15T09:00:00.001Z", "2026-01-15T21:00:00Z", "2026-01-15T09:00:00Z"},
		{"midday", twice, "2026-01-15T15:30:00Z", "2026-01-15T21:00:00Z", "2026-01-15T09:00:00Z"},
		{"after the last slot: next day", twice, "2026-01-15T22:00:00Z", "2026-01-16T09:00:00Z", "2026-01-15T21:00:00Z"},
		{"month rollover", twice, "2026-01-31T21:30:00Z", "2026-02-01T09:00:00Z", "2026-01-31T21:00:00Z"},
		{"year rollover", twice, "2026-12-31T23:59:59Z", "2027-01-01T09:00:00Z", "2026-12-31T21:00:00Z"},
		{"leap day", twice, "2028-02-28T21:00:00Z", "2028-02-29T09:00:00Z", "2028-02-28T21:00:00Z"},
		{"back over new year", twice, "2027-01-01T08:00:00Z", "2027-01-01T09:00:00Z", "2026-12-31T21:00:00Z"},
		{"time given in another zone", twice, "2026-03-01T23:30:00-05:00", "2026-03-02T09:00:00Z", "2026-03-01T21:00:00Z"},
		{"zone whose date differs from UTC", twice, "2026-03-02T01:30:00+09:00", "2026-03-01T21:00:00Z", "2026-03-01T09:00:00Z"},
		{"one time a day", []schedule.TimeOfDay{{Hour: 0, Minute: 0}}, "2026-06-30T12:00:00Z", "2026-07-01T00:00:00Z", "2026-06-30T00:00:00Z"},
		{"unsorted times", []schedule.TimeOfDay{{Hour: 21}, {Hour: 6, Minute: 15}}, "2026-06-30T07:00:00Z", "2026-06-30T21:00:00Z", "2026-06-30T06:15:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := at(tc.now)
			if got := schedule.NextSlot(tc.times, now); !got.Equal(at(tc.next)) || got.Location() != time.UTC {
				t.Errorf("NextSlot(%s) = %v, want %s in UTC", tc.now, got, tc.next)
			}
			if got := schedule.LastSlot(tc.times, now); !got.Equal(at(tc.last)) || got.Location() != time.UTC {
				t.Errorf("LastSlot(%s) = %v, want %s in UTC", tc.now, got, tc.last)
			}
		})
	}
}

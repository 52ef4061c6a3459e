package event_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/event"
)

var now = time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)

func valid() event.Params {
	return event.Params{Name: " AI night ", StartAt: now.Add(24 * time.Hour), EndAt: now.Add(26 * time.Hour), TimeZone: "Europe/Berlin", Capacity: 40}
}

func TestNewDraft(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*event.Params)
		fields []string // the fields in error; none: valid
	}{
		{"valid", func(*event.Params) {}, nil},
		{"UTC is a zone", func(p *event.Params) { p.TimeZone = "UTC" }, nil},
		{"blank name", func(p *event.Params) { p.Name = "  " }, []string{"name"}},
		{"name of only invisible characters", func(p *event.Params) { p.Name = "\u200D\u3164 " }, []string{"name"}},
		{"name with a right-to-left override", func(p *event.Params) { p.Name = "Meetup\u202E" + "x" }, []string{"name"}},
		{"long name", func(p *event.Params) { p.Name = strings.Repeat("a", 201) }, []string{"name"}},
		{"name with a newline", func(p *event.Params) { p.Name = "a\nb" }, []string{"name"}},
		{"long description", func(p *event.Params) { p.Description = strings.Repeat("d", 10001) }, []string{"description"}},
		{"no start", func(p *event.Params) { p.StartAt = time.Time{} }, []string{"startAt"}},
		{"start now", func(p *event.Params) { p.StartAt = now }, []string{"startAt"}},
		{"start in year 9999", func(p *event.Params) {
			p.StartAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			p.EndAt = p.StartAt.Add(time.Hour)
		}, []string{"startAt"}},
		{"start five years ahead", func(p *event.Params) {
			p.StartAt = now.AddDate(5, 0, 0)
			p.EndAt = p.StartAt.Add(time.Hour)
		}, nil},
		{"a description over lines", func(p *event.Params) { p.Description = "# Agenda\n\n- talks\n\t- demos" }, nil},
		{"end before start", func(p *event.Params) { p.EndAt = p.StartAt.Add(-time.Minute) }, []string{"endAt"}},
		{"end at start", func(p *event.Params) { p.EndAt = p.StartAt }, []string{"endAt"}},
		{"no end", func(p *event.Params) { p.EndAt = time.Time{} }, []string{"endAt"}},
		{"too long", func(p *event.Params) { p.EndAt = p.StartAt.Add(32 * 24 * time.Hour) }, []string{"endAt"}},
		{"unknown zone", func(p *event.Params) { p.TimeZone = "Mars/Olympus" }, []string{"timeZone"}},
		{"Local is not a zone", func(p *event.Params) { p.TimeZone = "Local" }, []string{"timeZone"}},
		{"offset is not a zone", func(p *event.Params) { p.TimeZone = "+02:00" }, []string{"timeZone"}},
		{"zero capacity", func(p *event.Params) { p.Capacity = 0 }, []string{"capacity"}},
		{"negative capacity", func(p *event.Params) { p.Capacity = -3 }, []string{"capacity"}},
		{"everything wrong", func(p *event.Params) { *p = event.Params{Capacity: -1} }, []string{"name", "startAt", "endAt", "timeZone", "capacity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := valid()
			tt.change(&p)
			d, err := event.NewDraft(p, now)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("NewDraft: %v", err)
				}
				if d.Name() != "AI night" || d.Capacity() != p.Capacity || !d.StartAt().Equal(p.StartAt) || d.TimeZone() != p.TimeZone {
					t.Errorf("draft %+v", d)
				}
				return
			}
			var inv *event.InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("err = %v, want an InvalidError", err)
			}
			var got []string
			for _, f := range inv.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields %v, want %v", got, tt.fields)
			}
		})
	}
}

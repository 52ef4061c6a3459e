package usertext_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/domain/usertext"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		max  int
		want error
	}{
		{"empty", "", 3, nil},
		{"plain", "Ada", 3, nil},
		{"three two-byte characters fit in three", "Zoë", 3, nil},
		{"Greek: 5 characters, 10 bytes", "Ελένη", 5, nil},
		{"emoji with a joiner (format, not control)", "👩‍💻", 3, nil},
		{"a written U+FFFD is valid", "a\uFFFDb", 3, nil},
		{"one character too many", "Ελένηs", 5, usertext.ErrTooLong},
		{"NUL", "Ada\x00", 10, usertext.ErrControlCharacter},
		{"NUL first", "\x00", 10, usertext.ErrControlCharacter},
		{"newline", "Ada\nKing", 10, usertext.ErrControlCharacter},
		{"tab", "Ada\tKing", 10, usertext.ErrControlCharacter},
		{"escape", "\x1b[31mAda", 20, usertext.ErrControlCharacter},
		{"DEL", "Ada\x7f", 10, usertext.ErrControlCharacter},
		{"C1 control", "Ada\u0085", 10, usertext.ErrControlCharacter},
		{"invalid UTF-8", "Ada\xff", 10, usertext.ErrInvalidUTF8},
		{"truncated UTF-8", "Zo\xc3", 10, usertext.ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := usertext.Check(tt.in, tt.max)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Check(%q, %d) = %v, want %v", tt.in, tt.max, err, tt.want)
			}
			if err != nil && tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q quotes the input", err)
			}
		})
	}
	if got := usertext.Len("Ελένη"); got != 5 {
		t.Errorf("Len = %d, want 5 characters", got)
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  Ada  ", 10, "Ada"},
		{"A\x00d\na\x7f", 10, "Ada"},
		{"Zo\xffë", 10, "Zoë"},
		{"Ελένη Παπαδοπούλου", 5, "Ελένη"},
		{"Ada \x00", 4, "Ada"},
		{"\x00\x01", 10, ""},
	}
	for _, tt := range tests {
		got := usertext.Clean(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if usertext.Check(got, tt.max) != nil {
			t.Errorf("Clean(%q) = %q, which Check refuses", tt.in, got)
		}
	}
}

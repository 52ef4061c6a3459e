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
		// Text that displays as something else than it is: bidirectional
		// overrides and isolates, zero-width and other format characters,
		// line and paragraph separators.
		{"right-to-left override", "Ada\u202Egnik", 20, usertext.ErrInvisibleCharacter},
		{"left-to-right embedding", "\u202AAda", 20, usertext.ErrInvisibleCharacter},
		{"pop directional formatting", "Ada\u202C", 20, usertext.ErrInvisibleCharacter},
		{"first strong isolate", "Ada\u2068x\u2069", 20, usertext.ErrInvisibleCharacter},
		{"right-to-left mark", "Ada\u200F", 20, usertext.ErrInvisibleCharacter},
		{"zero-width space", "A\u200Bda", 20, usertext.ErrInvisibleCharacter},
		{"byte order mark", "\uFEFFAda", 20, usertext.ErrInvisibleCharacter},
		{"soft hyphen", "A\u00ADda", 20, usertext.ErrInvisibleCharacter},
		{"line separator", "Ada\u2028King", 20, usertext.ErrInvisibleCharacter},
		{"paragraph separator", "Ada\u2029King", 20, usertext.ErrInvisibleCharacter},
		// Joiners shape Persian, Indic scripts and emoji; they stay.
		{"zero-width non-joiner in Persian", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", 20, nil},
		{"flag of England (tag characters)", "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", 20, nil},
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
		{"A\u202Eda\u200B\u2028", 10, "Ada"},
		{"\uFEFF Ada \u200B", 10, "Ada"},
		{"\u200D\u3164Ada\u200C", 10, "Ada"},
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

// A name made only of characters that show nothing is blank: "required"
// refuses it as it refuses "".
func TestBlank(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "   ", "\u200B", "\u200D\u200C", "\u3164", "\u115F\u1160", "\u2800", "\u034F", " \u200D \uFEFF "} {
		if !usertext.Blank(in) {
			t.Errorf("Blank(%q) = false, want true", in)
		}
	}
	for _, in := range []string{"Ada", "\u200DA", "Ελένη", "👩\u200D💻", "\u0645"} {
		if usertext.Blank(in) {
			t.Errorf("Blank(%q) = true, want false", in)
		}
	}
}

// Trim drops spaces and invisible characters at both ends, and keeps
// joiners between visible characters.
func TestTrim(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  Ada  ":           "Ada",
		"\u200DAda\u200C":   "Ada",
		"\u3164 Ada \u2800": "Ada",
		"👩\u200D💻":          "👩\u200D💻",
		"\u200B":            "",
	} {
		if got := usertext.Trim(in); got != want {
			t.Errorf("Trim(%q) = %q, want %q", in, got, want)
		}
	}
}

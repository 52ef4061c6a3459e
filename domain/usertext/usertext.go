// Package usertext decides what text a person may type into the platform:
// valid UTF-8, no control characters (U+0000 to U+001F, U+007F to U+009F:
// NUL, newlines, escapes), and no longer than a limit counted in characters
// (runes), never in bytes, so that "Zoë" and "Ελένη" get the same room as
// "Zoe".
//
// Check refuses text a person sent (they correct it); Clean repairs text
// that came from elsewhere (an identity provider's profile) and must be
// stored anyway.
package usertext

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the most characters of a first or last name.
const MaxNameLength = 100

// The ways text can break the rule; Check wraps them.
var (
	ErrInvalidUTF8      = errors.New("is not valid UTF-8")
	ErrControlCharacter = errors.New("contains a control character")
	ErrTooLong          = errors.New("is too long")
)

// Len returns the number of characters (runes) of s.
func Len(s string) int { return utf8.RuneCountInString(s) }

// Check returns nil when s is valid UTF-8 without control characters and
// at most maxChars characters long, and otherwise an error wrapping one of
// ErrInvalidUTF8, ErrControlCharacter or ErrTooLong that says where, never
// quoting s. It reads s once.
func Check(s string, maxChars int) error {
	n := 0
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			return fmt.Errorf("%w (byte %d)", ErrInvalidUTF8, i)
		case unicode.IsControl(r):
			return fmt.Errorf("%w (U+%04X at character %d)", ErrControlCharacter, r, n+1)
		}
		n++
		if n > maxChars {
			return fmt.Errorf("%w: at most %d characters", ErrTooLong, maxChars)
		}
	}
	return nil
}

// validAt reports whether the U+FFFD decoded at s[i:] is really written
// there, rather than standing for an invalid byte.
func validAt(s string, i int) bool {
	return strings.HasPrefix(s[i:], string(utf8.RuneError))
}

// Clean returns s with invalid bytes and control characters dropped,
// surrounding spaces trimmed, and cut to at most maxChars characters.
func Clean(s string, maxChars int) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	n := 0
	for i, r := range s {
		if (r == utf8.RuneError && !validAt(s, i)) || unicode.IsControl(r) {
			continue
		}
		if n == maxChars {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

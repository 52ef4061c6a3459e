// Package usertext decides what text a person may type into the platform:
// valid UTF-8, no control characters (U+0000 to U+001F, U+007F to U+009F:
// NUL, newlines, escapes), no character that shows something other than
// what is stored (format characters such as bidirectional overrides and
// isolates U+202A–U+202E, U+2066–U+2069, zero-width spaces U+200B, the byte
// order mark U+FEFF; line and paragraph separators U+2028, U+2029), and no
// longer than a limit counted in characters (runes), never in bytes, so that
// "Zoë" and "Ελένη" get the same room as "Zoe". The joiners U+200C and
// U+200D and the emoji tag characters stay: Persian, Indic scripts and emoji
// need them.
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
	// ErrInvisibleCharacter: a format character (bidirectional control,
	// zero-width space, byte order mark) or a line or paragraph separator.
	ErrInvisibleCharacter = errors.New("contains an invisible or direction-changing character")
)

// refused reports whether r is a format character other than the joiners
// and emoji tags, or a line or paragraph separator.
func refused(r rune) bool {
	switch {
	case r == '\u2028' || r == '\u2029':
		return true
	case r == '\u200C' || r == '\u200D' || (r >= 0xE0020 && r <= 0xE007F):
		return false
	default:
		return unicode.Is(unicode.Cf, r)
	}
}

// invisible reports whether r shows nothing on its own: spaces, format
// characters, combining marks, and the fillers that render blank (Hangul
// fillers, the Braille blank).
func invisible(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) ||
		unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r)
}

// Blank reports whether s has no character that shows: a required name
// of only zero-width joiners or Hangul fillers is as missing as "".
func Blank(s string) bool {
	for _, r := range s {
		if !invisible(r) {
			return false
		}
	}
	return true
}

// Trim returns s without the spaces and invisible characters at either
// end; joiners between visible characters stay.
func Trim(s string) string {
	return strings.TrimFunc(s, trimmed)
}

// trimmed: what invisible covers except combining marks, which belong to
// the character before them (the grapheme joiner U+034F excepted).
func trimmed(r rune) bool {
	if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) {
		return r == '\u034F'
	}
	return invisible(r)
}

// Len returns the number of characters (runes) of s.
func Len(s string) int { return utf8.RuneCountInString(s) }

// Check returns nil when s is valid UTF-8 without control or invisible
// characters and at most maxChars characters long, and otherwise an error
// wrapping one of ErrInvalidUTF8, ErrControlCharacter,
// ErrInvisibleCharacter or ErrTooLong that says where, never quoting s. It
// reads s once.
func Check(s string, maxChars int) error {
	n := 0
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			return fmt.Errorf("%w (byte %d)", ErrInvalidUTF8, i)
		case unicode.IsControl(r):
			return fmt.Errorf("%w (U+%04X at character %d)", ErrControlCharacter, r, n+1)
		case refused(r):
			return fmt.Errorf("%w (U+%04X at character %d)", ErrInvisibleCharacter, r, n+1)
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

// Clean returns s with invalid bytes, control and refused invisible
// characters dropped, surrounding spaces and invisible characters trimmed,
// and cut to at most maxChars characters.
func Clean(s string, maxChars int) string {
	s = Trim(s)
	var b strings.Builder
	n := 0
	for i, r := range s {
		if (r == utf8.RuneError && !validAt(s, i)) || unicode.IsControl(r) || refused(r) {
			continue
		}
		if n == maxChars {
			break
		}
		b.WriteRune(r)
		n++
	}
	return Trim(b.String())
}

package postgres

import (
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// jsonbOrRaw splits an event's payload between the jsonb column and the
// bytea one: jsonb refuses bytes that are not UTF-8, the escape \u0000 and
// unpaired surrogate escapes, and such a payload is kept as raw bytes
// instead (migration 00018), as is anything that is not JSON at all.
// Exactly one of the two is non-nil.
func jsonbOrRaw(payload []byte) (jsonb, raw []byte) {
	if payload == nil {
		payload = []byte{}
	}
	// One pass checks both UTF-8 and JSON, at about 3 us for a 5.5 KB
	// event (encoding/json's Valid plus utf8.Valid took 17-21 us, on every
	// webhook). Repeated names are valid JSON to jsonb.
	if !jsontext.Value(payload).IsValid(jsontext.AllowDuplicateNames(true)) || badEscape(payload) {
		return nil, payload
	}
	return payload, nil
}

// badEscape reports whether JSON text holds a \u escape that jsonb refuses:
// \u0000, a high surrogate not followed by a low one, or a lone low one.
// (An escaped backslash before "u", as in "\\u0000", is text, not an
// escape.)
func badEscape(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(b) || b[i] != 'u' {
			continue
		}
		r, ok := hex4(b, i+1)
		if !ok {
			return true // not JSON a parser accepted: keep it raw
		}
		i += 4
		switch {
		case r == 0:
			return true
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
				return true
			}
			lo, ok := hex4(b, i+3)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6
		}
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// storable is s as a text column takes it: NUL removed, and bytes that are
// not UTF-8 replaced with U+FFFD. Valid text is returned unchanged.
func storable(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

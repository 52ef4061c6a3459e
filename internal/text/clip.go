// Package text holds small string helpers shared by adapters.
package text

import (
	"strings"
	"unicode/utf8"
)

// Clip makes s storable as PostgreSQL text (valid UTF-8, no NUL) and cuts it
// to at most n bytes on a character boundary, marking a cut with "…".
func Clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

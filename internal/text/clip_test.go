package text_test

import (
	"testing"

	"github.com/womendefiningai/platform/internal/text"
)

func TestClip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short stays", "abc", 10, "abc"},
		{"cut on a byte", "abcdef", 3, "abc…"},
		{"cut before a split rune", "aé", 2, "a…"},
		{"NUL removed", "a\x00b", 10, "ab"},
		{"invalid UTF-8 replaced", "a\xffb", 10, "a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := text.Clip(tc.in, tc.n); got != tc.want {
				t.Fatalf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

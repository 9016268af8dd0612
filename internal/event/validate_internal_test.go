package event

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// textProblem's eight-bytes-at-a-time scan finds what a rune-by-rune one
// finds, wherever in the text the byte that matters is.
func TestTextProblemFindsEveryBadByteWhereverItIs(t *testing.T) {
	slow := func(v string) string {
		for _, r := range v {
			if r == utf8.RuneError {
				return "x is not valid UTF-8"
			}
			if isControl(r) {
				return "x contains a control character"
			}
		}
		return ""
	}
	for _, bad := range []string{"\x00", "\x1f", " ", "~", "\x7f", "\x80", "\xff", "é", "\u0085", "\u2028", "€", "\xe2\x82"} {
		for at := range 20 {
			v := strings.Repeat("a", at) + bad + strings.Repeat("b", 19-at)
			if got, want := textProblem("x", v), slow(v); got != want {
				t.Errorf("%q: %q, want %q", v, got, want)
			}
		}
	}
}

package valid_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/jinlaiban/openplatform/shared/valid"
)

// isMainlandMobile is ^1[3-9]\d{9}$ spelled out without regexp, with ASCII digits only.
func isMainlandMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := 2; i < 11; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FuzzMobile: Mobile never panics and accepts exactly ^1[3-9]\d{9}$; MaskMobile of an
// accepted number hides its middle four digits.
func FuzzMobile(f *testing.F) {
	for _, s := range []string{"13800138000", "12800138000", "", "1380013800", "13800138000\n", "１３８００１３８０００", "+8613800138000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := valid.Mobile(s)
		if want := isMainlandMobile(s); (r == "") != want {
			t.Fatalf("Mobile(%q) = %q, but pattern match is %v", s, r, want)
		}
		m := valid.MaskMobile(s)
		if r == "" && m != s[:3]+"****"+s[7:] {
			t.Fatalf("MaskMobile(%q) = %q", s, m)
		}
	})
}

// FuzzText: Text and Line never panic, and whatever they accept is within bounds, not
// blank, and free of control characters (Line: also of line breaks and tabs).
func FuzzText(f *testing.F) {
	f.Add("Broken street light on Caoxi Road", 1, 200)
	f.Add("上海市徐汇区", 3, 6)
	f.Add("", 0, 0)
	f.Add(" \t", 1, 5)
	f.Add("nul\x00", 1, 10)
	f.Add("two\nlines", 1, 20)
	f.Add("\xff\xfe", 1, 10)
	f.Add("x", -5, -1)
	f.Fuzz(func(t *testing.T, s string, min, max int) {
		r := valid.Text(s, min, max)
		l := valid.Line(s, min, max)
		if r != "" && l != r {
			t.Fatalf("Line(%q) = %q, but Text said %q", s, l, r)
		}
		if r != "" {
			return
		}
		n := utf8.RuneCountInString(s)
		if n < min || n > max || strings.TrimSpace(s) == "" {
			t.Fatalf("Text(%q, %d, %d) accepted %d characters", s, min, max, n)
		}
		for _, c := range s {
			if unicode.IsControl(c) && c != '\n' && c != '\r' && c != '\t' {
				t.Fatalf("Text(%q) accepted control character %U", s, c)
			}
		}
		if l == "" && strings.ContainsAny(s, "\r\n\t") {
			t.Fatalf("Line(%q) accepted a line break or tab", s)
		}
	})
}

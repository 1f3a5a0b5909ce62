package valid_test

import (
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/valid"
)

func TestMobileAcceptsMainlandNumbers(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"13800138000", "13000000000", "19999999999", "15912345678", "17712345678"} {
		if r := valid.Mobile(m); r != "" {
			t.Errorf("Mobile(%q) = %q, want accepted", m, r)
		}
	}
}

func TestMobileRejectsAnythingElse(t *testing.T) {
	t.Parallel()
	if r := valid.Mobile(""); r != "is required" {
		t.Errorf(`Mobile("") = %q, want "is required"`, r)
	}
	for _, m := range []string{
		"12800138000",    // second digit 2
		"10800138000",    // second digit 0
		"23800138000",    // not starting with 1
		"1380013800",     // 10 digits
		"138001380000",   // 12 digits
		"+8613800138000", // country code
		"138 0013 8000",  // spaces
		"138-0013-8000",  // dashes
		"13800138000\n",  // trailing newline
		" 13800138000",   // leading space
		"1380013800a",    // letter
		"１３８００１３８０００",    // full-width digits
		"1380013800٠",    // Arabic-Indic digit
	} {
		if r := valid.Mobile(m); r == "" || !strings.Contains(r, "11-digit") {
			t.Errorf("Mobile(%q) = %q, want rejected with a reason", m, r)
		}
	}
}

func TestTextBounds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
	}{
		{"", "is required"},
		{"   \t\n", "is required"},
		{"ab", "must be at least 3 characters"},
		{"abc", ""},
		{"上海市", ""}, // three characters, nine bytes
		{"abcdefghij", ""},
		{"abcdefghijk", "must be at most 10 characters"},
		{"上海市徐汇区漕溪北路一号", "must be at most 10 characters"},
		{"line one\nline two"[:10], ""},
		{"tab\there", ""},
		{"nul\x00byte", "must not contain control characters"},
		{"bell\abell", "must not contain control characters"},
		{"esc\x1b[31m", "must not contain control characters"},
		{"del\x7fchar", "must not contain control characters"},
		{"c1\u0085ctl", "must not contain control characters"},
	}
	for _, tc := range cases {
		if got := valid.Text(tc.in, 3, 10); got != tc.want {
			t.Errorf("Text(%q, 3, 10) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLineIsTextOnOneLine(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Road repair": "",
		"two\nlines":  "must be a single line",
		"carriage\r":  "must be a single line",
		"tab\tinside": "must be a single line",
		"":            "is required",
		"x":           "must be at least 2 characters",
	}
	for in, want := range cases {
		if got := valid.Line(in, 2, 40); got != want {
			t.Errorf("Line(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoginNames(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"abc", "vendor.shanghai", "a-b_c.d", "0day", strings.Repeat("a", 32)} {
		if r := valid.Login(ok); r != "" {
			t.Errorf("Login(%q) = %q, want accepted", ok, r)
		}
	}
	if valid.Login("") != "is required" {
		t.Error(`Login("") is not "is required"`)
	}
	for _, bad := range []string{"ab", strings.Repeat("a", 33), ".abc", "-abc", "_abc", "a b c", "user@example", "张三李四", "abc\n"} {
		if r := valid.Login(bad); r == "" || r == "is required" {
			t.Errorf("Login(%q) = %q, want rejected with a reason", bad, r)
		}
	}
}

func TestCollectKeepsOnlyFieldsWithAReason(t *testing.T) {
	t.Parallel()
	got := valid.Collect("mobile", valid.Mobile("123"), "name", valid.Line("Li Lei", 1, 20), "login", valid.Login(""), "odd")
	if len(got) != 2 || got["login"] != "is required" || !strings.Contains(got["mobile"], "11-digit") {
		t.Fatalf("Collect = %v", got)
	}
	if _, ok := got["name"]; ok {
		t.Fatal("an acceptable field was collected")
	}
	if len(valid.Collect()) != 0 {
		t.Fatal("Collect() is not empty")
	}
}

func TestMaskMobileHidesTheMiddleDigits(t *testing.T) {
	t.Parallel()
	if got := valid.MaskMobile("13800138000"); got != "138****8000" {
		t.Fatalf("MaskMobile = %q", got)
	}
	for _, in := range []string{"", "1380013800", "138001380001", "+8613800138000"} {
		if got := valid.MaskMobile(in); got != "***" {
			t.Errorf("MaskMobile(%q) = %q, want ***", in, got)
		}
	}
}

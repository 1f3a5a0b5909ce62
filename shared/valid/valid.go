// Package valid checks request fields the same way everywhere. Each check returns "" when
// the value is acceptable, or a reason a person can act on.
package valid

import (
	"fmt"
	neturl "net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// Mobile checks a mainland China mobile number (11 digits starting 13-19).
func Mobile(s string) string {
	if s == "" {
		return "is required"
	}
	if !mobile.MatchString(s) {
		return "must be an 11-digit mainland China mobile number, e.g. 13800138000"
	}
	return ""
}

// Text checks a required single-line text of min to max characters.
func Text(s string, min, max int) string {
	n := utf8.RuneCountInString(s)
	switch {
	case strings.TrimSpace(s) == "":
		return "is required"
	case n < min:
		return fmt.Sprintf("must be at least %d characters", min)
	case n > max:
		return fmt.Sprintf("must be at most %d characters", max)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// Line is Text that must also be one line.
func Line(s string, min, max int) string {
	if r := Text(s, min, max); r != "" {
		return r
	}
	if strings.ContainsAny(s, "\r\n\t") {
		return "must be a single line"
	}
	return ""
}

var login = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$`)

// Login checks a sign-in name: 3-32 letters, digits, dot, dash or underscore.
func Login(s string) string {
	if s == "" {
		return "is required"
	}
	if !login.MatchString(s) {
		return "must be 3-32 letters, digits, '.', '-' or '_', starting with a letter or digit"
	}
	return ""
}

// Collect builds a field → reason map from pairs, dropping the acceptable ones.
func Collect(pairs ...string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out[pairs[i]] = pairs[i+1]
		}
	}
	return out
}

// MaskMobile shows a mobile number as 138****8000.
func MaskMobile(s string) string {
	if len(s) != 11 {
		return "***"
	}
	return s[:3] + "****" + s[7:]
}

// URL checks an address a citizen's browser is sent to: https, a host, no credentials, no
// fragment, at most 2048 characters. allowLocalHTTP also admits http://localhost and
// http://127.0.0.1 (the development stack only).
func URL(s string, allowLocalHTTP bool) string {
	if s == "" {
		return "is required"
	}
	if len(s) > 2048 {
		return "must be at most 2048 characters"
	}
	u, err := neturl.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "must be an absolute URL such as https://example.com/path"
	case u.User != nil:
		return "must not contain a user name or password"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "must not contain a fragment (#…)"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && allowLocalHTTP && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"):
		return ""
	}
	return "must use https"
}

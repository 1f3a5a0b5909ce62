package signature_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/signature"
)

// The documented forms of the headers.
var (
	appCodeForm   = regexp.MustCompile(`^[0-9a-f]{1,64}$`)
	timestampForm = regexp.MustCompile(`^[0-9]{1,12}$`)
	nonceForm     = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
	signatureForm = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// FuzzParse: any header values are answered without a panic; values Parse accepts have the
// documented forms, and a refusal names one of the four headers.
func FuzzParse(f *testing.F) {
	f.Add(vectorAppCode, "1700000000", "n0nce-0123456789_ABCDEF", vectorSignature)
	f.Add("", "", "", "")
	f.Add("ABC", "+1700000000", "short", strings.ToUpper(vectorSignature))
	f.Add(vectorAppCode, "-0", strings.Repeat("x", 64), vectorSignature)
	f.Add(vectorAppCode, "+1700000000", "n0nce-0123456789_ABCDEF", vectorSignature)
	f.Add(vectorAppCode, "999999999999", strings.Repeat("_", 16), vectorSignature)
	f.Add(vectorAppCode, "1e9", "n0nce-0123456789_ABCDÉ", vectorSignature+"0")
	f.Fuzz(func(t *testing.T, appCode, timestamp, nonce, sig string) {
		h := http.Header{}
		for name, v := range map[string]string{signature.HeaderAppCode: appCode, signature.HeaderTimestamp: timestamp,
			signature.HeaderNonce: nonce, signature.HeaderSignature: sig} {
			if v != "" {
				h[name] = []string{v}
			}
		}
		got, err := signature.Parse(h)
		if err != nil {
			var he *signature.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("Parse error %v is not a HeaderError", err)
			}
			switch he.Header {
			case signature.HeaderAppCode, signature.HeaderTimestamp, signature.HeaderNonce, signature.HeaderSignature:
			default:
				t.Fatalf("HeaderError names %q, not a signature header", he.Header)
			}
			if he.Reason == "" {
				t.Fatal("HeaderError without a reason")
			}
			return
		}
		if !appCodeForm.MatchString(got.AppCode) || !timestampForm.MatchString(got.Timestamp) ||
			!nonceForm.MatchString(got.Nonce) || !signatureForm.MatchString(got.Signature) {
			t.Fatalf("Parse accepted headers outside the documented forms: %+v", got)
		}
		if got.AppCode != appCode || got.Timestamp != timestamp || got.Nonce != nonce || got.Signature != sig {
			t.Fatalf("Parse = %+v, not the values sent", got)
		}
		sec, _ := strconv.ParseInt(timestamp, 10, 64)
		if got.Time.Unix() != sec {
			t.Fatalf("Time %v, want Unix %d", got.Time, sec)
		}
	})
}

// canonicalPair is one key=value of a canonical query: RFC 3986 unreserved characters and
// percent-escapes with upper-case hex.
var canonicalPair = regexp.MustCompile(`^(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})*=(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})*$`)

// FuzzCanonicalQuery: any query is answered without a panic; a parsable one becomes pairs of
// the canonical form, sorted by key then value, that do not depend on the order of the
// query, decode back to the query's values, and stay the same when canonicalized again.
func FuzzCanonicalQuery(f *testing.F) {
	for _, seed := range []string{"", vectorQuery, "b=2&a=1&a=0", "a-b=1&a=2&a0=3", "q=a+b&r=a%20b", "k=%e6%99%8b",
		"flag&&x=", "a=1;b=2", "a=%zz", "=&=", "%2B=%2b", "k=!*'()"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := signature.CanonicalQuery(raw)
		if signature.CanonicalQuery(got) != got {
			t.Fatalf("CanonicalQuery(%q) = %q is not canonical itself: %q", raw, got, signature.CanonicalQuery(got))
		}
		values, err := url.ParseQuery(raw)
		if err != nil {
			if got != raw {
				t.Fatalf("an unparsable query %q is signed as %q, want as sent", raw, got)
			}
			return
		}
		if got == "" {
			if len(values) != 0 {
				t.Fatalf("CanonicalQuery(%q) is empty but the query has %v", raw, values)
			}
			return
		}
		pairs := strings.Split(got, "&")
		n := 0
		for _, vs := range values {
			n += len(vs)
		}
		if len(pairs) != n {
			t.Fatalf("CanonicalQuery(%q) = %q has %d pairs, want %d", raw, got, len(pairs), n)
		}
		var prevK, prevV string
		decoded := url.Values{}
		for i, p := range pairs {
			if !canonicalPair.MatchString(p) {
				t.Fatalf("pair %q of %q is not in canonical form", p, got)
			}
			k, v, _ := strings.Cut(p, "=")
			if i > 0 && (k < prevK || k == prevK && v < prevV) {
				t.Fatalf("CanonicalQuery(%q) = %q is not sorted by key then value", raw, got)
			}
			prevK, prevV = k, v
			dk, err1 := url.PathUnescape(k)
			dv, err2 := url.PathUnescape(v)
			if err1 != nil || err2 != nil {
				t.Fatalf("pair %q does not decode", p)
			}
			decoded.Add(dk, dv)
		}
		for k, vs := range values {
			if strings.Join(sorted(vs), "\x00") != strings.Join(sorted(decoded[k]), "\x00") {
				t.Fatalf("CanonicalQuery(%q) = %q: %q decodes to %q, want %q", raw, got, k, decoded[k], vs)
			}
		}
		// The order of the query does not matter.
		parts := strings.Split(raw, "&")
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		if rev := signature.CanonicalQuery(strings.Join(parts, "&")); rev != got {
			t.Fatalf("the query reversed canonicalizes to %q, not %q", rev, got)
		}
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

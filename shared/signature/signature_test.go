package signature_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/signature"
)

// The known vector: a vendor's exchange request. The string to sign and its HMAC were
// computed once outside Go (Python's hashlib and hmac) from the scheme as documented.
const (
	vectorSecret  = "test_9d3e6c1f0a7b4e2d8c5f1a3b6e9d0c7f"
	vectorAppCode = "f3229547e8c2507e2c59ebffe9ee9f"
	vectorBody    = `{"ticket":"test_tk_5mY8dQ2rX0vJ3nL7pK9sW1zB4cF6hG2tA8eR0uI3oE"}`
	vectorQuery   = "name=%E6%99%8B+%E6%9D%A5&lang=zh-CN&a=1"
	vectorSTS     = "JLB1-HMAC-SHA256\n" +
		"POST\n" +
		"/api/v1/sso/token\n" +
		"a=1&lang=zh-CN&name=%E6%99%8B%20%E6%9D%A5\n" +
		"f3229547e8c2507e2c59ebffe9ee9f\n" +
		"1700000000\n" +
		"n0nce-0123456789_ABCDEF\n" +
		"59f394a4360a24e87a57576d46644c4a57a0da84acefffcee3a6bc93bda42c3e"
	vectorSignature = "44ea895cf42f547626e3f36e706ebdd470473a7cd5c869596b4eaf2718e771c4"
)

func TestStringToSignMatchesTheKnownVector(t *testing.T) {
	t.Parallel()
	got := signature.StringToSign("POST", "/api/v1/sso/token", vectorQuery, vectorAppCode, "1700000000",
		"n0nce-0123456789_ABCDEF", []byte(vectorBody))
	if got != vectorSTS {
		t.Fatalf("string to sign\n%q\nwant\n%q", got, vectorSTS)
	}
	if sig := signature.Sign(vectorSecret, got); sig != vectorSignature {
		t.Fatalf("signature %s, want %s", sig, vectorSignature)
	}
	// The method is signed upper-case, whatever the caller wrote.
	if lower := signature.StringToSign("post", "/api/v1/sso/token", vectorQuery, vectorAppCode, "1700000000",
		"n0nce-0123456789_ABCDEF", []byte(vectorBody)); lower != vectorSTS {
		t.Errorf("a lower-case method changes the string to sign: %q", lower)
	}
}

func TestStringToSignOfNoBodyEndsWithTheDigestOfNothing(t *testing.T) {
	t.Parallel()
	for _, body := range [][]byte{nil, {}} {
		got := signature.StringToSign("GET", "/api/v1/sso/userinfo", "", vectorAppCode, "1700000000", "n0nce-0123456789_ABCDEF", body)
		want := "JLB1-HMAC-SHA256\nGET\n/api/v1/sso/userinfo\n\n" + vectorAppCode + "\n1700000000\nn0nce-0123456789_ABCDEF\n" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		if got != want {
			t.Errorf("string to sign %q, want %q", got, want)
		}
	}
}

func TestEveryPartOfTheRequestIsSigned(t *testing.T) {
	t.Parallel()
	base := []string{"POST", "/api/v1/sso/token", "a=1", vectorAppCode, "1700000000", "n0nce-0123456789_ABCDEF", vectorBody}
	sts := func(p []string) string {
		return signature.StringToSign(p[0], p[1], p[2], p[3], p[4], p[5], []byte(p[6]))
	}
	want := sts(base)
	names := []string{"method", "path", "query", "appCode", "timestamp", "nonce", "body"}
	changed := []string{"PUT", "/api/v1/sso/tokens", "a=2", vectorAppCode[1:] + "0", "1700000001", "n0nce-0123456789_ABCDEG", vectorBody + " "}
	for i, name := range names {
		p := append([]string(nil), base...)
		p[i] = changed[i]
		if sts(p) == want {
			t.Errorf("changing the %s does not change the string to sign", name)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, raw, want string }{
		{"empty", "", ""},
		{"sorted by key", "b=2&a=1&c=3", "a=1&b=2&c=3"},
		{"a repeated key sorted by value", "a=2&a=10&a=1", "a=1&a=10&a=2"},
		{"a key before the longer keys it begins", "a-b=2&a=1&a0=3&a.b=4", "a=1&a-b=2&a.b=4&a0=3"},
		{"upper-case keys before lower-case", "b=1&B=2", "B=2&b=1"},
		{"a space as %20, whether sent as + or %20", "q=a+b&r=a%20b", "q=a%20b&r=a%20b"},
		{"a plus sign escaped", "q=a%2Bb", "q=a%2Bb"},
		{"UTF-8 with upper-case hex", "name=%e6%99%8b", "name=%E6%99%8B"},
		{"unreserved characters as they are", "k=%41z-_.~", "k=Az-_.~"},
		{"reserved characters escaped", "k=!*'()/:@,$?", "k=%21%2A%27%28%29%2F%3A%40%2C%24%3F"},
		{"an equals sign in a value", "k=a%3Db", "k=a%3Db"},
		{"a key without a value", "flag&a=1", "a=1&flag="},
		{"empty pairs dropped", "a=1&&b=2&", "a=1&b=2"},
		{"an escaped key", "%6Bey=v", "key=v"},
		{"a semicolon: signed as sent", "a=1;b=2", "a=1;b=2"},
		{"a broken escape: signed as sent", "a=%zz", "a=%zz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := signature.CanonicalQuery(tc.raw); got != tc.want {
				t.Errorf("CanonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

// validHeaders are well-formed signature headers.
func validHeaders() http.Header {
	h := http.Header{}
	h.Set(signature.HeaderAppCode, vectorAppCode)
	h.Set(signature.HeaderTimestamp, "1700000000")
	h.Set(signature.HeaderNonce, "n0nce-0123456789_ABCDEF")
	h.Set(signature.HeaderSignature, vectorSignature)
	return h
}

func TestParseReadsWellFormedHeaders(t *testing.T) {
	t.Parallel()
	got, err := signature.Parse(validHeaders())
	if err != nil {
		t.Fatal(err)
	}
	want := signature.Headers{AppCode: vectorAppCode, Timestamp: "1700000000", Time: time.Unix(1700000000, 0),
		Nonce: "n0nce-0123456789_ABCDEF", Signature: vectorSignature}
	if got != want {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}
	// The bounds of each form are accepted.
	for _, tc := range []struct{ header, value string }{
		{signature.HeaderAppCode, "a"},
		{signature.HeaderAppCode, strings.Repeat("f", 64)},
		{signature.HeaderTimestamp, "0"},
		{signature.HeaderTimestamp, "999999999999"},
		{signature.HeaderNonce, strings.Repeat("Z", 16)},
		{signature.HeaderNonce, strings.Repeat("-", 64)},
	} {
		h := validHeaders()
		h.Set(tc.header, tc.value)
		if _, err := signature.Parse(h); err != nil {
			t.Errorf("%s: %q refused: %v", tc.header, tc.value, err)
		}
	}
}

func TestParseNamesTheMissingOrMalformedHeader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header, value, reason string // value "" removes the header
	}{
		{signature.HeaderAppCode, "", "missing"},
		{signature.HeaderTimestamp, "", "missing"},
		{signature.HeaderNonce, "", "missing"},
		{signature.HeaderSignature, "", "missing"},
		{signature.HeaderAppCode, "F3229547E8C2507E2C59EBFFE9EE9F", "malformed"},
		{signature.HeaderAppCode, "g3229547", "malformed"},
		{signature.HeaderAppCode, strings.Repeat("a", 65), "malformed"},
		{signature.HeaderTimestamp, "1700000000.5", "malformed"},
		{signature.HeaderTimestamp, "-1", "malformed"},
		{signature.HeaderTimestamp, "+1700000000", "malformed"},
		{signature.HeaderTimestamp, " 1700000000", "malformed"},
		{signature.HeaderTimestamp, "1700000000000", "malformed"},
		{signature.HeaderTimestamp, "0x6553f100", "malformed"},
		{signature.HeaderNonce, strings.Repeat("n", 15), "malformed"},
		{signature.HeaderNonce, strings.Repeat("n", 65), "malformed"},
		{signature.HeaderNonce, "n0nce+0123456789/ABCDEF=", "malformed"},
		{signature.HeaderNonce, "n0nce-0123456789-ÄBCDEF", "malformed"},
		{signature.HeaderSignature, strings.ToUpper(vectorSignature), "malformed"},
		{signature.HeaderSignature, vectorSignature[1:], "malformed"},
		{signature.HeaderSignature, vectorSignature + "0", "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.header+" "+tc.value, func(t *testing.T) {
			t.Parallel()
			h := validHeaders()
			if tc.value == "" {
				h.Del(tc.header)
			} else {
				h.Set(tc.header, tc.value)
			}
			_, err := signature.Parse(h)
			var he *signature.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("Parse = %v, want a HeaderError naming %s", err, tc.header)
			}
			if he.Header != tc.header || (tc.reason == "missing") != (he.Reason == "missing") || he.Reason == "" {
				t.Errorf("HeaderError %+v, want %s %s", he, tc.header, tc.reason)
			}
			if !strings.HasPrefix(he.Error(), tc.header+": ") {
				t.Errorf("error %q does not start with the header's name", he.Error())
			}
		})
	}
}

func TestSignRequestSignsWhatTheServerVerifies(t *testing.T) {
	t.Parallel()
	body := []byte(vectorBody)
	now := time.Unix(1700000000, 0)
	req := httptest.NewRequest("POST", "https://open.example.gov.cn/api/v1/sso/token?lang=zh-CN&a=1", nil)
	signature.SignRequest(req, vectorAppCode, vectorSecret, body, now)

	h, err := signature.Parse(req.Header)
	if err != nil {
		t.Fatalf("the SDK's own headers do not parse: %v", err)
	}
	if h.AppCode != vectorAppCode || h.Timestamp != strconv.FormatInt(now.Unix(), 10) || len(h.Nonce) != 32 {
		t.Errorf("headers %+v, want appCode, the Unix time and a 32-character nonce", h)
	}
	sts := signature.StringToSign("POST", "/api/v1/sso/token", "a=1&lang=zh-CN", h.AppCode, h.Timestamp, h.Nonce, body)
	if !signature.Equal(h.Signature, signature.Sign(vectorSecret, sts)) {
		t.Error("the signature does not verify")
	}
	if signature.Equal(h.Signature, signature.Sign(vectorSecret+"x", sts)) {
		t.Error("the signature verifies with another secret")
	}
	// Each request gets its own nonce.
	again := httptest.NewRequest("POST", "https://open.example.gov.cn/api/v1/sso/token", nil)
	signature.SignRequest(again, vectorAppCode, vectorSecret, body, now)
	if again.Header.Get(signature.HeaderNonce) == h.Nonce {
		t.Error("two requests were signed with the same nonce")
	}
}

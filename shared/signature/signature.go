// Package signature is the signed-request scheme every call from a vendor's backend uses:
// HMAC-SHA256, keyed by the appSecret, over the method, path, sorted query, appCode,
// timestamp, nonce and a digest of the body, sent in headers. It has no dependencies beyond
// the standard library, so the vendor SDK and the platform share it.
//
// The string to sign is these lines, joined by "\n":
//
//	JLB1-HMAC-SHA256
//	<METHOD>                 e.g. POST
//	<path>                   e.g. /api/v1/sso/token (as sent, percent-encoded)
//	<canonical query>        keys and values percent-encoded (RFC 3986), sorted by key then value, joined by &
//	<appCode>
//	<timestamp>              Unix seconds
//	<nonce>                  16-64 characters of A-Z a-z 0-9 - _, never reused
//	<hex SHA-256 of the body> (of the empty string when there is no body)
//
// and the signature is the lower-case hex HMAC-SHA256 of it, keyed by the appSecret.
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm names the scheme; it is the first line of the string to sign.
const Algorithm = "JLB1-HMAC-SHA256"

// The headers of a signed request.
const (
	HeaderAppCode   = "X-Jlb-App-Code"
	HeaderTimestamp = "X-Jlb-Timestamp"
	HeaderNonce     = "X-Jlb-Nonce"
	HeaderSignature = "X-Jlb-Signature"
)

// StringToSign builds the canonical string for a request.
func StringToSign(method, path, rawQuery, appCode, timestamp, nonce string, body []byte) string {
	digest := sha256.Sum256(body)
	return strings.Join([]string{Algorithm, strings.ToUpper(method), path, CanonicalQuery(rawQuery), appCode, timestamp, nonce,
		hex.EncodeToString(digest[:])}, "\n")
}

// CanonicalQuery sorts a query by key, then value, with RFC 3986 percent-encoding.
func CanonicalQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return rawQuery // an unparsable query is signed as sent; it then fails to match
	}
	// Sorted by encoded key, then encoded value: not as whole "k=v" strings, which would put
	// "a-b=1" before "a=1" ('-' sorts before '=').
	pairs := make([][2]string, 0, len(values))
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, [2]string{encode(k), encode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&")
}

func encode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Sign returns the hex HMAC-SHA256 of stringToSign keyed by secret.
func Sign(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// Equal compares two hex signatures in constant time.
func Equal(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}

// NewNonce returns a fresh random nonce.
func NewNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SignRequest adds the signature headers to req, whose body is body.
func SignRequest(req *http.Request, appCode, secret string, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := NewNonce()
	sts := StringToSign(req.Method, req.URL.EscapedPath(), req.URL.RawQuery, appCode, ts, nonce, body)
	req.Header.Set(HeaderAppCode, appCode)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, Sign(secret, sts))
}

// Headers are a signed request's parsed headers.
type Headers struct {
	AppCode   string
	Timestamp string
	Time      time.Time
	Nonce     string
	Signature string
}

// HeaderError names a missing or malformed header.
type HeaderError struct {
	Header string
	Reason string
}

func (e *HeaderError) Error() string { return e.Header + ": " + e.Reason }

// Parse reads and checks the form of the signature headers.
func Parse(h http.Header) (Headers, error) {
	out := Headers{AppCode: h.Get(HeaderAppCode), Timestamp: h.Get(HeaderTimestamp), Nonce: h.Get(HeaderNonce),
		Signature: h.Get(HeaderSignature)}
	for _, c := range []struct{ name, val string }{
		{HeaderAppCode, out.AppCode}, {HeaderTimestamp, out.Timestamp}, {HeaderNonce, out.Nonce}, {HeaderSignature, out.Signature},
	} {
		if c.val == "" {
			return out, &HeaderError{c.name, "missing"}
		}
	}
	if len(out.AppCode) > 64 || !isLowerHex(out.AppCode) {
		return out, &HeaderError{HeaderAppCode, "must be the application's appCode (lower-case hex)"}
	}
	sec, err := strconv.ParseInt(out.Timestamp, 10, 64)
	if err != nil || len(out.Timestamp) > 12 || strings.IndexFunc(out.Timestamp, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return out, &HeaderError{HeaderTimestamp, "must be Unix time in seconds"}
	}
	out.Time = time.Unix(sec, 0)
	if len(out.Nonce) < 16 || len(out.Nonce) > 64 || strings.IndexFunc(out.Nonce, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return out, &HeaderError{HeaderNonce, "must be 16-64 characters of A-Z a-z 0-9 - _"}
	}
	if len(out.Signature) != 64 || !isLowerHex(out.Signature) {
		return out, &HeaderError{HeaderSignature, fmt.Sprintf("must be 64 lower-case hex digits (%s)", Algorithm)}
	}
	return out, nil
}

func isLowerHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return s != ""
}

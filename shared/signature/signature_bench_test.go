package signature_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/signature"
)

// The micro-benchmarks of the signed-request scheme: what a vendor's client does per call
// (SignRequest) and what the platform does per call before touching the database (Parse,
// StringToSign, Sign, Equal). Run with `go test -bench . -benchmem` (or `make bench`).

const (
	benchSecret  = "9d3e6c1f0a7b4e2d8c5f1a3b6e9d0c7f"
	benchAppCode = "f3229547e8c2507e2c59ebffe9ee9f"
	benchBody    = `{"ticket":"tk_5mY8dQ2rX0vJ3nL7pK9sW1zB4cF6hG2tA8eR0uI3oE"}`
)

func benchRequest(b *testing.B) (*http.Request, []byte) {
	b.Helper()
	body := []byte(benchBody)
	req, err := http.NewRequest("POST", "http://platform.test/api/v1/sso/token", nil)
	if err != nil {
		b.Fatal(err)
	}
	signature.SignRequest(req, benchAppCode, benchSecret, body, time.Now())
	return req, body
}

func BenchmarkSignRequest(b *testing.B) {
	req, body := benchRequest(b)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		signature.SignRequest(req, benchAppCode, benchSecret, body, now)
	}
}

func BenchmarkParse(b *testing.B) {
	req, _ := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := signature.Parse(req.Header); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStringToSign(b *testing.B) {
	body := []byte(benchBody)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	b.ReportAllocs()
	for b.Loop() {
		_ = signature.StringToSign("POST", "/api/v1/sso/token", "", benchAppCode, ts, "0123456789abcdef0123456789abcdef", body)
	}
}

func BenchmarkStringToSignWithQuery(b *testing.B) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	b.ReportAllocs()
	for b.Loop() {
		_ = signature.StringToSign("GET", "/api/v1/sms/sends", "page_size=50&page=2", benchAppCode, ts, "0123456789abcdef0123456789abcdef", nil)
	}
}

func BenchmarkSign(b *testing.B) {
	sts := signature.StringToSign("POST", "/api/v1/sso/token", "", benchAppCode, "1700000000", "0123456789abcdef0123456789abcdef", []byte(benchBody))
	b.ReportAllocs()
	for b.Loop() {
		_ = signature.Sign(benchSecret, sts)
	}
}

func BenchmarkEqual(b *testing.B) {
	x := signature.Sign(benchSecret, "a")
	y := signature.Sign(benchSecret, "a")
	b.ReportAllocs()
	for b.Loop() {
		if !signature.Equal(x, y) {
			b.Fatal("unequal")
		}
	}
}

// BenchmarkVerify is the platform's whole CPU share of checking one signed request with one
// candidate secret: parse the headers, rebuild the string to sign, sign it, compare.
func BenchmarkVerify(b *testing.B) {
	req, body := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		h, err := signature.Parse(req.Header)
		if err != nil {
			b.Fatal(err)
		}
		sts := signature.StringToSign(req.Method, req.URL.EscapedPath(), req.URL.RawQuery, h.AppCode, h.Timestamp, h.Nonce, body)
		if !signature.Equal(signature.Sign(benchSecret, sts), h.Signature) {
			b.Fatal("no match")
		}
	}
}

package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/signature"
)

const (
	appCode          = "f3229547e8c2507e2c59ebffe9ee9f"
	testSecret       = "test_9d3e6c1f0a7b4e2d8c5f1a3b6e9d0c7f"
	productionSecret = "4b1e8a7c2d9f0e3a6c5b8d1f4e7a0c3b"
)

// seen is what a stand-in platform learned of one request.
type seen struct {
	secret    string // the secret the signature verified with, "" when none did
	method    string
	path      string
	query     string
	body      string
	timestamp string
	header    http.Header
}

// platform is a stand-in for the gateway: it verifies every request against both secrets,
// records it, and answers with status and body.
func platform(t *testing.T, status int, contentType, body string) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var log []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		s := seen{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, body: string(raw), header: r.Header.Clone()}
		if h, err := signature.Parse(r.Header); err == nil {
			s.timestamp = h.Timestamp
			sts := signature.StringToSign(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, h.AppCode, h.Timestamp, h.Nonce, raw)
			for _, secret := range []string{testSecret, productionSecret} {
				if h.AppCode == appCode && signature.Equal(h.Signature, signature.Sign(secret, sts)) {
					s.secret = secret
				}
			}
		}
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), log...)
	}
}

func TestARefusalCarriesTheProblemsCodeDetailAndRequestID(t *testing.T) {
	t.Parallel()
	body := `{"type":"urn:jinlaiban:problem:signature-mismatch","title":"Unauthenticated","status":401,` +
		`"code":"signature-mismatch","detail":"The signature does not match.","request_id":"5f0c2a9e1b7d4c3a8e6f0b1d",` +
		`"string_to_sign":"JLB1-HMAC-SHA256\nPOST\n/api/v1/sso/token\n\n` + appCode + `\n1\nn\nx"}`
	srv, _ := platform(t, http.StatusUnauthorized, "application/problem+json", body)

	_, err := sdk.New(srv.URL, appCode, testSecret, "").ExchangeTicket(context.Background(), "test_tk_0123456789abcdef")
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *sdk.Error", err, err)
	}
	if e.Status != 401 || e.Code != "signature-mismatch" || e.Detail != "The signature does not match." || e.RequestID != "5f0c2a9e1b7d4c3a8e6f0b1d" {
		t.Errorf("error %+v, want 401 signature-mismatch with its detail and request id", e)
	}
	if sts, _ := e.Extra["string_to_sign"].(string); !strings.HasPrefix(sts, "JLB1-HMAC-SHA256\nPOST\n") {
		t.Errorf("Extra %v lost the string_to_sign", e.Extra)
	}
	for _, part := range []string{"401", "signature-mismatch", "The signature does not match.", "5f0c2a9e1b7d4c3a8e6f0b1d"} {
		if !strings.Contains(e.Error(), part) {
			t.Errorf("Error() %q does not mention %q", e.Error(), part)
		}
	}
	if sdk.Code(err) != "signature-mismatch" || sdk.Code(fmt.Errorf("signing in: %w", err)) != "signature-mismatch" {
		t.Errorf("Code(err) = %q, want signature-mismatch, wrapped or not", sdk.Code(err))
	}
}

func TestAnAnswerThatIsNoProblemIsAnUnknownError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
	}{
		{"a proxy's HTML page", http.StatusBadGateway, "text/html", "<html><body>502 Bad Gateway</body></html>"},
		{"JSON without a code", http.StatusServiceUnavailable, "application/json", `{"message":"upstream connect error"}`},
		{"an empty body", http.StatusInternalServerError, "text/plain", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := platform(t, tc.status, tc.contentType, tc.body)
			_, err := sdk.New(srv.URL, appCode, testSecret, "").ExchangeTicket(context.Background(), "test_tk_0123456789abcdef")
			var e *sdk.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != "unknown" || sdk.Code(err) != "unknown" {
				t.Errorf("error %#v, want status %d with code unknown", err, tc.status)
			}
		})
	}
	if sdk.Code(errors.New("dial tcp: connection refused")) != "" {
		t.Error("Code of an error that is not the platform's is not empty")
	}
}

func TestTheTicketsPrefixChoosesTheSecret(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ticket, env, secret string
	}{
		{"test_tk_0123456789abcdef", "test", testSecret},
		{"tk_0123456789abcdef0123", "production", productionSecret},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			t.Parallel()
			srv, requests := platform(t, http.StatusOK, "application/json",
				`{"access_token":"at_x","token_type":"Bearer","expires_in":300,"environment":"`+tc.env+`"}`)
			client := sdk.New(srv.URL, appCode, testSecret, productionSecret)
			tok, err := client.ExchangeTicket(context.Background(), tc.ticket)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.UserInfo(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			got := requests()
			if len(got) != 2 {
				t.Fatalf("%d requests, want the exchange and user info", len(got))
			}
			exchange, userInfo := got[0], got[1]
			if exchange.secret != tc.secret || exchange.method != "POST" || exchange.path != "/api/v1/sso/token" ||
				exchange.body != `{"ticket":"`+tc.ticket+`"}` || exchange.header.Get("Content-Type") != "application/json" {
				t.Errorf("exchange %+v, want a JSON POST of the ticket signed with the %s secret", exchange, tc.env)
			}
			if userInfo.secret != tc.secret || userInfo.method != "GET" || userInfo.path != "/api/v1/sso/userinfo" ||
				userInfo.header.Get("Authorization") != "Bearer at_x" || userInfo.body != "" {
				t.Errorf("user info %+v, want a GET with the token as bearer, signed with the %s secret", userInfo, tc.env)
			}
			if sdk.Environment(tc.ticket) != tc.env {
				t.Errorf("Environment(%q) = %q, want %q", tc.ticket, sdk.Environment(tc.ticket), tc.env)
			}
		})
	}
}

func TestWithoutTheEnvironmentsSecretNothingIsSent(t *testing.T) {
	t.Parallel()
	srv, requests := platform(t, http.StatusOK, "application/json", `{}`)
	_, err := sdk.New(srv.URL, appCode, testSecret, "").ExchangeTicket(context.Background(), "tk_0123456789abcdef0123")
	if err == nil || !strings.Contains(err.Error(), "production") {
		t.Errorf("error %v, want one saying there is no production appSecret", err)
	}
	if n := len(requests()); n != 0 {
		t.Errorf("%d requests sent without a secret", n)
	}
}

func TestCallSignsTheQueryAndBodyWithTheClientsClock(t *testing.T) {
	t.Parallel()
	srv, requests := platform(t, http.StatusOK, "application/json", `{"ok":true}`)
	client := sdk.New(srv.URL+"/", appCode, testSecret, productionSecret)
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	client.Now = func() time.Time { return at }
	var out struct{ OK bool }
	query := url.Values{"page": {"2"}, "name": {"晋 来办"}, "a-b": {"x"}, "a": {"y"}}
	if err := client.Call(context.Background(), "production", "POST", "/api/v1/things", query, map[string]int{"n": 1}, &out); err != nil {
		t.Fatal(err)
	}
	got := requests()[0]
	if got.secret != productionSecret || got.path != "/api/v1/things" || got.body != `{"n":1}` || !out.OK {
		t.Errorf("request %+v (answer %+v), want a signed POST of the body to /api/v1/things", got, out)
	}
	if q, _ := url.ParseQuery(got.query); q.Get("name") != "晋 来办" || q.Get("page") != "2" {
		t.Errorf("query %q, want the values sent", got.query)
	}
	if got.timestamp != strconv.FormatInt(at.Unix(), 10) {
		t.Errorf("timestamp %s, want the client's clock %d", got.timestamp, at.Unix())
	}
}

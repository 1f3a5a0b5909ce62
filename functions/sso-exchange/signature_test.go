package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/signature"
)

// signedAt builds an exchange request to tokenPath?query, signed as the SDK would.
func (h *harness) signedAt(t *testing.T, query, appCode, secret string, body []byte) *http.Request {
	t.Helper()
	target := h.srv.URL + tokenPath
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequestWithContext(context.Background(), "POST", target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	signature.SignRequest(req, appCode, secret, body, time.Now())
	return req
}

// ticketStillWorks fails the test unless the application can exchange the ticket: a refused
// request must not have used it up.
func (h *harness) ticketStillWorks(t *testing.T, a *application, ticket string) {
	t.Helper()
	if _, err := h.client(a).ExchangeTicket(context.Background(), ticket); err != nil {
		t.Errorf("the ticket no longer exchanges after a refused request: %v", err)
	}
}

func TestAWrongSecretIsAMismatchExplainedWithoutRevealingAnySecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	other := h.newApp(t, "社保系统")
	s := h.service(t, a, "公积金提取", true) // a has a production secret too
	c := h.newCitizen(t, "13900000001", "")

	cases := []struct{ name, secret string }{
		{"a made-up secret", apps.NewSecret(apps.EnvTest)},
		{"another application's secret", other.testSecret},
		{"the secret with a typo", a.testSecret[:len(a.testSecret)-1] + "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tk := h.ticket(t, c, s)
			body := exchangeBody(tk)
			req := h.signedAt(t, "lang=zh-CN&a=1", a.AppCode, tc.secret, body)
			r := h.send(t, req, body)
			p := r.wantProblem(t, http.StatusUnauthorized, "signature-mismatch")

			want := signature.StringToSign("POST", tokenPath, "lang=zh-CN&a=1", a.AppCode, req.Header.Get(signature.HeaderTimestamp),
				req.Header.Get(signature.HeaderNonce), body)
			sum := sha256.Sum256([]byte(want))
			if p.StringToSign != want || p.StringToSignSHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("string_to_sign %q (sha256 %s), want %q (sha256 %x)", p.StringToSign, p.StringToSignSHA256, want, sum)
			}
			for what, secret := range map[string]string{
				"test secret": a.testSecret, "production secret": a.productionSecret, "secret sent": tc.secret,
				"expected signature":                 signature.Sign(a.testSecret, want),
				"expected production-side signature": signature.Sign(a.productionSecret, want),
			} {
				if bytes.Contains(r.body, []byte(secret)) {
					t.Errorf("the refusal reveals the %s: %s", what, r.body)
				}
			}
			h.ticketStillWorks(t, a, tk)
		})
	}
}

func TestASkewedClockIsRefusedWithTheServersTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")

	cases := []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"10 minutes ahead", 10 * time.Minute, false},
		{"10 minutes behind", -10 * time.Minute, false},
		{"4 minutes ahead, within the window", 4 * time.Minute, true},
		{"4 minutes behind, within the window", -4 * time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client := h.client(a)
			client.Now = func() time.Time { return time.Now().Add(tc.offset) }
			tk := h.ticket(t, c, s)
			before := time.Now().Unix()
			_, err := client.ExchangeTicket(context.Background(), tk)
			if tc.ok {
				if err != nil {
					t.Fatalf("a clock %v off is within the window, yet: %v", tc.offset, err)
				}
				return
			}
			e := wantSDKError(t, err, http.StatusUnauthorized, "clock-skew")
			st, _ := e.Extra["server_time"].(float64)
			if int64(st) < before || int64(st) > time.Now().Unix() {
				t.Errorf("server_time %v, want the server's clock (about %d)", e.Extra["server_time"], before)
			}
			h.ticketStillWorks(t, a, tk)
		})
	}
}

func TestTheSameSignedRequestSentTwiceIsARefusedReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")
	body := exchangeBody(h.ticket(t, c, s))
	req := h.signed(t, a.AppCode, a.testSecret, body)

	h.send(t, req, body).token(t)
	h.send(t, req, body).wantProblem(t, http.StatusUnauthorized, "nonce-reused")
	// The nonce is refused before the exchange: the token of the first request stands.
	if n := scalar[int](t, h, `SELECT count(*) FROM access_tokens WHERE revoked_at IS NULL`); n != 1 {
		t.Errorf("%d live tokens, want the first request's one", n)
	}
}

func TestAnythingChangedAfterSigningBreaksTheSignature(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")

	cases := []struct {
		name        string
		signedQuery string
		change      func(req *http.Request, body []byte) []byte // returns the body to send
	}{
		{"the body", "", func(req *http.Request, body []byte) []byte {
			return exchangeBody(h.ticket(t, c, s))
		}},
		{"the body's spacing", "", func(req *http.Request, body []byte) []byte {
			return bytes.Replace(body, []byte(":"), []byte(": "), 1)
		}},
		{"a query value", "lang=zh-CN", func(req *http.Request, body []byte) []byte {
			req.URL.RawQuery = "lang=en"
			return body
		}},
		{"a query parameter added", "", func(req *http.Request, body []byte) []byte {
			req.URL.RawQuery = "debug=1"
			return body
		}},
		{"a query parameter dropped", "lang=zh-CN&debug=1", func(req *http.Request, body []byte) []byte {
			req.URL.RawQuery = "lang=zh-CN"
			return body
		}},
		{"the timestamp, within the window", "", func(req *http.Request, body []byte) []byte {
			ts, _ := strconv.ParseInt(req.Header.Get(signature.HeaderTimestamp), 10, 64)
			req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(ts-1, 10))
			return body
		}},
		{"the nonce", "", func(req *http.Request, body []byte) []byte {
			req.Header.Set(signature.HeaderNonce, signature.NewNonce())
			return body
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tk := h.ticket(t, c, s)
			body := exchangeBody(tk)
			req := h.signedAt(t, tc.signedQuery, a.AppCode, a.testSecret, body)
			sent := tc.change(req, body)
			h.send(t, req, sent).wantProblem(t, http.StatusUnauthorized, "signature-mismatch")
			h.ticketStillWorks(t, a, tk)
		})
	}
}

func TestQueryOrderAndEncodingDoNotMatterToTheSignature(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")

	// The server signs what it received; a proxy reordering the query breaks nothing.
	body := exchangeBody(h.ticket(t, c, s))
	req := h.signedAt(t, "b=2&a=1&name=%E6%99%8B+%E6%9D%A5", a.AppCode, a.testSecret, body)
	req.URL.RawQuery = "a=1&name=%E6%99%8B%20%E6%9D%A5&b=2"
	h.send(t, req, body).token(t)
}

func TestAnUnknownAppCodeIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	body := exchangeBody("test_tk_" + strings.Repeat("A", 43))
	r := h.send(t, h.signed(t, apps.NewAppCode(), a.testSecret, body), body)
	p := r.wantProblem(t, http.StatusUnauthorized, "unknown-app-code")
	if bytes.Contains(r.body, []byte(a.testSecret)) || p.StringToSign != "" {
		t.Errorf("the refusal says more than that the appCode is unknown: %s", r.body)
	}
}

func TestEachMissingOrMalformedSignatureHeaderIsNamed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	now := strconv.FormatInt(time.Now().Unix(), 10)

	cases := []struct {
		header, value, code string
	}{
		{signature.HeaderAppCode, "", "signature-missing"},
		{signature.HeaderTimestamp, "", "signature-missing"},
		{signature.HeaderNonce, "", "signature-missing"},
		{signature.HeaderSignature, "", "signature-missing"},
		{signature.HeaderAppCode, strings.ToUpper(a.AppCode), "signature-malformed"},
		{signature.HeaderAppCode, "app-" + a.AppCode, "signature-malformed"},
		{signature.HeaderAppCode, strings.Repeat("a", 65), "signature-malformed"},
		{signature.HeaderTimestamp, "yesterday", "signature-malformed"},
		{signature.HeaderTimestamp, "-" + now, "signature-malformed"},
		{signature.HeaderTimestamp, "+" + now, "signature-malformed"},
		{signature.HeaderTimestamp, now + "000", "signature-malformed"}, // milliseconds
		{signature.HeaderTimestamp, now + ".5", "signature-malformed"},
		{signature.HeaderNonce, "tooshort", "signature-malformed"},
		{signature.HeaderNonce, strings.Repeat("n", 65), "signature-malformed"},
		{signature.HeaderNonce, "nonce with spaces in it", "signature-malformed"},
		{signature.HeaderNonce, "nonce/with+base64=chars", "signature-malformed"},
		{signature.HeaderSignature, strings.Repeat("A", 64), "signature-malformed"},
		{signature.HeaderSignature, strings.Repeat("a", 63), "signature-malformed"},
		{signature.HeaderSignature, "sha256=" + strings.Repeat("a", 64), "signature-malformed"},
	}
	for _, tc := range cases {
		name := tc.header + " missing"
		if tc.value != "" {
			name = tc.header + " " + tc.value
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := exchangeBody("test_tk_" + strings.Repeat("A", 43))
			req := h.signed(t, a.AppCode, a.testSecret, body)
			if tc.value == "" {
				req.Header.Del(tc.header)
			} else {
				req.Header.Set(tc.header, tc.value)
			}
			p := h.send(t, req, body).wantProblem(t, http.StatusUnauthorized, tc.code)
			if p.Header != tc.header || !strings.Contains(p.Detail, tc.header) {
				t.Errorf("problem names header %q (detail %q), want %s", p.Header, p.Detail, tc.header)
			}
		})
	}
}

func TestSecretRotationOverlapsThenRetiresTheOldSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")
	ctx := context.Background()

	oldSecret := a.testSecret
	var rotated apps.Secret
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		var err error
		rotated, err = apps.Rotate(ctx, tx, h.sealer, a.ID, apps.EnvTest, time.Hour)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	withOld := h.client(a)
	a.testSecret = rotated.Secret
	withNew := h.client(a)

	// During the overlap both secrets sign.
	if _, err := withOld.ExchangeTicket(ctx, h.ticket(t, c, s)); err != nil {
		t.Errorf("the old secret during the overlap: %v", err)
	}
	if _, err := withNew.ExchangeTicket(ctx, h.ticket(t, c, s)); err != nil {
		t.Errorf("the new secret during the overlap: %v", err)
	}

	// The overlap ends: the old secret is retired, the new one goes on.
	h.exec(t, `UPDATE app_secrets SET expires_at = now() - interval '1 second' WHERE application_id = $1 AND id <> $2`, a.ID, rotated.ID)
	_, err = withOld.ExchangeTicket(ctx, h.ticket(t, c, s))
	wantSDKError(t, err, http.StatusUnauthorized, "signature-mismatch")
	if _, err := withNew.ExchangeTicket(ctx, h.ticket(t, c, s)); err != nil {
		t.Errorf("the new secret after the overlap: %v", err)
	}
	if oldSecret == rotated.Secret {
		t.Fatal("rotation gave the same secret")
	}
}

package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/accounts"
)

// TestSecretsNeverLeakIntoLogsOrDatabase runs the whole back-office story, noting every
// password, token and mobile number that goes over the wire, then looks for each of them in
// the captured logs and in every row of every table.
func TestSecretsNeverLeakIntoLogsOrDatabase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	var passwords, tokens []string
	mobiles := []string{"13800138000"} // the harness admin's
	noteSession := func(s session) session {
		tokens = append(tokens, s.Token, s.CSRFToken)
		return s
	}
	tokens = append(tokens, h.admin.Token, h.admin.CSRF)
	passwords = append(passwords, h.admin.Password)

	// A bootstrap administrator signs in with a cookie and changes its initial password.
	passwords = append(passwords, "Bootstrap-Secret-1", "Bootstrap-Secret-2")
	if _, err := accounts.Create(ctx, h.pool, h.sealer, accounts.New{Role: "admin", Login: "boss", Password: "Bootstrap-Secret-1"}); err != nil {
		t.Fatal(err)
	}
	boss := noteSession(h.signIn(t, "boss", "Bootstrap-Secret-1"))
	h.do(t, "POST", "/api/v1/me/password", changePassword("Bootstrap-Secret-1", "Bootstrap-Secret-2"), browser(boss.Token, boss.CSRFToken)).
		want(t, http.StatusNoContent)

	// It issues two vendors: one with a generated password, one with a chosen one.
	mobiles = append(mobiles, "13912345678", "18687654321")
	f := newVendorForm("acme")
	v1 := h.createVendor(t, f)
	f2 := vendorForm{CompanyName: "Beta Foods", ContactName: "Zhang San", ContactMobile: "18687654321", Login: "beta", InitialPassword: "Chosen-Initial-9"}
	var v2 createdVendorReply
	h.do(t, "POST", "/api/v1/admin/vendors", f2, browser(boss.Token, boss.CSRFToken)).want(t, http.StatusCreated).decode(t, &v2)
	passwords = append(passwords, v1.InitialPassword, v2.InitialPassword)

	// The vendors sign in, one mistypes first, and both change their passwords.
	passwords = append(passwords, "Mistyped-Secret-3", "Vendor-New-Secret-4", "Vendor-New-Secret-5")
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", "Mistyped-Secret-3")).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	a := noteSession(h.signIn(t, "acme", v1.InitialPassword))
	h.do(t, "POST", "/api/v1/me/password", changePassword("Mistyped-Secret-3", "Vendor-New-Secret-4"), bearer(a.Token)).
		wantProblem(t, http.StatusForbidden, "invalid-credentials")
	h.do(t, "POST", "/api/v1/me/password", changePassword(v1.InitialPassword, "Vendor-New-Secret-4"), bearer(a.Token)).want(t, http.StatusNoContent)
	b := noteSession(h.signIn(t, "beta", "Chosen-Initial-9"))
	h.do(t, "POST", "/api/v1/me/password", changePassword("Chosen-Initial-9", "Vendor-New-Secret-5"), browser(b.Token, b.CSRFToken)).want(t, http.StatusNoContent)
	h.me(t, browser(b.Token, "")).want(t, http.StatusOK)

	// The administrator lists, reads, disables, enables and resets.
	h.do(t, "GET", "/api/v1/admin/vendors", nil, bearer(boss.Token)).want(t, http.StatusOK)
	h.do(t, "GET", "/api/v1/admin/vendors/"+v1.ID, nil, bearer(boss.Token)).want(t, http.StatusOK)
	h.do(t, "POST", "/api/v1/admin/vendors/"+v1.ID+"/disable", map[string]string{"reason": "audit pending"}, bearer(boss.Token)).want(t, http.StatusOK)
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", "Vendor-New-Secret-4")).wantProblem(t, http.StatusForbidden, "account-disabled")
	h.do(t, "POST", "/api/v1/admin/vendors/"+v1.ID+"/enable", nil, bearer(boss.Token)).want(t, http.StatusOK)
	var reset struct {
		InitialPassword string `json:"initial_password"`
	}
	h.do(t, "POST", "/api/v1/admin/vendors/"+v2.ID+"/password-reset", nil, browser(boss.Token, boss.CSRFToken)).want(t, http.StatusOK).decode(t, &reset)
	passwords = append(passwords, reset.InitialPassword)
	c := noteSession(h.signIn(t, "beta", reset.InitialPassword))

	// Refusals of every kind, some carrying secrets in odd places.
	h.do(t, "POST", "/api/v1/admin/vendors/"+v1.ID+"/disable", map[string]string{"reason": "csrf"}, browser(boss.Token, "Wrong-Csrf-Secret")).
		wantProblem(t, http.StatusForbidden, "csrf-token-invalid")
	// Someone types the password into the login box, then both into the password box.
	h.do(t, "POST", "/api/v1/sessions", credentials("Vendor-New-Secret-4", "Vendor-New-Secret-4")).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	h.do(t, "POST", "/api/v1/sessions", `{"login":"beta","password":"Malformed-Secret-6"`).wantProblem(t, http.StatusBadRequest, "malformed-body")
	h.do(t, "POST", "/api/v1/sessions", `{"login":"beta","password":"Unknown-Field-Secret-7","otp":"1"}`).wantProblem(t, http.StatusBadRequest, "unknown-field")
	h.do(t, "GET", "/api/v1/nowhere?password=Query-Secret-8&token="+c.Token, nil, bearer(c.Token)).wantProblem(t, http.StatusNotFound, "not-found")
	passwords = append(passwords, "Malformed-Secret-6", "Unknown-Field-Secret-7", "Query-Secret-8")

	// Sign-outs.
	h.do(t, "DELETE", "/api/v1/sessions/current", nil, browser(boss.Token, boss.CSRFToken)).want(t, http.StatusNoContent)
	h.do(t, "DELETE", "/api/v1/sessions/current", nil, bearer(c.Token)).want(t, http.StatusNoContent)

	secrets := map[string]string{}
	for _, p := range passwords {
		secrets[p] = "password"
	}
	for _, tok := range tokens {
		secrets[tok] = "token"
	}

	// The logs: they were written (one line per request at least), and hold none of it.
	logs := h.logs.String()
	if n := strings.Count(logs, `"msg":"request"`); n < 20 || !strings.Contains(logs, `"path":"/api/v1/me/password"`) {
		t.Fatalf("only %d request log lines captured; the log check would prove nothing:\n%s", n, logs)
	}
	for s, kind := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain a %s (%.8s…)", kind, s)
		}
	}
	for _, m := range mobiles {
		if strings.Contains(logs, m) {
			t.Errorf("the logs contain the mobile number %s", m)
		}
	}

	// The database: every row of every table as text, bytea columns as hex.
	dump := h.dump(t)
	for _, table := range []string{"accounts", "sessions", "audit_log", "login_throttle"} {
		if len(dump[table]) == 0 {
			t.Fatalf("table %s is empty; the scan would prove nothing", table)
		}
	}
	for s, kind := range secrets {
		for _, form := range encodings(s) {
			for table, rows := range dump {
				for _, row := range rows {
					if strings.Contains(strings.ToLower(row), strings.ToLower(form)) {
						t.Errorf("table %s holds a %s (%.8s…): %s", table, kind, s, row)
					}
				}
			}
		}
	}
	for _, m := range mobiles {
		for _, form := range encodings(m) {
			for table, rows := range dump {
				for _, row := range rows {
					if strings.Contains(row, form) {
						t.Errorf("table %s holds the mobile number %s in plaintext: %s", table, m, row)
					}
				}
			}
		}
	}
}

// encodings are the forms a value could take in a row_to_json dump: itself, and the
// hexadecimal and base64 of its bytes (how bytea and encoded blobs show).
func encodings(s string) []string {
	return []string{s, hex.EncodeToString([]byte(s)), base64.StdEncoding.EncodeToString([]byte(s)),
		base64.RawURLEncoding.EncodeToString([]byte(s))}
}

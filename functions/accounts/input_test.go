package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestBadRequestBodiesAreRefusedWithStableProblems(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	admin := bearer(h.admin.Token)
	anonymous := option(func(*outgoing) {})
	huge := strings.Repeat("a", 70<<10)
	type body = string

	for _, tc := range []struct {
		name        string
		path        string
		auth        option
		contentType string // "" keeps application/json; "-" sends none
		body        body
		status      int
		code        string
		params      []string
	}{
		// The envelope, on each operation that reads a body.
		{"sign-in malformed JSON", "/api/v1/sessions", anonymous, "", `{"login": "root", "password": `, 400, "malformed-body", nil},
		{"sign-in unquoted keys", "/api/v1/sessions", anonymous, "", `{login: "root"}`, 400, "malformed-body", nil},
		{"sign-in trailing comma", "/api/v1/sessions", anonymous, "", `{"login": "root", "password": "x",}`, 400, "malformed-body", nil},
		{"sign-in empty body", "/api/v1/sessions", anonymous, "", ``, 400, "malformed-body", nil},
		{"sign-in whitespace body", "/api/v1/sessions", anonymous, "", " \n\t ", 400, "malformed-body", nil},
		{"sign-in two objects", "/api/v1/sessions", anonymous, "", `{"login":"a","password":"b"}{"login":"c","password":"d"}`, 400, "malformed-body", nil},
		{"sign-in object then garbage", "/api/v1/sessions", anonymous, "", `{"login":"a","password":"b"} x`, 400, "malformed-body", nil},
		{"sign-in array", "/api/v1/sessions", anonymous, "", `[{"login":"root","password":"x"}]`, 400, "malformed-body", nil},
		{"sign-in bare string", "/api/v1/sessions", anonymous, "", `"root"`, 400, "malformed-body", nil},
		{"sign-in unknown field", "/api/v1/sessions", anonymous, "", `{"login":"root","password":"x","remember_me":true}`, 400, "unknown-field", []string{"remember_me"}},
		{"sign-in as text/plain", "/api/v1/sessions", anonymous, "text/plain", `{"login":"root","password":"x"}`, 415, "unsupported-media-type", nil},
		{"sign-in as a form", "/api/v1/sessions", anonymous, "application/x-www-form-urlencoded", `login=root&password=x`, 415, "unsupported-media-type", nil},
		{"sign-in as multipart", "/api/v1/sessions", anonymous, "multipart/form-data; boundary=x", "--x\r\n\r\n--x--", 415, "unsupported-media-type", nil},
		{"sign-in without Content-Type", "/api/v1/sessions", anonymous, "-", `{"login":"root","password":"x"}`, 415, "unsupported-media-type", nil},
		{"sign-in with broken Content-Type", "/api/v1/sessions", anonymous, "application/json; charset", `{"login":"root","password":"x"}`, 415, "unsupported-media-type", nil},
		{"sign-in body over 64 KiB", "/api/v1/sessions", anonymous, "", `{"login":"root","password":"` + huge + `"}`, 413, "body-too-large", nil},
		{"sign-in padded over 64 KiB", "/api/v1/sessions", anonymous, "", `{"login":"root","password":"x"}` + strings.Repeat(" ", 70<<10), 413, "body-too-large", nil},
		// Types and fields.
		{"sign-in login as number", "/api/v1/sessions", anonymous, "", `{"login":123,"password":"x"}`, 400, "malformed-body", []string{"login"}},
		{"sign-in password as boolean", "/api/v1/sessions", anonymous, "", `{"login":"root","password":true}`, 400, "malformed-body", []string{"password"}},
		{"sign-in login as array", "/api/v1/sessions", anonymous, "", `{"login":["root"],"password":"x"}`, 400, "malformed-body", []string{"login"}},
		{"sign-in login as operator object", "/api/v1/sessions", anonymous, "", `{"login":{"$ne":null},"password":{"$ne":null}}`, 400, "malformed-body", []string{"login"}},
		{"sign-in null", "/api/v1/sessions", anonymous, "", `null`, 422, "validation-failed", []string{"login", "password"}},
		{"sign-in nothing", "/api/v1/sessions", anonymous, "", `{}`, 422, "validation-failed", []string{"login", "password"}},
		{"sign-in nulls", "/api/v1/sessions", anonymous, "", `{"login":null,"password":null}`, 422, "validation-failed", []string{"login", "password"}},
		{"sign-in no password", "/api/v1/sessions", anonymous, "", `{"login":"root"}`, 422, "validation-failed", []string{"password"}},
		{"sign-in blank login", "/api/v1/sessions", anonymous, "", `{"login":"  ","password":"x"}`, 422, "validation-failed", []string{"login"}},
		{"sign-in login too long", "/api/v1/sessions", anonymous, "", `{"login":"` + strings.Repeat("a", 65) + `","password":"x"}`, 422, "validation-failed", []string{"login"}},
		{"sign-in login on two lines", "/api/v1/sessions", anonymous, "", `{"login":"root\nadmin","password":"x"}`, 422, "validation-failed", []string{"login"}},
		{"sign-in login with NUL", "/api/v1/sessions", anonymous, "", `{"login":"root\u0000","password":"x"}`, 422, "validation-failed", []string{"login"}},
		{"sign-in password too long", "/api/v1/sessions", anonymous, "", `{"login":"root","password":"` + strings.Repeat("p", 513) + `"}`, 422, "validation-failed", []string{"password"}},

		{"create vendor malformed", "/api/v1/admin/vendors", admin, "", `{"login":"acme"`, 400, "malformed-body", nil},
		{"create vendor empty body", "/api/v1/admin/vendors", admin, "", ``, 400, "malformed-body", nil},
		{"create vendor two objects", "/api/v1/admin/vendors", admin, "", `{}{}`, 400, "malformed-body", nil},
		{"create vendor as text/plain", "/api/v1/admin/vendors", admin, "text/plain", `{}`, 415, "unsupported-media-type", nil},
		{"create vendor over 64 KiB", "/api/v1/admin/vendors", admin, "", `{"company_name":"` + huge + `"}`, 413, "body-too-large", nil},
		{"create vendor asking for admin role", "/api/v1/admin/vendors", admin, "",
			`{"company_name":"Acme","contact_name":"Li","contact_mobile":"13912345678","login":"acme2","role":"admin"}`, 400, "unknown-field", []string{"role"}},
		{"create vendor skipping password change", "/api/v1/admin/vendors", admin, "",
			`{"company_name":"Acme","contact_name":"Li","contact_mobile":"13912345678","login":"acme2","must_change_password":false}`, 400, "unknown-field", []string{"must_change_password"}},
		{"create vendor choosing its id", "/api/v1/admin/vendors", admin, "",
			`{"id":"` + h.admin.ID + `","company_name":"Acme","contact_name":"Li","contact_mobile":"13912345678","login":"acme2"}`, 400, "unknown-field", []string{"id"}},
		{"create vendor mobile as number", "/api/v1/admin/vendors", admin, "",
			`{"company_name":"Acme","contact_name":"Li","contact_mobile":13912345678,"login":"acme2"}`, 400, "malformed-body", []string{"contact_mobile"}},
		{"create vendor fields too long", "/api/v1/admin/vendors", admin, "",
			`{"company_name":"` + strings.Repeat("c", 101) + `","contact_name":"` + strings.Repeat("n", 51) + `","contact_mobile":"` + strings.Repeat("1", 12) + `","login":"` + strings.Repeat("l", 33) + `"}`,
			422, "validation-failed", []string{"company_name", "contact_mobile", "contact_name", "login"}},

		{"change password unknown field", "/api/v1/me/password", bearer(vendor.Token), "", `{"current_password":"x","new_password":"a-good-new-password","login":"root"}`, 400, "unknown-field", []string{"login"}},
		{"change password as form", "/api/v1/me/password", bearer(vendor.Token), "application/x-www-form-urlencoded", `current_password=x&new_password=y`, 415, "unsupported-media-type", nil},
		{"change password number", "/api/v1/me/password", bearer(vendor.Token), "", `{"current_password":"x","new_password":1234567890}`, 400, "malformed-body", []string{"new_password"}},
		{"change password over 64 KiB", "/api/v1/me/password", bearer(vendor.Token), "", `{"current_password":"` + huge + `"}`, 413, "body-too-large", nil},

		{"disable unknown field", "/api/v1/admin/vendors/" + vendor.ID + "/disable", admin, "", `{"reason":"unpaid","until":"2030-01-01"}`, 400, "unknown-field", []string{"until"}},
		{"disable reason as number", "/api/v1/admin/vendors/" + vendor.ID + "/disable", admin, "", `{"reason":42}`, 400, "malformed-body", []string{"reason"}},
		{"disable as text/plain", "/api/v1/admin/vendors/" + vendor.ID + "/disable", admin, "text/plain", `{"reason":"unpaid invoices"}`, 415, "unsupported-media-type", nil},
		{"disable over 64 KiB", "/api/v1/admin/vendors/" + vendor.ID + "/disable", admin, "", `{"reason":"` + huge + `"}`, 413, "body-too-large", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := h.dump(t)
			opts := []option{tc.auth}
			switch tc.contentType {
			case "":
			case "-":
				opts = append(opts, withHeader("Content-Type", ""))
			default:
				opts = append(opts, withHeader("Content-Type", tc.contentType))
			}
			p := h.do(t, "POST", tc.path, tc.body, opts...).wantProblem(t, tc.status, tc.code)
			if tc.params != nil && !slices.Equal(p.paramNames(), tc.params) {
				t.Errorf("invalid_params %+v, want %v", p.Params, tc.params)
			}
			if p.Detail == "" {
				t.Error("no detail to act on")
			}
			h.unchanged(t, before)
		})
	}
}

func TestJSONContentTypeVariantsAreAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.jinlaiban+json"} {
		h.signIn(t, "root", h.admin.Password, withHeader("Content-Type", ct))
	}
}

func TestUnknownRoutesAndMethodsAnswerProblems(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	id := vendor.ID

	for _, tc := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/api/v1"},
		{"GET", "/api/v1/nothing-here"},
		{"GET", "/api/v2/me"},
		{"GET", "/api/v1/admin/vendors/"},
		{"POST", "/api/v1/admin/vendors/" + id + "/delete"},
		{"POST", "/api/v1/admin/accounts"},
		{"GET", "/api/v1/admin/vendors/" + id + "/sessions"},
		{"GET", "/api/v1/me/password/x"},
		{"GET", "/api/v1/admin/vendors/%27%20OR%201%3D1--/x"},
		{"GET", "/.env"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			for _, cred := range []option{func(*outgoing) {}, bearer(h.admin.Token)} {
				h.do(t, tc.method, tc.path, nil, cred).wantProblem(t, http.StatusNotFound, "not-found")
			}
		})
	}

	for _, tc := range []struct {
		method, path string
		allow        []string
	}{
		{"GET", "/api/v1/sessions", []string{"POST"}},
		{"PUT", "/api/v1/sessions", []string{"POST"}},
		{"GET", "/api/v1/sessions/current", []string{"DELETE"}},
		{"POST", "/api/v1/me", []string{"GET"}},
		{"DELETE", "/api/v1/me", []string{"GET"}},
		{"GET", "/api/v1/me/password", []string{"POST"}},
		{"PUT", "/api/v1/me/password", []string{"POST"}},
		{"DELETE", "/api/v1/admin/vendors", []string{"GET", "POST"}},
		{"PATCH", "/api/v1/admin/vendors/" + id, []string{"GET"}},
		{"DELETE", "/api/v1/admin/vendors/" + id, []string{"GET"}},
		{"GET", "/api/v1/admin/vendors/" + id + "/disable", []string{"POST"}},
		{"DELETE", "/api/v1/admin/vendors/" + id + "/enable", []string{"POST"}},
		{"GET", "/api/v1/admin/vendors/" + id + "/password-reset", []string{"POST"}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			before := h.dump(t)
			r := h.do(t, tc.method, tc.path, nil, bearer(h.admin.Token))
			r.wantProblem(t, http.StatusMethodNotAllowed, "method-not-allowed")
			allow := strings.Split(strings.ReplaceAll(r.header.Get("Allow"), " ", ""), ",")
			for _, m := range tc.allow {
				if !slices.Contains(allow, m) {
					t.Errorf("Allow %q, want it to list %s", r.header.Get("Allow"), m)
				}
			}
			if slices.Contains(allow, tc.method) {
				t.Errorf("Allow %q lists the refused method", r.header.Get("Allow"))
			}
			h.unchanged(t, before)
		})
	}
}

func TestSQLLookingInputIsStoredVerbatimOrRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const (
		company = `x'; DROP TABLE accounts; --`
		contact = `Robert'); DROP TABLE sessions;--`
		reason  = `'; UPDATE accounts SET role = 'admin' WHERE '1' = '1`
	)
	f := newVendorForm("bobby.tables")
	f.CompanyName, f.ContactName = company, contact
	v := h.createVendor(t, f)
	if v.CompanyName != company || v.ContactName != contact {
		t.Errorf("created %+v", v.account)
	}

	var got account
	h.do(t, "GET", "/api/v1/admin/vendors/"+v.ID, nil, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &got)
	if got.CompanyName != company || got.ContactName != contact {
		t.Errorf("read back %+v", got)
	}
	var stored [2]string
	if err := h.pool.QueryRow(context.Background(), `SELECT company_name, contact_name FROM accounts WHERE id = $1`, v.ID).Scan(&stored[0], &stored[1]); err != nil {
		t.Fatal(err)
	}
	if stored != [2]string{company, contact} {
		t.Errorf("stored %q", stored)
	}

	h.do(t, "POST", "/api/v1/admin/vendors/"+v.ID+"/disable", map[string]string{"reason": reason}, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &got)
	if got.DisabledReason != reason {
		t.Errorf("disabled_reason %q", got.DisabledReason)
	}
	for _, c := range []struct{ login, password string }{
		{`x'; DROP TABLE accounts; --`, `' OR 1=1 --`},
		{`root' --`, `anything`},
		{`' OR '1'='1`, `' OR '1'='1`},
		{`root'; UPDATE accounts SET status = 'disabled'; --`, `x`},
	} {
		h.do(t, "POST", "/api/v1/sessions", credentials(c.login, c.password)).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	f = newVendorForm(`x'; DROP TABLE accounts; --`)
	h.do(t, "POST", "/api/v1/admin/vendors", f, bearer(h.admin.Token)).wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")

	// Everything is still there and as it was.
	for _, table := range []string{"accounts", "sessions", "audit_log", "login_throttle"} {
		if !slices.Contains(h.tables(t), table) {
			t.Errorf("table %s is gone", table)
		}
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM accounts WHERE role = 'admin'`); n != 1 {
		t.Errorf("%d administrators, want 1", n)
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM accounts WHERE status = 'disabled'`); n != 1 {
		t.Errorf("%d disabled accounts, want 1", n)
	}
	h.signIn(t, "root", h.admin.Password)
}

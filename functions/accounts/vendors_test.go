package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestAdminIssuesVendorWithGeneratedInitialPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	start := time.Now()
	r := h.do(t, "POST", "/api/v1/admin/vendors", newVendorForm("acme"), bearer(h.admin.Token)).want(t, http.StatusCreated)
	var v createdVendorReply
	r.decode(t, &v)

	if v.ID == "" || r.header.Get("Location") != "/api/v1/admin/vendors/"+v.ID {
		t.Errorf("Location %q for vendor %q", r.header.Get("Location"), v.ID)
	}
	want := account{ID: v.ID, Role: "vendor", Login: "acme", CompanyName: "Acme Catering Ltd", ContactName: "Li Wei",
		ContactMobile: "13912345678", Status: "active", MustChangePassword: true, CreatedAt: v.CreatedAt}
	if v.account != want {
		t.Errorf("vendor %+v, want %+v", v.account, want)
	}
	if v.CreatedAt.Before(start.Add(-time.Minute)) || v.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("created_at %v: want about now", v.CreatedAt)
	}
	if len(v.InitialPassword) < 10 {
		t.Errorf("generated initial_password %q: want at least 10 characters", v.InitialPassword)
	}
	if other := h.createVendor(t, newVendorForm("acme2")); other.InitialPassword == v.InitialPassword {
		t.Error("two vendors got the same generated password")
	}

	// Stored: the creator, a hash, the mobile sealed.
	var createdBy, hash string
	var mobile []byte
	if err := h.pool.QueryRow(context.Background(), `SELECT created_by::text, password_hash, contact_mobile FROM accounts WHERE id = $1`, v.ID).
		Scan(&createdBy, &hash, &mobile); err != nil {
		t.Fatal(err)
	}
	if createdBy != h.admin.ID {
		t.Errorf("created_by %s, want the admin %s", createdBy, h.admin.ID)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, v.InitialPassword) {
		t.Errorf("password_hash %q: want an argon2id hash", hash)
	}
	if bytes.Contains(mobile, []byte("13912345678")) {
		t.Error("contact_mobile stored in plaintext")
	}
	if got, err := h.sealer.OpenString("account-mobile", mobile); err != nil || got != "13912345678" {
		t.Errorf("contact_mobile opens to %q, %v", got, err)
	}

	s := h.signIn(t, "acme", v.InitialPassword)
	if !s.MustChangePassword {
		t.Error("a new vendor need not change its initial password")
	}
}

func TestAdminIssuesVendorWithChosenInitialPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newVendorForm("acme")
	f.InitialPassword = "chosen-by-admin-1"
	v := h.createVendor(t, f)
	if v.InitialPassword != f.InitialPassword {
		t.Errorf("initial_password %q, want the chosen one", v.InitialPassword)
	}
	if s := h.signIn(t, "acme", "chosen-by-admin-1"); !s.MustChangePassword {
		t.Error("a chosen initial password need not be changed")
	}
}

func TestCreateVendorValidatesEveryField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	with := func(change func(*vendorForm)) vendorForm {
		f := newVendorForm("acme")
		change(&f)
		return f
	}
	for _, tc := range []struct {
		name  string
		form  any
		field []string
	}{
		{"everything missing", map[string]string{}, []string{"company_name", "contact_mobile", "contact_name", "login"}},
		{"company name missing", with(func(f *vendorForm) { f.CompanyName = "" }), []string{"company_name"}},
		{"company name blank", with(func(f *vendorForm) { f.CompanyName = "   " }), []string{"company_name"}},
		{"company name one character", with(func(f *vendorForm) { f.CompanyName = "A" }), []string{"company_name"}},
		{"company name 101 characters", with(func(f *vendorForm) { f.CompanyName = strings.Repeat("金", 101) }), []string{"company_name"}},
		{"company name on two lines", with(func(f *vendorForm) { f.CompanyName = "Acme\nCatering" }), []string{"company_name"}},
		{"company name with a tab", with(func(f *vendorForm) { f.CompanyName = "Acme\tCatering" }), []string{"company_name"}},
		{"company name with a NUL", with(func(f *vendorForm) { f.CompanyName = "Acme\x00Catering" }), []string{"company_name"}},
		{"contact name missing", with(func(f *vendorForm) { f.ContactName = "" }), []string{"contact_name"}},
		{"contact name 51 characters", with(func(f *vendorForm) { f.ContactName = strings.Repeat("李", 51) }), []string{"contact_name"}},
		{"contact name with escape", with(func(f *vendorForm) { f.ContactName = "Li\x1b[31mWei" }), []string{"contact_name"}},
		{"mobile missing", with(func(f *vendorForm) { f.ContactMobile = "" }), []string{"contact_mobile"}},
		{"mobile 10 digits", with(func(f *vendorForm) { f.ContactMobile = "1391234567" }), []string{"contact_mobile"}},
		{"mobile 12 digits", with(func(f *vendorForm) { f.ContactMobile = "139123456789" }), []string{"contact_mobile"}},
		{"mobile starting 12", with(func(f *vendorForm) { f.ContactMobile = "12912345678" }), []string{"contact_mobile"}},
		{"mobile starting 10", with(func(f *vendorForm) { f.ContactMobile = "10912345678" }), []string{"contact_mobile"}},
		{"mobile starting 2", with(func(f *vendorForm) { f.ContactMobile = "23912345678" }), []string{"contact_mobile"}},
		{"mobile with country code", with(func(f *vendorForm) { f.ContactMobile = "+8613912345678" }), []string{"contact_mobile"}},
		{"mobile with dashes", with(func(f *vendorForm) { f.ContactMobile = "139-1234-5678" }), []string{"contact_mobile"}},
		{"mobile with spaces", with(func(f *vendorForm) { f.ContactMobile = " 13912345678" }), []string{"contact_mobile"}},
		{"mobile with newline", with(func(f *vendorForm) { f.ContactMobile = "13912345678\n" }), []string{"contact_mobile"}},
		{"mobile in full-width digits", with(func(f *vendorForm) { f.ContactMobile = "１３９１２３４５６７８" }), []string{"contact_mobile"}},
		{"mobile in Arabic-Indic digits", with(func(f *vendorForm) { f.ContactMobile = "١٣٩١٢٣٤٥٦٧٨" }), []string{"contact_mobile"}},
		{"mobile with letters", with(func(f *vendorForm) { f.ContactMobile = "1391234567x" }), []string{"contact_mobile"}},
		{"mobile that is SQL", with(func(f *vendorForm) { f.ContactMobile = "1' OR '1'='1" }), []string{"contact_mobile"}},
		{"login missing", with(func(f *vendorForm) { f.Login = "" }), []string{"login"}},
		{"login two characters", with(func(f *vendorForm) { f.Login = "ab" }), []string{"login"}},
		{"login 33 characters", with(func(f *vendorForm) { f.Login = strings.Repeat("a", 33) }), []string{"login"}},
		{"login with a space", with(func(f *vendorForm) { f.Login = "acme foods" }), []string{"login"}},
		{"login with a slash", with(func(f *vendorForm) { f.Login = "acme/foods" }), []string{"login"}},
		{"login with an at sign", with(func(f *vendorForm) { f.Login = "acme@foods" }), []string{"login"}},
		{"login with non-ASCII letters", with(func(f *vendorForm) { f.Login = "müller" }), []string{"login"}},
		{"login with Kelvin sign", with(func(f *vendorForm) { f.Login = "\u212acme" }), []string{"login"}},
		{"login starting with a dot", with(func(f *vendorForm) { f.Login = ".acme" }), []string{"login"}},
		{"login starting with a dash", with(func(f *vendorForm) { f.Login = "-acme" }), []string{"login"}},
		{"login that is SQL", with(func(f *vendorForm) { f.Login = "x'; DROP TABLE accounts; --" }), []string{"login"}},
		{"initial password too short", with(func(f *vendorForm) { f.InitialPassword = "short" }), []string{"initial_password"}},
		{"initial password too long", with(func(f *vendorForm) { f.InitialPassword = strings.Repeat("p", 129) }), []string{"initial_password"}},
		{"initial password is the login", with(func(f *vendorForm) { f.Login, f.InitialPassword = "acme.foods", "acme.foods" }), []string{"initial_password"}},
		{"several fields wrong", with(func(f *vendorForm) { f.ContactMobile, f.Login = "12345", "a" }), []string{"contact_mobile", "login"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := h.dump(t)
			p := h.do(t, "POST", "/api/v1/admin/vendors", tc.form, bearer(h.admin.Token)).wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
			if !slices.Equal(p.paramNames(), tc.field) {
				t.Errorf("invalid_params %+v, want exactly %v", p.Params, tc.field)
			}
			for _, ip := range p.Params {
				if ip.Reason == "" {
					t.Errorf("invalid_params %q without a reason", ip.Name)
				}
			}
			h.unchanged(t, before)
		})
	}
}

func TestCreateVendorAcceptsValuesAtTheLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i, f := range []vendorForm{
		{CompanyName: "AB", ContactName: "L", ContactMobile: "13000000000", Login: "abc"},
		{CompanyName: strings.Repeat("金", 100), ContactName: strings.Repeat("李", 50), ContactMobile: "19999999999", Login: strings.Repeat("z", 32)},
		{CompanyName: "Acme & Sons (Shanghai) Co., Ltd.", ContactName: "O'Brien-Zhang", ContactMobile: "15012345678", Login: "acme_foods.v2-east"},
		{CompanyName: "上海金来办科技有限公司", ContactName: "王小明", ContactMobile: "18612345678", Login: "0day"},
		{CompanyName: "Acme", ContactName: "Li", ContactMobile: "13912345678", Login: "acme", InitialPassword: strings.Repeat("p", 128)},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			v := h.createVendor(t, f)
			var got account
			h.do(t, "GET", "/api/v1/admin/vendors/"+v.ID, nil, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &got)
			if got.CompanyName != f.CompanyName || got.ContactName != f.ContactName || got.ContactMobile != f.ContactMobile || got.Login != f.Login {
				t.Errorf("stored %+v, want %+v", got, f)
			}
		})
	}
}

func TestCreateVendorRefusesTakenLoginWhateverItsCase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.createVendor(t, newVendorForm("Acme.Foods"))
	for _, login := range []string{"Acme.Foods", "acme.foods", "ACME.FOODS", "ROOT"} {
		t.Run(login, func(t *testing.T) {
			t.Parallel()
			before := h.dump(t)
			h.do(t, "POST", "/api/v1/admin/vendors", newVendorForm(login), bearer(h.admin.Token)).wantProblem(t, http.StatusConflict, "login-taken")
			h.unchanged(t, before)
		})
	}
}

func TestAdminListsVendorsPageByPageWithMaskedMobiles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ids []string
	for i := range 5 {
		f := newVendorForm(fmt.Sprintf("vendor%d", i))
		f.ContactMobile = fmt.Sprintf("1391234000%d", i)
		ids = append(ids, h.createVendor(t, f).ID)
	}
	slices.Reverse(ids) // newest first

	type page struct {
		Items    []account `json:"items"`
		Total    int       `json:"total"`
		Page     int       `json:"page"`
		PageSize int       `json:"page_size"`
	}
	list := func(query string) page {
		t.Helper()
		var p page
		h.do(t, "GET", "/api/v1/admin/vendors"+query, nil, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &p)
		return p
	}

	all := list("")
	if all.Total != 5 || all.Page != 1 || all.PageSize != 20 || len(all.Items) != 5 {
		t.Fatalf("default page: total %d, page %d, size %d, %d items; want 5, 1, 20, 5", all.Total, all.Page, all.PageSize, len(all.Items))
	}
	var got []string
	for _, a := range all.Items {
		got = append(got, a.ID)
		if a.Role != "vendor" {
			t.Errorf("the vendor list shows a %s", a.Role)
		}
		if n := strings.TrimPrefix(a.Login, "vendor"); a.ContactMobile != "139****000"+n {
			t.Errorf("%s's mobile shown as %q, want 139****000%s", a.Login, a.ContactMobile, n)
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("order %v, want newest first %v", got, ids)
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?page_size=2", ids[0:2]},
		{"?page=2&page_size=2", ids[2:4]},
		{"?page=3&page_size=2", ids[4:5]},
		{"?page=4&page_size=2", nil},
		{"?page=1&page_size=100", ids},
	} {
		p := list(tc.query)
		got = nil
		for _, a := range p.Items {
			got = append(got, a.ID)
		}
		if p.Total != 5 || !slices.Equal(got, tc.want) || p.Items == nil {
			t.Errorf("%s: total %d, items %v; want 5, %v", tc.query, p.Total, got, tc.want)
		}
	}
	if raw := h.do(t, "GET", "/api/v1/admin/vendors?page=9", nil, bearer(h.admin.Token)).body; !bytes.Contains(raw, []byte(`"items":[]`)) {
		t.Errorf("a page past the end: %s, want an empty items array", raw)
	}

	for _, tc := range []struct{ query, field string }{
		{"?page=0", "page"},
		{"?page=-1", "page"},
		{"?page=abc", "page"},
		{"?page=1.5", "page"},
		{"?page=100001", "page"},
		{"?page_size=0", "page_size"},
		{"?page_size=101", "page_size"},
		{"?page_size=ten", "page_size"},
		{"?page_size=1%27%3B%20DROP%20TABLE%20accounts%3B--", "page_size"},
	} {
		p := h.do(t, "GET", "/api/v1/admin/vendors"+tc.query, nil, bearer(h.admin.Token)).wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
		if !slices.Equal(p.paramNames(), []string{tc.field}) {
			t.Errorf("%s: invalid_params %+v, want %s", tc.query, p.Params, tc.field)
		}
	}
}

func TestAdminSeesOneVendorInFull(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	v := h.createVendor(t, newVendorForm("acme"))
	var got account
	h.do(t, "GET", "/api/v1/admin/vendors/"+v.ID, nil, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &got)
	if got != v.account {
		t.Errorf("GET one: %+v, want %+v", got, v.account)
	}
	// The ID is a UUID in either case.
	h.do(t, "GET", "/api/v1/admin/vendors/"+strings.ToUpper(v.ID), nil, bearer(h.admin.Token)).want(t, http.StatusOK)
	if bytes.Contains(h.do(t, "GET", "/api/v1/admin/vendors/"+v.ID, nil, bearer(h.admin.Token)).body, []byte("initial_password")) {
		t.Error("the initial password is shown again")
	}
}

func TestVendorOperationsOnMissingOrNonVendorAccountsAnswerNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.createVendor(t, newVendorForm("acme"))
	ids := map[string]string{
		"unknown UUID":        "3f2b6c1e-9a4d-4e8b-a1f0-5c7d2e9b8a61",
		"nil UUID":            "00000000-0000-0000-0000-000000000000",
		"an admin's ID":       h.admin.ID,
		"not a UUID":          "acme",
		"a number":            "1",
		"UUID without dashes": "3f2b6c1e9a4d4e8ba1f05c7d2e9b8a61",
		"UUID in braces":      "%7B3f2b6c1e-9a4d-4e8b-a1f0-5c7d2e9b8a61%7D",
		"SQL":                 "1%27%20OR%20%271%27%3D%271",
		"UUID with SQL tail":  "3f2b6c1e-9a4d-4e8b-a1f0-5c7d2e9b8a61%27--",
	}
	t.Run("each", func(t *testing.T) {
		for name, id := range ids {
			for _, op := range []struct {
				method, suffix string
				body           any
			}{
				{"GET", "", nil},
				{"POST", "/disable", map[string]string{"reason": "unpaid invoices"}},
				{"POST", "/enable", nil},
				{"POST", "/password-reset", nil},
			} {
				t.Run(name+" "+op.method+op.suffix, func(t *testing.T) {
					t.Parallel()
					before := h.dump(t)
					h.do(t, op.method, "/api/v1/admin/vendors/"+id+op.suffix, op.body, bearer(h.admin.Token)).wantProblem(t, http.StatusNotFound, "not-found")
					h.unchanged(t, before)
				})
			}
		}
	})
	// The admin is untouched: still active and signed in.
	h.me(t, bearer(h.admin.Token)).want(t, http.StatusOK)
}

func TestDisablingVendorEndsItsSessionsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	browserSession := h.signIn(t, "acme", vendor.Password)
	bystander := testenv.SignIn(t, h.pool, h.sealer, "vendor", "bystander")

	// A disable without a proper reason changes nothing.
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no body", nil, 415, "unsupported-media-type"},
		{"empty body", "", 400, "malformed-body"},
		{"no reason", map[string]string{}, 422, "validation-failed"},
		{"blank reason", map[string]string{"reason": "   "}, 422, "validation-failed"},
		{"one-letter reason", map[string]string{"reason": "x"}, 422, "validation-failed"},
		{"reason too long", map[string]string{"reason": strings.Repeat("r", 501)}, 422, "validation-failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.dump(t)
			p := h.do(t, "POST", "/api/v1/admin/vendors/"+vendor.ID+"/disable", tc.body, bearer(h.admin.Token)).wantProblem(t, tc.status, tc.code)
			if tc.status == 422 && !slices.Equal(p.paramNames(), []string{"reason"}) {
				t.Errorf("invalid_params %+v, want reason", p.Params)
			}
			h.unchanged(t, before)
		})
	}
	h.me(t, bearer(vendor.Token)).want(t, http.StatusOK)

	var got account
	h.do(t, "POST", "/api/v1/admin/vendors/"+vendor.ID+"/disable", map[string]string{"reason": "Contract ended; 合同到期"}, bearer(h.admin.Token)).
		want(t, http.StatusOK).decode(t, &got)
	if got.Status != "disabled" || got.DisabledReason != "Contract ended; 合同到期" {
		t.Errorf("after disable: %+v", got)
	}
	// Every session stops working at once, however it is presented.
	h.me(t, bearer(vendor.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.me(t, browser(browserSession.Token, "")).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.do(t, "POST", "/api/v1/me/password", changePassword(vendor.Password, "a-good-new-password"), bearer(vendor.Token)).
		wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	if n := scalar[int](t, h, `SELECT count(*) FROM sessions WHERE account_id = $1 AND revoked_at IS NULL`, vendor.ID); n != 0 {
		t.Errorf("%d sessions of the disabled vendor still live", n)
	}
	// The right password says the account is disabled; a wrong one says nothing about it.
	sessionsBefore := scalar[int](t, h, `SELECT count(*) FROM sessions`)
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", vendor.Password)).wantProblem(t, http.StatusForbidden, "account-disabled")
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", "wrong-password")).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	if n := scalar[int](t, h, `SELECT count(*) FROM sessions`); n != sessionsBefore {
		t.Error("a disabled vendor got a session")
	}
	// Other vendors go on.
	h.me(t, bearer(bystander.Token)).want(t, http.StatusOK)

	// Enabling lets it sign in again, but does not bring old sessions back.
	got = account{}
	h.do(t, "POST", "/api/v1/admin/vendors/"+vendor.ID+"/enable", nil, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &got)
	if got.Status != "active" || got.DisabledReason != "" {
		t.Errorf("after enable: %+v", got)
	}
	if !scalar[bool](t, h, `SELECT disabled_reason IS NULL FROM accounts WHERE id = $1`, vendor.ID) {
		t.Error("enabling kept the disabled reason")
	}
	h.me(t, bearer(vendor.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	s := h.signIn(t, "acme", vendor.Password)
	h.me(t, bearer(s.Token)).want(t, http.StatusOK)
}

func TestAdminResetsVendorPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	other := h.signIn(t, "acme", vendor.Password)

	var reset struct {
		InitialPassword string `json:"initial_password"`
	}
	r := h.do(t, "POST", "/api/v1/admin/vendors/"+vendor.ID+"/password-reset", nil, bearer(h.admin.Token)).want(t, http.StatusOK)
	r.decode(t, &reset)
	if len(reset.InitialPassword) < 10 || reset.InitialPassword == vendor.Password {
		t.Fatalf("initial_password %q: want a new password", reset.InitialPassword)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("a response carrying a password may be cached")
	}
	h.me(t, bearer(vendor.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.me(t, bearer(other.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", vendor.Password)).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	s := h.signIn(t, "acme", reset.InitialPassword)
	if !s.MustChangePassword {
		t.Error("after a reset the vendor need not change the password")
	}
	h.do(t, "GET", "/api/v1/admin/vendors", nil, bearer(s.Token)).wantProblem(t, http.StatusForbidden, "password-change-required")

	// A second reset replaces the first.
	var again struct {
		InitialPassword string `json:"initial_password"`
	}
	h.do(t, "POST", "/api/v1/admin/vendors/"+vendor.ID+"/password-reset", nil, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &again)
	if again.InitialPassword == reset.InitialPassword {
		t.Error("two resets gave the same password")
	}
	h.me(t, bearer(s.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", reset.InitialPassword)).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
}

func TestPasswordResetLiftsTheSignInLock(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	for range lockAfter {
		h.elapse(t, h.loginKey("acme"))
		h.do(t, "POST", "/api/v1/sessions", credentials("acme", "wrong-password")).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", vendor.Password)).wantProblem(t, http.StatusTooManyRequests, "sign-in-locked")

	var reset struct {
		InitialPassword string `json:"initial_password"`
	}
	h.do(t, "POST", "/api/v1/admin/vendors/"+vendor.ID+"/password-reset", nil, bearer(h.admin.Token)).want(t, http.StatusOK).decode(t, &reset)
	h.signIn(t, "acme", reset.InitialPassword)
}

func TestEveryAdminActionIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newVendorForm("acme")
	f.InitialPassword = "chosen-by-admin-1"

	type step struct {
		method, path string
		body         any
		action       string
	}
	var subject string
	var want []auditRow
	run := func(s step) {
		t.Helper()
		r := h.do(t, s.method, strings.ReplaceAll(s.path, "{id}", subject), s.body, bearer(h.admin.Token), withHeader("X-Request-Id", "audit-test-"+s.action))
		if r.status != http.StatusOK && r.status != http.StatusCreated {
			t.Fatalf("%s %s: %d %s", s.method, s.path, r.status, r.body)
		}
		if subject == "" {
			var v createdVendorReply
			r.decode(t, &v)
			subject = v.ID
		}
		want = append(want, auditRow{ActorID: h.admin.ID, ActorRole: "admin", Action: s.action, SubjectType: "account", SubjectID: subject,
			RequestID: "audit-test-" + s.action})
	}
	run(step{"POST", "/api/v1/admin/vendors", f, "vendor.create"})
	run(step{"POST", "/api/v1/admin/vendors/{id}/disable", map[string]string{"reason": "unpaid invoices"}, "vendor.disable"})
	run(step{"POST", "/api/v1/admin/vendors/{id}/enable", nil, "vendor.enable"})
	run(step{"POST", "/api/v1/admin/vendors/{id}/password-reset", nil, "vendor.password-reset"})

	got := h.audit(t)
	if len(got) != len(want) {
		t.Fatalf("audit log has %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		detail := g.Detail
		g.Detail = nil
		if fmt.Sprint(g) != fmt.Sprint(want[i]) {
			t.Errorf("audit entry %d: %+v, want %+v", i, g, want[i])
		}
		raw := fmt.Sprint(detail)
		for _, secret := range []string{"chosen-by-admin-1", "13912345678"} {
			if strings.Contains(raw, secret) {
				t.Errorf("audit entry %s holds %q: %v", g.Action, secret, detail)
			}
		}
	}
	if got[0].Detail["login"] != "acme" {
		t.Errorf("vendor.create detail %v: want the login", got[0].Detail)
	}
	if got[1].Detail["reason"] != "unpaid invoices" {
		t.Errorf("vendor.disable detail %v: want the reason", got[1].Detail)
	}

	// Refused or read-only requests add nothing.
	h.do(t, "POST", "/api/v1/admin/vendors", f, bearer(h.admin.Token)).wantProblem(t, http.StatusConflict, "login-taken")
	h.do(t, "GET", "/api/v1/admin/vendors", nil, bearer(h.admin.Token)).want(t, http.StatusOK)
	if n := len(h.audit(t)); n != len(want) {
		t.Errorf("audit log grew to %d entries on refused and read-only requests", n)
	}
}

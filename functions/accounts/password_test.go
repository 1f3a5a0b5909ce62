package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/accounts"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func changePassword(current, next string) map[string]string {
	return map[string]string{"current_password": current, "new_password": next}
}

func TestIssuedVendorMustChangeInitialPasswordFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	v := h.createVendor(t, newVendorForm("acme"))

	a := h.signIn(t, "acme", v.InitialPassword)
	if !a.MustChangePassword || !a.Account.MustChangePassword {
		t.Fatal("sign-in with the initial password: must_change_password false, want true")
	}
	b := h.signIn(t, "ACME", v.InitialPassword) // the same vendor on another device

	// It may see itself, but do nothing else yet.
	var me account
	h.me(t, bearer(a.Token)).want(t, http.StatusOK).decode(t, &me)
	if me.ID != v.ID || !me.MustChangePassword || me.ContactMobile != "13912345678" {
		t.Errorf("GET /me: %+v", me)
	}
	for _, route := range []struct{ method, path string }{
		{"GET", "/api/v1/admin/vendors"},
		{"GET", "/api/v1/admin/vendors/" + v.ID},
		{"POST", "/api/v1/admin/vendors/" + v.ID + "/password-reset"},
	} {
		h.do(t, route.method, route.path, nil, bearer(a.Token)).wantProblem(t, http.StatusForbidden, "password-change-required")
	}

	// Refused changes leave everything as it was.
	before := h.dump(t)
	h.do(t, "POST", "/api/v1/me/password", changePassword("not-the-password", "a-good-new-password"), bearer(a.Token)).
		wantProblem(t, http.StatusForbidden, "invalid-credentials")
	p := h.do(t, "POST", "/api/v1/me/password", changePassword(v.InitialPassword, "short"), bearer(a.Token)).
		wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
	if !slices.Equal(p.paramNames(), []string{"new_password"}) || !strings.Contains(p.reason("new_password"), "at least 10") {
		t.Errorf("too-short password: invalid_params %+v, want new_password", p.Params)
	}
	h.unchanged(t, before)

	// The right change ends every other session, keeps this one, and lifts the restriction.
	h.do(t, "POST", "/api/v1/me/password", changePassword(v.InitialPassword, "a-good-new-password"), bearer(a.Token)).
		want(t, http.StatusNoContent)
	h.me(t, bearer(a.Token)).want(t, http.StatusOK).decode(t, &me)
	if me.MustChangePassword {
		t.Error("after the change: must_change_password still true")
	}
	h.me(t, bearer(b.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	// What stopped it now is its role, not the pending change.
	h.do(t, "GET", "/api/v1/admin/vendors", nil, bearer(a.Token)).wantProblem(t, http.StatusForbidden, "forbidden")

	h.do(t, "POST", "/api/v1/sessions", credentials("acme", v.InitialPassword)).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	if s := h.signIn(t, "acme", "a-good-new-password"); s.MustChangePassword {
		t.Error("sign-in with the new password: must_change_password true")
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM accounts WHERE id = $1 AND password_changed_at IS NOT NULL`, v.ID); n != 1 {
		t.Error("password_changed_at not set")
	}
}

func TestBootstrapAdminMustChangePasswordBeforeManagingVendors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// The migrate job's first administrator (the harness's own admin counts as one, so
	// create a second the same way).
	if _, err := accounts.Create(context.Background(), h.pool, h.sealer, accounts.New{Role: "admin", Login: "boss", Password: "bootstrap-pass-1"}); err != nil {
		t.Fatal(err)
	}
	s := h.signIn(t, "boss", "bootstrap-pass-1")
	if !s.MustChangePassword {
		t.Fatal("bootstrap admin: must_change_password false, want true")
	}
	before := h.dump(t)
	h.do(t, "POST", "/api/v1/admin/vendors", newVendorForm("acme"), bearer(s.Token)).wantProblem(t, http.StatusForbidden, "password-change-required")
	h.do(t, "GET", "/api/v1/admin/vendors", nil, bearer(s.Token)).wantProblem(t, http.StatusForbidden, "password-change-required")
	h.unchanged(t, before)

	h.do(t, "POST", "/api/v1/me/password", changePassword("bootstrap-pass-1", "bootstrap-pass-2"), bearer(s.Token)).want(t, http.StatusNoContent)
	h.do(t, "POST", "/api/v1/admin/vendors", newVendorForm("acme"), bearer(s.Token)).want(t, http.StatusCreated)
}

func TestPasswordChangeRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	other := h.signIn(t, "acme", vendor.Password)

	for _, tc := range []struct {
		name       string
		body       any
		status     int
		code       string
		params     []string
		reasonPart string
	}{
		{"wrong current password", changePassword("wrong-password", "a-good-new-password"), 403, "invalid-credentials", nil, ""},
		{"empty current password", changePassword("", "a-good-new-password"), 422, "validation-failed", []string{"current_password"}, "required"},
		{"new password too short", changePassword(vendor.Password, "123456789"), 422, "validation-failed", []string{"new_password"}, "at least 10"},
		{"new password too long", changePassword(vendor.Password, strings.Repeat("x", 129)), 422, "validation-failed", []string{"new_password"}, "at most 128"},
		{"new password missing", map[string]string{"current_password": vendor.Password}, 422, "validation-failed", []string{"new_password"}, "at least 10"},
		{"new password same as current", changePassword(vendor.Password, vendor.Password), 422, "validation-failed", []string{"new_password"}, "differ"},
		{"both missing", map[string]string{}, 422, "validation-failed", []string{"current_password", "new_password"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.dump(t)
			p := h.do(t, "POST", "/api/v1/me/password", tc.body, bearer(vendor.Token)).wantProblem(t, tc.status, tc.code)
			if !slices.Equal(p.paramNames(), tc.params) {
				t.Errorf("invalid_params %+v, want %v", p.Params, tc.params)
			}
			if tc.reasonPart != "" && !strings.Contains(p.Params[0].Reason, tc.reasonPart) {
				t.Errorf("reason %q, want it to mention %q", p.Params[0].Reason, tc.reasonPart)
			}
			h.unchanged(t, before)
		})
	}
	// Still the old password, and both sessions live.
	h.me(t, bearer(vendor.Token)).want(t, http.StatusOK)
	h.me(t, bearer(other.Token)).want(t, http.StatusOK)
	h.signIn(t, "acme", vendor.Password)
}

func TestPasswordMayNotBeTheLoginName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	v := h.createVendor(t, newVendorForm("acme.catering"))
	s := h.signIn(t, "acme.catering", v.InitialPassword)
	before := h.dump(t)
	p := h.do(t, "POST", "/api/v1/me/password", changePassword(v.InitialPassword, "acme.catering"), bearer(s.Token)).
		wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
	if !slices.Equal(p.paramNames(), []string{"new_password"}) || !strings.Contains(p.reason("new_password"), "login") {
		t.Errorf("invalid_params %+v, want new_password: must not be the login name", p.Params)
	}
	h.unchanged(t, before)
}

func TestPasswordLengthCountsCharactersNotBytes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	// Nine Chinese characters are 27 bytes but too short; ten are enough.
	h.do(t, "POST", "/api/v1/me/password", changePassword(vendor.Password, strings.Repeat("密", 9)), bearer(vendor.Token)).
		wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
	h.do(t, "POST", "/api/v1/me/password", changePassword(vendor.Password, strings.Repeat("密", 10)), bearer(vendor.Token)).
		want(t, http.StatusNoContent)
	h.signIn(t, "acme", strings.Repeat("密", 10))
}

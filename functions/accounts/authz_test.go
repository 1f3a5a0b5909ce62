package main

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

type route struct {
	method, path string
	body         any
}

// adminRoutes are every administrator operation, with acceptable bodies, on vendor id.
func adminRoutes(id string) []route {
	return []route{
		{"POST", "/api/v1/admin/vendors", newVendorForm("newvendor")},
		{"GET", "/api/v1/admin/vendors", nil},
		{"GET", "/api/v1/admin/vendors?page=1&page_size=5", nil},
		{"GET", "/api/v1/admin/vendors/" + id, nil},
		{"POST", "/api/v1/admin/vendors/" + id + "/disable", map[string]string{"reason": "unpaid invoices"}},
		{"POST", "/api/v1/admin/vendors/" + id + "/enable", nil},
		{"POST", "/api/v1/admin/vendors/" + id + "/password-reset", nil},
	}
}

// protectedRoutes are every operation that needs a session.
func protectedRoutes(id string) []route {
	return append([]route{
		{"GET", "/api/v1/me", nil},
		{"POST", "/api/v1/me/password", changePassword("current-password", "a-good-new-password")},
		{"DELETE", "/api/v1/sessions/current", nil},
	}, adminRoutes(id)...)
}

func TestVendorIsForbiddenFromEveryAdminRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	target := testenv.SignIn(t, h.pool, h.sealer, "vendor", "target")
	for _, rt := range adminRoutes(target.ID) {
		for name, auth := range map[string]option{
			"bearer":           bearer(vendor.Token),
			"cookie with CSRF": browser(vendor.Token, vendor.CSRF),
		} {
			t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				t.Parallel()
				before := h.dump(t)
				h.do(t, rt.method, rt.path, rt.body, auth).wantProblem(t, http.StatusForbidden, "forbidden")
				h.unchanged(t, before)
			})
		}
	}
}

func TestEveryProtectedRouteNeedsASession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	expired := testenv.SignIn(t, h.pool, h.sealer, "admin", "expired")
	h.exec(t, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE account_id = $1`, expired.ID)

	for name, cred := range map[string]option{
		"no credentials":                  func(*outgoing) {},
		"unknown bearer token":            bearer(auth.NewToken("jlbs_")),
		"bearer without the token prefix": bearer("not-a-session-token"),
		"empty bearer":                    withHeader("Authorization", "Bearer "),
		"basic auth with a real password": withHeader("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("root:"+h.admin.Password))),
		"the CSRF token as bearer":        bearer(h.admin.CSRF),
		"the token's hash as bearer":      bearer(base64.RawURLEncoding.EncodeToString(auth.HashToken(h.admin.Token))),
		"unknown session cookie":          browser(auth.NewToken("jlbs_"), "whatever"),
		"CSRF cookie only":                withHeader("Cookie", auth.CSRFCookie+"="+h.admin.CSRF),
		"expired session":                 bearer(expired.Token),
		"expired session as cookie":       browser(expired.Token, expired.CSRF),
		"garbage Authorization hides a good cookie": func(o *outgoing) {
			browser(h.admin.Token, h.admin.CSRF)(o)
			o.req.Header.Set("Authorization", "Token "+h.admin.Token)
		},
	} {
		for _, rt := range protectedRoutes(vendor.ID) {
			t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				t.Parallel()
				before := h.dump(t)
				h.do(t, rt.method, rt.path, rt.body, cred).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
				h.unchanged(t, before)
			})
		}
	}
}

func TestSignedOutSessionIsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	s := h.signIn(t, "root", h.admin.Password)
	h.do(t, "DELETE", "/api/v1/sessions/current", nil, browser(s.Token, s.CSRFToken)).want(t, http.StatusNoContent)

	for _, rt := range protectedRoutes(vendor.ID) {
		for name, cred := range map[string]option{
			"bearer": bearer(s.Token),
			"cookie": browser(s.Token, s.CSRFToken),
		} {
			t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				t.Parallel()
				before := h.dump(t)
				h.do(t, rt.method, rt.path, rt.body, cred).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
				h.unchanged(t, before)
			})
		}
	}
}

func TestCookieSessionNeedsCSRFTokenForChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	s := h.signIn(t, "root", h.admin.Password)

	changes := []route{
		{"POST", "/api/v1/admin/vendors", newVendorForm("newvendor")},
		{"POST", "/api/v1/admin/vendors/" + vendor.ID + "/disable", map[string]string{"reason": "unpaid invoices"}},
		{"POST", "/api/v1/admin/vendors/" + vendor.ID + "/enable", nil},
		{"POST", "/api/v1/admin/vendors/" + vendor.ID + "/password-reset", nil},
		{"POST", "/api/v1/me/password", changePassword(h.admin.Password, "a-good-new-password")},
		{"DELETE", "/api/v1/sessions/current", nil},
	}
	t.Run("refused", func(t *testing.T) {
		for name, cred := range map[string]option{
			"no CSRF header":                 browser(s.Token, ""),
			"wrong CSRF token":               browser(s.Token, auth.NewToken("")),
			"another session's CSRF token":   browser(s.Token, h.admin.CSRF),
			"the session token as CSRF":      browser(s.Token, s.Token),
			"CSRF token with a trailing dot": browser(s.Token, s.CSRFToken+"."),
			"CSRF token only in its cookie": func(o *outgoing) {
				browser(s.Token, "")(o)
				o.req.Header.Add("Cookie", auth.CSRFCookie+"="+s.CSRFToken)
			},
		} {
			for _, rt := range changes {
				t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
					t.Parallel()
					before := h.dump(t)
					h.do(t, rt.method, rt.path, rt.body, cred).wantProblem(t, http.StatusForbidden, "csrf-token-invalid")
					h.unchanged(t, before)
				})
			}
		}
	})

	// Reading needs no CSRF token.
	h.me(t, browser(s.Token, "")).want(t, http.StatusOK)
	h.do(t, "GET", "/api/v1/admin/vendors", nil, browser(s.Token, "")).want(t, http.StatusOK)
	h.do(t, "GET", "/api/v1/admin/vendors/"+vendor.ID, nil, browser(s.Token, "")).want(t, http.StatusOK)

	// With the right token every change goes through.
	want := []int{http.StatusCreated, http.StatusOK, http.StatusOK, http.StatusOK, http.StatusNoContent, http.StatusNoContent}
	for i, rt := range changes {
		h.do(t, rt.method, rt.path, rt.body, browser(s.Token, s.CSRFToken)).want(t, want[i])
	}
	if n := len(h.audit(t)); n != 4 {
		t.Errorf("%d audit entries, want 4 (the admin actions)", n)
	}
	h.me(t, browser(s.Token, "")).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.signIn(t, "root", "a-good-new-password")
}

func TestBearerSessionNeedsNoCSRFToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.signIn(t, "root", h.admin.Password)
	h.do(t, "POST", "/api/v1/admin/vendors", newVendorForm("acme"), bearer(s.Token)).want(t, http.StatusCreated)
	// A CSRF header, right or wrong, does not matter for a bearer token.
	h.do(t, "POST", "/api/v1/admin/vendors", newVendorForm("acme2"), bearer(s.Token), withHeader(auth.CSRFHeader, "nonsense")).
		want(t, http.StatusCreated)
	h.do(t, "DELETE", "/api/v1/sessions/current", nil, bearer(s.Token)).want(t, http.StatusNoContent)
}

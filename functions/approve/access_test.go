package main

import (
	"net/http"
	"testing"
)

func TestAdminRoutesRefuseVendorsAndAnonymousCallers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a := h.pending(vendor, "Acme Parking")
	routes := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/admin/applications", nil},
		{http.MethodGet, "/api/v1/admin/applications?status=", nil},
		{http.MethodGet, "/api/v1/admin/applications/" + a.ID, nil},
		{http.MethodPost, approvePath(a.ID), nil},
		{http.MethodPost, rejectPath(a.ID), map[string]string{"reason": "I reject my own application."}},
	}
	callers := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"vendor session", vendor.Token, http.StatusForbidden, "forbidden"},
		{"no session", "", http.StatusUnauthorized, "unauthenticated"},
		{"unknown session", "jlbs_doesnotexist", http.StatusUnauthorized, "unauthenticated"},
	}
	for _, c := range callers {
		for _, rt := range routes {
			t.Run(c.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				snap := h.snapshot()
				r := h.request(rt.method, rt.path, c.token, "", rt.body)
				wantProblem(t, r, c.status, c.code)
				if h.snapshot() != snap {
					t.Error("a refused request changed the database")
				}
			})
		}
	}

	t.Run("disabled admin", func(t *testing.T) {
		admin := h.admin("former-reviewer")
		if _, err := h.pool.Exec(t.Context(), `UPDATE accounts SET status = 'disabled' WHERE id = $1`, admin.ID); err != nil {
			t.Fatal(err)
		}
		snap := h.snapshot()
		wantProblem(t, h.post(approvePath(a.ID), admin.Token, nil), http.StatusUnauthorized, "unauthenticated")
		if h.snapshot() != snap {
			t.Error("a disabled admin's approval changed the database")
		}
	})

	t.Run("admin who must still change the initial password", func(t *testing.T) {
		admin := h.admin("new-reviewer")
		if _, err := h.pool.Exec(t.Context(), `UPDATE accounts SET must_change_password = true WHERE id = $1`, admin.ID); err != nil {
			t.Fatal(err)
		}
		snap := h.snapshot()
		wantProblem(t, h.post(approvePath(a.ID), admin.Token, nil), http.StatusForbidden, "password-change-required")
		if h.snapshot() != snap {
			t.Error("the approval went through")
		}
	})

	if got := h.stored(a.ID); got.Status != "pending" {
		t.Errorf("status = %q, want still pending", got.Status)
	}
}

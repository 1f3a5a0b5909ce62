package main

import (
	"net/http"
	"testing"

	"github.com/jinlaiban/openplatform/shared/apps"
)

// vendorRoutes are every operation of register-app, with a body each would accept.
func vendorRoutes(id string) []struct {
	method, path string
	body         any
} {
	return []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/apps", nil},
		{http.MethodPost, "/api/v1/apps", declaration()},
		{http.MethodGet, "/api/v1/apps/" + id, nil},
		{http.MethodPut, "/api/v1/apps/" + id, declaration()},
		{http.MethodPost, "/api/v1/apps/" + id + "/submit", nil},
		{http.MethodGet, "/api/v1/apps/" + id + "/credentials", nil},
		{http.MethodPost, "/api/v1/apps/" + id + "/secrets", map[string]any{"environment": "test", "overlap_hours": 0}},
	}
}

func TestVendorNeverSeesOrChangesAnotherVendorsApplications(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	owner := h.vendor("owner-co")
	intruder := h.vendor("intruder-co")
	admin := h.admin("reviewer")

	draft := h.declare(owner, declaration())
	approved, _ := h.approved(owner, admin)
	intrudersOwn := h.declare(intruder, with(declaration(), "name", "Intruder App"))

	// An unknown id answers exactly like another vendor's: the two are indistinguishable.
	unknown := wantProblem(t, h.get("/api/v1/apps/00000000-0000-4000-8000-000000000000", intruder.Token), http.StatusNotFound, "not-found")

	for _, target := range []struct {
		name string
		id   string
	}{{"draft", draft.ID}, {"approved", approved.ID}} {
		for _, rt := range vendorRoutes(target.id)[2:] {
			t.Run(target.name+" "+rt.method+" "+rt.path[len("/api/v1/apps/")+36:], func(t *testing.T) {
				snap := h.snapshot()
				p := wantProblem(t, h.request(rt.method, rt.path, intruder.Token, "", rt.body), http.StatusNotFound, "not-found")
				if p.Detail != unknown.Detail {
					t.Errorf("detail %q differs from an unknown id's %q: it reveals the application exists", p.Detail, unknown.Detail)
				}
				if h.snapshot() != snap {
					t.Error("the other vendor's request changed the database")
				}
			})
		}
	}

	// Lists show only one's own.
	list := wantJSON[apps.Page](t, h.get("/api/v1/apps", intruder.Token), http.StatusOK)
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].ID != intrudersOwn.ID {
		t.Errorf("intruder's list = %+v, want only its own application", list)
	}
	list = wantJSON[apps.Page](t, h.get("/api/v1/apps", owner.Token), http.StatusOK)
	if list.Total != 2 {
		t.Errorf("owner's list has %d applications, want 2", list.Total)
	}
	if got := h.stored(draft.ID); got.Name != "Citizen Parking" || got.Status != apps.Draft {
		t.Errorf("owner's draft changed: %+v", got)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE actor_id = $1`, intruder.ID); n != 0 {
		t.Errorf("%d audit rows by the intruder: a credentials view went through", n)
	}
}

func TestVendorRoutesRequireAVendorSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("vendor-co")
	admin := h.admin("root-admin")
	a, _ := h.approved(vendor, admin)

	callers := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"admin session", admin.Token, http.StatusForbidden, "forbidden"},
		{"no session", "", http.StatusUnauthorized, "unauthenticated"},
		{"unknown token", "jlbs_0000000000000000000000000000", http.StatusUnauthorized, "unauthenticated"},
		{"not a session token", "eyJhbGciOiJub25lIn0.e30.", http.StatusUnauthorized, "unauthenticated"},
	}
	for _, c := range callers {
		for _, rt := range vendorRoutes(a.ID) {
			t.Run(c.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				snap := h.snapshot()
				wantProblem(t, h.request(rt.method, rt.path, c.token, "", rt.body), c.status, c.code)
				if h.snapshot() != snap {
					t.Error("a refused request changed the database")
				}
			})
		}
	}

	t.Run("vendor session that must still change its password", func(t *testing.T) {
		fresh := h.vendor("fresh-co")
		if _, err := h.pool.Exec(t.Context(), `UPDATE accounts SET must_change_password = true WHERE id = $1`, fresh.ID); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, h.post("/api/v1/apps", fresh.Token, declaration()), http.StatusForbidden, "password-change-required")
		if n := h.count(`SELECT count(*) FROM applications WHERE vendor_id = $1`, fresh.ID); n != 0 {
			t.Errorf("%d applications declared before the password change", n)
		}
	})

	t.Run("revoked vendor session", func(t *testing.T) {
		gone := h.vendor("gone-co")
		if _, err := h.pool.Exec(t.Context(), `UPDATE sessions SET revoked_at = now() WHERE account_id = $1`, gone.ID); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, h.get("/api/v1/apps", gone.Token), http.StatusUnauthorized, "unauthenticated")
	})
}

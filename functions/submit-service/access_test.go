package main

import (
	"net/http"
	"testing"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/fn"
)

func TestServicesCanBeListedOnlyUnderAnApprovedApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, status := range []string{apps.Draft, apps.Pending, apps.Rejected} {
		t.Run(status, func(t *testing.T) {
			a := h.app(t, h.vendor, "System "+status, status)
			r := h.as(t, h.vendor, "POST", "/api/v1/services", newForm(a.ID, "公积金提取"))
			p := r.wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
			if p.reason("application_id") == "" {
				t.Errorf("the refusal does not name application_id: %s", r.body)
			}
			if n := scalar[int](t, h, `SELECT count(*) FROM services WHERE application_id = $1`, a.ID); n != 0 {
				t.Errorf("%d services stored under a %s application", n, status)
			}
		})
	}
}

func TestVendorCannotListServicesUnderAnotherVendorsApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	theirs := h.approvedApp(t, h.newVendor(t, "globex"), "Globex system")
	p := h.as(t, h.vendor, "POST", "/api/v1/services", newForm(theirs.ID, "公积金提取")).wantInvalid(t, "application_id")
	// The same answer as for an application that does not exist: nothing about theirs leaks.
	q := h.as(t, h.vendor, "POST", "/api/v1/services", newForm("6b1f7e0c-6a43-4a8e-9d55-0d1b3a6f9e21", "公积金提取")).wantInvalid(t, "application_id")
	if p.reason("application_id") != q.reason("application_id") || p.Detail != q.Detail {
		t.Errorf("another vendor's application %+v is told apart from a missing one %+v", p, q)
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM services`); n != 0 {
		t.Errorf("%d services stored", n)
	}
}

func TestAnotherVendorCannotSeeOrTouchAService(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.attach(t, h.vendor, s.ID, logoPNG(t))
	pending := h.start(t, h.vendor, s.ID, functionalPDF().form())
	h.put(t, pending, functionalPDF().body)
	intruder := h.newVendor(t, "globex")
	theirApp := h.approvedApp(t, intruder, "Globex system")
	edit := newForm(s.Application.ID, "Hijacked")
	before := h.row(t, s.ID)
	uploads := scalar[int](t, h, `SELECT count(*) FROM uploads`)

	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"read", "GET", servicePath(s.ID), nil},
		{"edit", "PUT", servicePath(s.ID), edit},
		{"edit naming their own application", "PUT", servicePath(s.ID), newForm(theirApp.ID, "Hijacked")},
		{"set production address", "PUT", servicePath(s.ID, "/production-url"), map[string]string{"production_url": "https://evil.example.com"}},
		{"start upload", "POST", servicePath(s.ID, "/uploads"), logoPNG(t).form()},
		{"complete upload", "POST", pending.CompleteURL, nil},
		{"download logo", "GET", servicePath(s.ID, "/files/logo"), nil},
		{"apply", "POST", servicePath(s.ID, "/apply"), nil},
		{"request live", "POST", servicePath(s.ID, "/request-live"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.as(t, intruder, c.method, c.path, c.body)
			r.wantProblem(t, http.StatusNotFound, fn.CodeNotFound)
		})
	}
	h.unchanged(t, s.ID, before)
	if n := scalar[int](t, h, `SELECT count(*) FROM uploads`); n != uploads {
		t.Errorf("the other vendor started uploads: %d, want %d", n, uploads)
	}
	if st := scalar[string](t, h, `SELECT status FROM uploads WHERE id = $1`, pending.UploadID); st != "pending" {
		t.Errorf("the other vendor completed the owner's upload: %s", st)
	}
	// The owner still can.
	h.complete(t, h.vendor, pending).want(t, http.StatusOK)

	// Their list does not show it.
	if page := wantJSON[servicePage](t, h.as(t, intruder, "GET", "/api/v1/services", nil), http.StatusOK); page.Total != 0 || len(page.Items) != 0 {
		t.Errorf("the other vendor's list shows %d services", page.Total)
	}
}

// route is one operation of the function, with a body it would accept.
type route struct {
	method, path string
	body         any
}

// routes lists every operation of the function on service s.
func routes(t *testing.T, s service) []route {
	return []route{
		{"GET", "/api/v1/services", nil},
		{"POST", "/api/v1/services", newForm(s.Application.ID, "公积金查询")},
		{"GET", "/api/v1/services/callback-code?name=公积金提取", nil},
		{"GET", servicePath(s.ID), nil},
		{"PUT", servicePath(s.ID), newForm(s.Application.ID, "公积金查询")},
		{"PUT", servicePath(s.ID, "/production-url"), map[string]string{"production_url": "https://gjj.example.cn"}},
		{"POST", servicePath(s.ID, "/uploads"), logoPNG(t).form()},
		{"POST", servicePath(s.ID, "/uploads/9a0f3c52-1f7e-4b8a-9c1d-2e3f4a5b6c7d/complete"), nil},
		{"GET", servicePath(s.ID, "/files/logo"), nil},
		{"POST", servicePath(s.ID, "/apply"), nil},
		{"POST", servicePath(s.ID, "/request-live"), nil},
		{"GET", "/api/v1/tags", nil},
	}
}

func TestEveryOperationIsForSignedInVendorsOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	before := h.row(t, s.ID)
	for _, rt := range routes(t, s) {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			h.do(t, rt.method, rt.path, rt.body).wantProblem(t, http.StatusUnauthorized, fn.CodeUnauthenticated)
			h.do(t, rt.method, rt.path, rt.body, bearer("jlbs_not-a-session-of-this-platform")).
				wantProblem(t, http.StatusUnauthorized, fn.CodeUnauthenticated)
			h.do(t, rt.method, rt.path, rt.body, withHeader("Authorization", "Basic YWNtZTpwdw==")).
				wantProblem(t, http.StatusUnauthorized, fn.CodeUnauthenticated)
			h.as(t, h.admin, rt.method, rt.path, rt.body).wantProblem(t, http.StatusForbidden, fn.CodeForbidden)
		})
	}
	h.unchanged(t, s.ID, before)
	if n := scalar[int](t, h, `SELECT count(*) FROM services`); n != 1 {
		t.Errorf("%d services, want 1", n)
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM uploads`); n != 0 {
		t.Errorf("%d uploads started without a vendor session", n)
	}
}

func TestSignedOutVendorIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.exec(t, `UPDATE sessions SET revoked_at = now() WHERE account_id = $1`, h.vendor.ID)
	h.as(t, h.vendor, "GET", servicePath(s.ID), nil).wantProblem(t, http.StatusUnauthorized, fn.CodeUnauthenticated)
	h.as(t, h.vendor, "POST", servicePath(s.ID, "/uploads"), logoPNG(t).form()).wantProblem(t, http.StatusUnauthorized, fn.CodeUnauthenticated)
}

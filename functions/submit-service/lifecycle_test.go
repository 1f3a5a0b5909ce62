package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
)

func TestApplyingForListingNeedsBothReports(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	apply := servicePath(s.ID, "/apply")

	before := h.row(t, s.ID)
	h.as(t, h.vendor, "POST", apply, nil).wantProblem(t, http.StatusConflict, "reports-missing")
	h.unchanged(t, s.ID, before)

	h.attach(t, h.vendor, s.ID, functionalPDF())
	h.attach(t, h.vendor, s.ID, logoPNG(t))
	before = h.row(t, s.ID)
	h.as(t, h.vendor, "POST", apply, nil).wantProblem(t, http.StatusConflict, "reports-missing")
	h.unchanged(t, s.ID, before)

	// An empty security report is enough to apply.
	h.attach(t, h.vendor, s.ID, emptyReport("security_report"))
	at := time.Now()
	got := wantJSON[service](t, h.as(t, h.vendor, "POST", apply, nil), http.StatusOK)
	if got.Status != "applied" || got.NextAction != "await-review" || got.AppliedAt == nil || got.AppliedAt.Before(at.Add(-time.Second)) {
		t.Errorf("after applying: status %q next_action %q applied_at %v", got.Status, got.NextAction, got.AppliedAt)
	}
	if st := scalar[string](t, h, `SELECT status FROM services WHERE id = $1`, s.ID); st != "applied" {
		t.Errorf("stored status %q, want applied", st)
	}
}

func TestApplyingWithTwoEmptyReportsIsAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.attach(t, h.vendor, s.ID, emptyReport("functional_report"))
	h.attach(t, h.vendor, s.ID, emptyReport("security_report"))
	got := wantJSON[service](t, h.as(t, h.vendor, "POST", servicePath(s.ID, "/apply"), nil), http.StatusOK)
	if got.Status != "applied" || !got.Reports.Functional.ToBeCompleted || !got.Reports.Security.ToBeCompleted {
		t.Errorf("status %q reports %+v, want applied with both reports to be completed", got.Status, got.Reports)
	}
}

func TestAppliedServiceIsFrozenForTheVendor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.attach(t, h.vendor, s.ID, emptyReport("functional_report"))
	h.attach(t, h.vendor, s.ID, emptyReport("security_report"))
	started := h.start(t, h.vendor, s.ID, logoPNG(t).form()) // started while in testing
	h.put(t, started, logoPNG(t).body)
	h.as(t, h.vendor, "POST", servicePath(s.ID, "/apply"), nil).want(t, http.StatusOK)
	before := h.row(t, s.ID)
	uploads := scalar[int](t, h, `SELECT count(*) FROM uploads`)

	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"apply again", "POST", servicePath(s.ID, "/apply"), nil},
		{"edit", "PUT", servicePath(s.ID), newForm(s.Application.ID, "公积金提取（新）")},
		{"set production address", "PUT", servicePath(s.ID, "/production-url"), map[string]string{"production_url": "https://gjj.example.cn"}},
		{"start an upload", "POST", servicePath(s.ID, "/uploads"), securityPDF().form()},
		{"complete an upload started before applying", "POST", started.CompleteURL, nil},
		{"request live", "POST", servicePath(s.ID, "/request-live"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.as(t, h.vendor, c.method, c.path, c.body)
			p := r.wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
			if !strings.Contains(p.Detail, "applied") {
				t.Errorf("detail %q does not say the service is applied", p.Detail)
			}
			var raw map[string]any
			if err := json.Unmarshal(r.body, &raw); err != nil || raw["status"] != float64(http.StatusConflict) {
				t.Errorf("problem member status is %v, want the HTTP status 409 (RFC 9457)", raw["status"])
			}
		})
	}
	h.unchanged(t, s.ID, before)
	if n := scalar[int](t, h, `SELECT count(*) FROM uploads`); n != uploads {
		t.Errorf("%d uploads started on an applied service", n-uploads)
	}
	if got := h.get(t, h.vendor, s.ID); got.Logo.Attached {
		t.Error("a logo was attached to an applied service")
	}
}

func TestListedServiceIsCompletedAndAsksToGoLive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.attach(t, h.vendor, s.ID, emptyReport("functional_report"))
	h.attach(t, h.vendor, s.ID, emptyReport("security_report"))
	h.as(t, h.vendor, "POST", servicePath(s.ID, "/apply"), nil).want(t, http.StatusOK)
	h.advance(t, s.ID, "approve-listing")
	live := servicePath(s.ID, "/request-live")

	if got := h.get(t, h.vendor, s.ID); got.Status != "approved" || got.NextAction != "complete-for-live" {
		t.Errorf("listed service: status %q next_action %q, want approved / complete-for-live", got.Status, got.NextAction)
	}

	// The declaration is frozen once listed.
	before := h.row(t, s.ID)
	edit := newForm(s.Application.ID, "公积金提取（新）")
	edit.ProductionURL = "https://gjj.example.cn/extract"
	h.as(t, h.vendor, "PUT", servicePath(s.ID), edit).wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
	h.unchanged(t, s.ID, before)

	// Not ready: empty reports and no production address.
	p := h.as(t, h.vendor, "POST", live, nil).wantProblem(t, http.StatusConflict, "not-ready-for-live")
	if !strings.Contains(p.Detail, "report") {
		t.Errorf("detail %q does not point at the reports", p.Detail)
	}
	h.unchanged(t, s.ID, before)

	// The production address may be set now…
	got := wantJSON[service](t, h.as(t, h.vendor, "PUT", servicePath(s.ID, "/production-url"),
		map[string]string{"production_url": "https://gjj.example.cn/extract"}), http.StatusOK)
	if got.ProductionURL != "https://gjj.example.cn/extract" || got.Status != "approved" || got.NextAction != "complete-for-live" {
		t.Errorf("after setting the production address: %q status %q next_action %q", got.ProductionURL, got.Status, got.NextAction)
	}
	h.as(t, h.vendor, "PUT", servicePath(s.ID, "/production-url"), map[string]string{"production_url": "http://gjj.example.cn"}).
		wantInvalid(t, "production_url")
	before = h.row(t, s.ID)
	h.as(t, h.vendor, "POST", live, nil).wantProblem(t, http.StatusConflict, "not-ready-for-live")
	h.unchanged(t, s.ID, before)

	// …and the reports completed.
	h.attach(t, h.vendor, s.ID, functionalPDF())
	before = h.row(t, s.ID)
	h.as(t, h.vendor, "POST", live, nil).wantProblem(t, http.StatusConflict, "not-ready-for-live")
	h.unchanged(t, s.ID, before)
	got = h.attach(t, h.vendor, s.ID, file{kind: "security_report", contentType: ctDOCX, filename: "安全测试报告.docx", body: docxBytes(t)})
	if got.Status != "approved" || got.NextAction != "request-live" || got.Reports.Security.ToBeCompleted || got.Reports.Functional.ToBeCompleted {
		t.Errorf("completed listing: status %q next_action %q reports %+v", got.Status, got.NextAction, got.Reports)
	}

	at := time.Now()
	got = wantJSON[service](t, h.as(t, h.vendor, "POST", live, nil), http.StatusOK)
	if got.Status != "live_requested" || got.NextAction != "await-review" || got.LiveRequestedAt == nil || got.LiveRequestedAt.Before(at.Add(-time.Second)) {
		t.Errorf("after asking to go live: status %q next_action %q live_requested_at %v", got.Status, got.NextAction, got.LiveRequestedAt)
	}
	if got.LiveAt != nil || got.AppliedAt == nil {
		t.Errorf("live_at %v applied_at %v", got.LiveAt, got.AppliedAt)
	}

	// Now it waits for the administrators.
	before = h.row(t, s.ID)
	h.as(t, h.vendor, "POST", live, nil).wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
	h.as(t, h.vendor, "PUT", servicePath(s.ID, "/production-url"), map[string]string{"production_url": "https://other.example.cn"}).
		wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
	h.as(t, h.vendor, "POST", servicePath(s.ID, "/uploads"), logoPNG(t).form()).wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
	h.unchanged(t, s.ID, before)
}

func TestGoingLiveNeedsAProductionAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.attach(t, h.vendor, s.ID, functionalPDF())
	h.attach(t, h.vendor, s.ID, securityPDF())
	h.as(t, h.vendor, "POST", servicePath(s.ID, "/apply"), nil).want(t, http.StatusOK)
	h.advance(t, s.ID, "approve-listing")
	before := h.row(t, s.ID)
	p := h.as(t, h.vendor, "POST", servicePath(s.ID, "/request-live"), nil).wantProblem(t, http.StatusConflict, "not-ready-for-live")
	if !strings.Contains(p.Detail, "production") {
		t.Errorf("detail %q does not point at the production address", p.Detail)
	}
	h.unchanged(t, s.ID, before)
}

// TestVendorMovesAreAllowedOnlyFromTheirStatus tries every vendor operation that changes a
// service in every status of its life: each is accepted exactly where the state machine says.
func TestVendorMovesAreAllowedOnlyFromTheirStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	type op struct {
		name   string
		method string
		path   func(id string) string
		body   any
	}
	ops := []op{
		{"apply", "POST", func(id string) string { return servicePath(id, "/apply") }, nil},
		{"request-live", "POST", func(id string) string { return servicePath(id, "/request-live") }, nil},
		{"edit", "PUT", func(id string) string { return servicePath(id) }, nil},
		{"production-url", "PUT", func(id string) string { return servicePath(id, "/production-url") },
			map[string]string{"production_url": "https://gjj.example.cn/v2"}},
		{"upload", "POST", func(id string) string { return servicePath(id, "/uploads") }, logoPNG(t).form()},
	}
	// allowed[status] lists the operations accepted in that status.
	allowed := map[string]map[string]bool{
		"testing":        {"apply": true, "edit": true, "production-url": true, "upload": true},
		"applied":        {},
		"approved":       {"request-live": true, "production-url": true, "upload": true},
		"live_requested": {},
		"live":           {},
		"offline":        {},
	}
	// reach brings a ready service (both reports complete, a production address) to a status.
	reach := func(t *testing.T, status string, n int) service {
		f := newForm(a.ID, "服务")
		f.ModuleCallbackCode = strings.ToUpper(strings.ReplaceAll(status, "_", "")) + string(rune('A'+n))
		f.ProductionURL = "https://gjj.example.cn/extract"
		s := h.create(t, h.vendor, f)
		h.attach(t, h.vendor, s.ID, functionalPDF())
		h.attach(t, h.vendor, s.ID, securityPDF())
		if status == "testing" {
			return s
		}
		h.as(t, h.vendor, "POST", servicePath(s.ID, "/apply"), nil).want(t, http.StatusOK)
		path := map[string][]string{"applied": nil, "approved": {"approve-listing"}, "live_requested": {"approve-listing"},
			"live": {"approve-listing"}, "offline": {"approve-listing"}}[status]
		h.advance(t, s.ID, path...)
		if status == "applied" || status == "approved" {
			return s
		}
		h.as(t, h.vendor, "POST", servicePath(s.ID, "/request-live"), nil).want(t, http.StatusOK)
		switch status {
		case "live":
			h.advance(t, s.ID, "approve-live")
		case "offline":
			h.advance(t, s.ID, "approve-live", "take-offline")
		}
		return s
	}
	for status, ok := range allowed {
		for i, o := range ops {
			t.Run(status+" "+o.name, func(t *testing.T) {
				s := reach(t, status, i)
				if got := scalar[string](t, h, `SELECT status FROM services WHERE id = $1`, s.ID); got != status {
					t.Fatalf("set-up reached %s, want %s", got, status)
				}
				body := o.body
				if o.name == "edit" {
					e := newForm(a.ID, "服务（改）")
					e.ModuleCallbackCode = s.ModuleCallbackCode
					body = e
				}
				before := h.row(t, s.ID)
				r := h.as(t, h.vendor, o.method, o.path(s.ID), body)
				if ok[o.name] {
					if r.status != http.StatusOK && r.status != http.StatusCreated {
						t.Fatalf("%s on a %s service: %d %s, want it accepted", o.name, status, r.status, r.body)
					}
					return
				}
				r.wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
				h.unchanged(t, s.ID, before)
			})
		}
	}
}

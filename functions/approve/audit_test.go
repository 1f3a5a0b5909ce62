package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

type auditPage struct {
	Items []struct {
		Action     string `json:"action"`
		ActorLogin string `json:"actor_login"`
		SubjectID  string `json:"subject_id"`
	} `json:"items"`
	Total int `json:"total"`
}

// The audit log search finds decisions by action prefix, subject and time, newest first.
func TestAuditSearchFindsDecisions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("auditor")
	vendor := h.vendor("vendor-a")
	first, second := h.pending(vendor, "第一个应用"), h.pending(vendor, "第二个应用")
	h.approve(admin, first.ID)
	h.reject(admin, second.ID, "材料不全，请补充")

	page := wantJSON[auditPage](t, h.get("/api/v1/admin/audit?action=application.", admin.Token), http.StatusOK)
	if page.Total != 2 || page.Items[0].SubjectID != second.ID || page.Items[0].Action != "application.rejected" || page.Items[0].ActorLogin != "auditor" {
		t.Fatalf("search by action prefix: %+v", page)
	}
	page = wantJSON[auditPage](t, h.get("/api/v1/admin/audit?subject_type=application&subject_id="+first.ID, admin.Token), http.StatusOK)
	if page.Total != 1 || page.Items[0].Action != "application.approved" {
		t.Fatalf("search by subject: %+v", page)
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	if page = wantJSON[auditPage](t, h.get("/api/v1/admin/audit?from="+future, admin.Token), http.StatusOK); page.Total != 0 {
		t.Fatalf("nothing happened in the future: %+v", page)
	}
	wantProblem(t, h.get("/api/v1/admin/audit?from=yesterday", admin.Token), http.StatusUnprocessableEntity, "validation-failed")
	wantProblem(t, h.get("/api/v1/admin/audit", vendor.Token), http.StatusForbidden, "forbidden")
}

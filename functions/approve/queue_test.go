package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/reviews"
)

type detail struct {
	apps.Application
	Decisions []reviews.Decision `json:"decisions"`
}

func names(p apps.Page) []string {
	out := []string{}
	for _, a := range p.Items {
		out = append(out, a.Name)
	}
	return out
}

func TestReviewQueueShowsPendingApplicationsOldestSubmissionFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	acme := h.vendor("acme")
	bolt := h.vendor("bolt")

	// Declared in one order, submitted in another: the queue follows submission.
	lateDeclared := h.draft(acme, "Acme Parking")
	h.draft(acme, "Acme Draft")
	earlyDeclared := h.draft(bolt, "Bolt Library")
	h.submit(bolt, earlyDeclared.ID)
	h.submit(acme, lateDeclared.ID)
	h.pending(bolt, "Bolt Pool")
	h.approve(admin, h.pending(acme, "Acme Approved").ID)
	h.reject(admin, h.pending(bolt, "Bolt Rejected").ID, "Missing privacy notice.")

	r := h.get("/api/v1/admin/applications", admin.Token)
	q := wantJSON[apps.Page](t, r, http.StatusOK)
	if got, want := names(q), []string{"Bolt Library", "Acme Parking", "Bolt Pool"}; !slices.Equal(got, want) {
		t.Fatalf("queue = %v, want %v (pending only, oldest submission first)", got, want)
	}
	if q.Total != 3 || q.Page != 1 || q.PageSize != 20 {
		t.Errorf("total %d page %d size %d, want 3 1 20", q.Total, q.Page, q.PageSize)
	}
	for i, a := range q.Items {
		if a.Status != apps.Pending || a.SubmittedAt == nil || a.DeclaredAt == nil {
			t.Errorf("%s: status %q submitted_at %v declared_at %v", a.Name, a.Status, a.SubmittedAt, a.DeclaredAt)
		}
		if i > 0 && a.SubmittedAt.Before(*q.Items[i-1].SubmittedAt) {
			t.Errorf("%s submitted before the one above it", a.Name)
		}
		vendor := map[string]string{"Bolt Library": "bolt", "Acme Parking": "acme", "Bolt Pool": "bolt"}[a.Name]
		if a.Vendor.Login != vendor || a.Vendor.CompanyName != vendor+" Co." || a.Vendor.ID == "" {
			t.Errorf("%s: vendor = %+v, want login %q and its company", a.Name, a.Vendor, vendor)
		}
		if a.ContactMobile != "13912345678" || len(a.UserInfoFields) != 3 {
			t.Errorf("%s: reviewers see the declaration opened: mobile %q fields %v", a.Name, a.ContactMobile, a.UserInfoFields)
		}
	}

	cases := []struct {
		query     string
		wantNames []string
		wantTotal int
	}{
		{"?status=pending", []string{"Bolt Library", "Acme Parking", "Bolt Pool"}, 3},
		{"?status=pending&page_size=2", []string{"Bolt Library", "Acme Parking"}, 3},
		{"?status=pending&page_size=2&page=2", []string{"Bolt Pool"}, 3},
		{"?page=2", []string{}, 3},
		{"?status=approved", []string{"Acme Approved"}, 1},
		{"?status=rejected", []string{"Bolt Rejected"}, 1},
		{"?status=draft", []string{"Acme Draft"}, 1},
		// Empty: every status, newest declaration first.
		{"?status=", []string{"Bolt Rejected", "Acme Approved", "Bolt Pool", "Bolt Library", "Acme Draft", "Acme Parking"}, 6},
	}
	for _, tc := range cases {
		t.Run("query "+tc.query, func(t *testing.T) {
			t.Parallel()
			p := wantJSON[apps.Page](t, h.get("/api/v1/admin/applications"+tc.query, admin.Token), http.StatusOK)
			if !slices.Equal(names(p), tc.wantNames) || p.Total != tc.wantTotal {
				t.Errorf("got %v (total %d), want %v (total %d)", names(p), p.Total, tc.wantNames, tc.wantTotal)
			}
		})
	}
	for _, bad := range []struct{ query, param string }{
		{"?status=bogus", "status"},
		{"?status=Pending", "status"},
		{"?status=pending'--", "status"},
		{"?page=-1", "page"},
		{"?page_size=1000", "page_size"},
	} {
		t.Run("bad "+bad.query, func(t *testing.T) {
			t.Parallel()
			p := wantProblem(t, h.get("/api/v1/admin/applications"+bad.query, admin.Token), http.StatusUnprocessableEntity, "validation-failed")
			if got := p.paramNames(); !slices.Equal(got, []string{bad.param}) {
				t.Errorf("invalid_params = %v, want [%s]", got, bad.param)
			}
		})
	}
}

func TestApplicationDetailShowsTheDecisionHistory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := h.admin("first-reviewer")
	second := h.admin("second-reviewer")
	vendor := h.vendor("acme")
	a := h.pending(vendor, "Acme Parking")
	path := "/api/v1/admin/applications/" + a.ID

	d := wantJSON[detail](t, h.get(path, first.Token), http.StatusOK)
	if d.ID != a.ID || d.Status != apps.Pending || d.Name != "Acme Parking" || d.Vendor.Login != "acme" || d.ContactMobile != "13912345678" {
		t.Errorf("detail = %+v", d.Application)
	}
	if d.Decisions == nil || len(d.Decisions) != 0 {
		t.Errorf("decisions = %#v, want an empty list", d.Decisions)
	}

	h.reject(first, a.ID, "Say which citizen data is kept.")
	if _, err := apps.Update(t.Context(), h.pool, h.sealer, vendor.ID, a.ID, declaration("Acme Parking 2")); err != nil {
		t.Fatal(err)
	}
	h.submit(vendor, a.ID)
	before := time.Now()
	h.approve(second, a.ID)

	d = wantJSON[detail](t, h.get(path, first.Token), http.StatusOK)
	if d.Status != apps.Approved || d.Name != "Acme Parking 2" || d.RejectReason != "" || !appCodeRE.MatchString(d.AppCode) {
		t.Errorf("detail after approval = %+v", d.Application)
	}
	if len(d.Decisions) != 2 {
		t.Fatalf("decisions = %+v, want the rejection and the approval", d.Decisions)
	}
	rej, app := d.Decisions[0], d.Decisions[1]
	if rej.Decision != "rejected" || rej.Reason != "Say which citizen data is kept." || rej.AdminID != first.ID || rej.AdminLogin != "first-reviewer" {
		t.Errorf("first decision = %+v", rej)
	}
	if app.Decision != "approved" || app.Reason != "" || app.AdminID != second.ID || app.AdminLogin != "second-reviewer" {
		t.Errorf("second decision = %+v", app)
	}
	near(t, "approval time", &app.CreatedAt, before, time.Minute)
	if app.CreatedAt.Before(rej.CreatedAt) {
		t.Error("decisions are not oldest first")
	}

	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "nope", a.ID + "x"} {
		wantProblem(t, h.get("/api/v1/admin/applications/"+id, first.Token), http.StatusNotFound, "not-found")
	}
}

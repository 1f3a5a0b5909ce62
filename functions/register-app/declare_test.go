package main

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/apps"
)

func TestVendorDeclaresApplicationWithEveryField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		needs      bool
		level      any // nil: the field is left out
		wantFields []string
	}{
		{"basic user info", true, "basic", []string{"id", "mobile"}},
		{"identity user info", true, "identity", []string{"id", "mobile", "id_number"}},
		{"real-name user info", true, "real_name", []string{"id", "mobile", "id_number", "face_image"}},
		{"no user info", false, nil, []string{}},
		{"no user info, level sent empty", false, "", []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			vendor := h.vendor("parking-co")
			body := with(declaration(), "needs_user_info", tc.needs, "user_info_level", tc.level)
			if tc.level == nil {
				delete(body, "user_info_level")
			}
			before := time.Now()
			r := h.post("/api/v1/apps", vendor.Token, body)
			a := wantJSON[apps.Application](t, r, http.StatusCreated)

			if !uuidRE.MatchString(a.ID) {
				t.Errorf("id = %q, want a UUID", a.ID)
			}
			if loc := r.Header.Get("Location"); loc != "/api/v1/apps/"+a.ID {
				t.Errorf("Location = %q, want /api/v1/apps/%s", loc, a.ID)
			}
			if a.Status != apps.Draft {
				t.Errorf("status = %q, want draft", a.Status)
			}
			if a.Name != "Citizen Parking" || a.ContactName != "Li Lei" || a.ContactMobile != "13912345678" ||
				a.Description != "Lets citizens pay for street parking from the super-app." || a.NeedsUserInfo != tc.needs {
				t.Errorf("declaration not echoed: %+v", a)
			}
			wantLevel, _ := tc.level.(string)
			if a.UserInfoLevel != wantLevel {
				t.Errorf("user_info_level = %q, want %q", a.UserInfoLevel, wantLevel)
			}
			if !slices.Equal(a.UserInfoFields, tc.wantFields) || a.UserInfoFields == nil {
				t.Errorf("user_info_fields = %#v, want %#v", a.UserInfoFields, tc.wantFields)
			}
			if a.DeclaredAt != nil || a.SubmittedAt != nil || a.DecidedAt != nil || a.AppCode != "" {
				t.Errorf("a draft has declared_at/submitted_at/decided_at/app_code: %s", r)
			}
			near(t, "created_at", &a.CreatedAt, before, time.Minute)
			if a.Vendor.ID != vendor.ID || a.Vendor.Login != "parking-co" || a.Vendor.CompanyName != "parking-co Co." {
				t.Errorf("vendor = %+v, want the signed-in vendor", a.Vendor)
			}
			if !bytes.Contains(r.Body, []byte(`"user_info_fields":[`)) {
				t.Errorf("user_info_fields must always be a list: %s", r)
			}

			// The vendor reads back exactly what it declared; the mobile is sealed at rest.
			got := wantJSON[apps.Application](t, h.get("/api/v1/apps/"+a.ID, vendor.Token), http.StatusOK)
			if got.Name != a.Name || got.ContactMobile != "13912345678" || !slices.Equal(got.UserInfoFields, tc.wantFields) {
				t.Errorf("GET = %+v, want %+v", got, a)
			}
			var sealed []byte
			var level *string
			if err := h.pool.QueryRow(context.Background(), `SELECT contact_mobile, user_info_level FROM applications WHERE id = $1`, a.ID).Scan(&sealed, &level); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(sealed, []byte("13912345678")) {
				t.Error("contact_mobile is stored in the clear")
			}
			if (level == nil) != !tc.needs {
				t.Errorf("stored user_info_level = %v with needs_user_info %v", level, tc.needs)
			}
		})
	}
}

func TestVendorListsOwnApplicationsByStatusAndPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("lister")
	other := h.vendor("someone-else")
	h.declare(other, with(declaration(), "name", "Not Mine"))

	first := h.declare(vendor, with(declaration(), "name", "First"))
	second := h.declare(vendor, with(declaration(), "name", "Second"))
	third := h.declare(vendor, with(declaration(), "name", "Third"))
	beforeSubmit := time.Now()
	h.submit(vendor, second.ID)

	type page struct {
		Items    []apps.Application `json:"items"`
		Total    int                `json:"total"`
		Page     int                `json:"page"`
		PageSize int                `json:"page_size"`
	}
	names := func(p page) []string {
		var out []string
		for _, a := range p.Items {
			out = append(out, a.Name)
		}
		return out
	}
	cases := []struct {
		query     string
		wantNames []string
		wantTotal int
		wantPage  int
		wantSize  int
	}{
		{"", []string{"Third", "Second", "First"}, 3, 1, 20},
		{"?status=", []string{"Third", "Second", "First"}, 3, 1, 20},
		{"?status=draft", []string{"Third", "First"}, 2, 1, 20},
		{"?status=pending", []string{"Second"}, 1, 1, 20},
		{"?status=approved", nil, 0, 1, 20},
		{"?status=rejected", nil, 0, 1, 20},
		{"?page_size=2", []string{"Third", "Second"}, 3, 1, 2},
		{"?page_size=2&page=2", []string{"First"}, 3, 2, 2},
		{"?page_size=2&page=3", nil, 3, 3, 2},
		{"?status=draft&page_size=1&page=2", []string{"First"}, 2, 2, 1},
	}
	for _, tc := range cases {
		t.Run("query "+tc.query, func(t *testing.T) {
			t.Parallel()
			r := h.get("/api/v1/apps"+tc.query, vendor.Token)
			p := wantJSON[page](t, r, http.StatusOK)
			if !slices.Equal(names(p), tc.wantNames) || p.Total != tc.wantTotal || p.Page != tc.wantPage || p.PageSize != tc.wantSize {
				t.Errorf("got %v total %d page %d size %d, want %v total %d page %d size %d",
					names(p), p.Total, p.Page, p.PageSize, tc.wantNames, tc.wantTotal, tc.wantPage, tc.wantSize)
			}
			if p.Items == nil {
				t.Errorf("items must be a list, even when empty: %s", r)
			}
			for _, a := range p.Items {
				if a.Vendor.ID != vendor.ID {
					t.Errorf("listed another vendor's application %q", a.Name)
				}
				switch a.ID {
				case second.ID:
					if a.Status != apps.Pending {
						t.Errorf("%s status = %q, want pending", a.Name, a.Status)
					}
					near(t, "declared_at of the submitted application", a.DeclaredAt, beforeSubmit, time.Minute)
				case first.ID, third.ID:
					if a.Status != apps.Draft || a.DeclaredAt != nil {
						t.Errorf("%s: status %q declared_at %v, want draft and no declared_at", a.Name, a.Status, a.DeclaredAt)
					}
				}
			}
		})
	}

	for _, bad := range []struct{ query, param string }{
		{"?status=archived", "status"},
		{"?status=PENDING", "status"},
		{"?page=0", "page"},
		{"?page=x", "page"},
		{"?page_size=0", "page_size"},
		{"?page_size=101", "page_size"},
	} {
		t.Run("bad "+bad.query, func(t *testing.T) {
			t.Parallel()
			p := wantProblem(t, h.get("/api/v1/apps"+bad.query, vendor.Token), http.StatusUnprocessableEntity, "validation-failed")
			if got := p.paramNames(); !slices.Equal(got, []string{bad.param}) {
				t.Errorf("invalid_params = %v, want [%s]", got, bad.param)
			}
		})
	}
}

func TestDraftIsSubmittedOnceIntoReview(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("submitter")
	a := h.declare(vendor, declaration())

	before := time.Now()
	r := h.post("/api/v1/apps/"+a.ID+"/submit", vendor.Token, nil)
	sub := wantJSON[apps.Application](t, r, http.StatusOK)
	if sub.Status != apps.Pending {
		t.Fatalf("status = %q, want pending", sub.Status)
	}
	near(t, "declared_at", sub.DeclaredAt, before, time.Minute)
	near(t, "submitted_at", sub.SubmittedAt, before, time.Minute)

	// Submitting again is a conflict and changes nothing.
	snap := h.snapshot()
	again := h.post("/api/v1/apps/"+a.ID+"/submit", vendor.Token, nil)
	if p := wantProblem(t, again, http.StatusConflict, "invalid-state"); p.AppStatus != apps.Pending {
		t.Errorf("application_status = %q, want pending", p.AppStatus)
	}
	if h.snapshot() != snap {
		t.Error("a refused resubmission changed the database")
	}
	if got := h.stored(a.ID); !got.SubmittedAt.Equal(*sub.SubmittedAt) {
		t.Errorf("submitted_at moved from %s to %s", sub.SubmittedAt, got.SubmittedAt)
	}
}

func TestVendorEditsApplicationUntilApproved(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("editor")
	admin := h.admin("reviewer")

	edited := with(declaration(), "name", "Parking v2", "contact_mobile", "15011112222",
		"needs_user_info", false, "user_info_level", nil, "description", "Second draft of the parking description.")

	setups := map[string]func() string{
		apps.Draft: func() string { return h.declare(vendor, declaration()).ID },
		apps.Pending: func() string {
			id := h.declare(vendor, declaration()).ID
			h.submit(vendor, id)
			return id
		},
		apps.Rejected: func() string {
			id := h.declare(vendor, declaration()).ID
			h.submit(vendor, id)
			h.reject(id, admin, "Describe the data you keep.")
			return id
		},
	}
	for _, status := range []string{apps.Draft, apps.Pending, apps.Rejected} {
		t.Run("while "+status, func(t *testing.T) {
			id := setups[status]()
			r := h.put("/api/v1/apps/"+id, vendor.Token, edited)
			a := wantJSON[apps.Application](t, r, http.StatusOK)
			if a.Status != status {
				t.Errorf("editing changed the status to %q, want it to stay %q", a.Status, status)
			}
			got := h.stored(id)
			if got.Name != "Parking v2" || got.ContactMobile != "15011112222" || got.NeedsUserInfo || got.UserInfoLevel != "" ||
				len(got.UserInfoFields) != 0 || got.Description != "Second draft of the parking description." {
				t.Errorf("stored after edit: %+v", got)
			}
			if !got.UpdatedAt.After(got.CreatedAt) {
				t.Errorf("updated_at %s not after created_at %s", got.UpdatedAt, got.CreatedAt)
			}
		})
	}

	t.Run("once approved", func(t *testing.T) {
		a, _ := h.approved(vendor, admin)
		snap := h.snapshot()
		r := h.put("/api/v1/apps/"+a.ID, vendor.Token, edited)
		if p := wantProblem(t, r, http.StatusConflict, "invalid-state"); p.AppStatus != apps.Approved {
			t.Errorf("application_status = %q, want approved: %s", p.AppStatus, r)
		}
		if h.snapshot() != snap {
			t.Error("a refused edit of an approved application changed the database")
		}
		if got := h.stored(a.ID); got.Name != "Citizen Parking" || got.ContactMobile != "13912345678" {
			t.Errorf("approved application changed: %+v", got)
		}
	})

	t.Run("approved cannot be submitted again", func(t *testing.T) {
		a, _ := h.approved(vendor, admin)
		snap := h.snapshot()
		wantProblem(t, h.post("/api/v1/apps/"+a.ID+"/submit", vendor.Token, nil), http.StatusConflict, "invalid-state")
		if h.snapshot() != snap {
			t.Error("a refused submission changed the database")
		}
	})
}

func TestRejectedApplicationCanBeEditedAndResubmitted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("resubmitter")
	admin := h.admin("reviewer")
	a := h.declare(vendor, declaration())
	first := h.submit(vendor, a.ID)
	h.reject(a.ID, admin, "The description does not say which citizen data is kept.")

	seen := wantJSON[apps.Application](t, h.get("/api/v1/apps/"+a.ID, vendor.Token), http.StatusOK)
	if seen.Status != apps.Rejected || seen.RejectReason != "The description does not say which citizen data is kept." {
		t.Fatalf("vendor sees status %q reason %q, want rejected with the reviewer's reason", seen.Status, seen.RejectReason)
	}
	listed := wantJSON[apps.Page](t, h.get("/api/v1/apps?status=rejected", vendor.Token), http.StatusOK)
	if listed.Total != 1 || listed.Items[0].ID != a.ID {
		t.Fatalf("?status=rejected lists %+v", listed)
	}

	wantJSON[apps.Application](t, h.put("/api/v1/apps/"+a.ID, vendor.Token,
		with(declaration(), "description", "We keep the plate number and the citizen's mobile for 30 days.")), http.StatusOK)
	again := h.submit(vendor, a.ID)
	if again.Status != apps.Pending {
		t.Fatalf("resubmitted status = %q, want pending", again.Status)
	}
	if !again.DeclaredAt.Equal(*first.DeclaredAt) {
		t.Errorf("declared_at moved from %s to %s; it is the first submission", first.DeclaredAt, again.DeclaredAt)
	}
	if !again.SubmittedAt.After(*first.SubmittedAt) {
		t.Errorf("submitted_at %s not after the first submission %s", again.SubmittedAt, first.SubmittedAt)
	}
	approved, _ := h.approve(a.ID, admin)
	if approved.Status != apps.Approved || approved.Description != "We keep the plate number and the citizen's mobile for 30 days." {
		t.Errorf("approved the edited application? %+v", approved)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/reviews"
)

type outboxRow struct {
	Source, Type, Subject string
	Data                  map[string]any
	Raw                   string
	SentAt                *time.Time
}

func (h *harness) outbox() []outboxRow {
	h.t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT source, type, subject, data::text, sent_at FROM outbox ORDER BY created_at, id`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var o outboxRow
		if err := rows.Scan(&o.Source, &o.Type, &o.Subject, &o.Raw, &o.SentAt); err != nil {
			h.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(o.Raw), &o.Data); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return out
}

type auditRow struct {
	ActorID, ActorRole, Action, SubjectType, SubjectID, Detail, RequestID string
}

func (h *harness) audit(action string) []auditRow {
	h.t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT coalesce(actor_id::text, ''), actor_role, action, subject_type, subject_id,
		detail::text, coalesce(request_id, '') FROM audit_log WHERE action = $1 ORDER BY id`, action)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var a auditRow
		if err := rows.Scan(&a.ActorID, &a.ActorRole, &a.Action, &a.SubjectType, &a.SubjectID, &a.Detail, &a.RequestID); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func TestApprovalIssuesCredentialsAndNotifiesTheVendor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.pending(vendor, "Acme Parking")

	before := time.Now()
	r := h.post(approvePath(a.ID), admin.Token, nil)
	got := wantJSON[apps.Application](t, r, http.StatusOK)
	if got.Status != apps.Approved || !appCodeRE.MatchString(got.AppCode) || got.ID != a.ID {
		t.Fatalf("approved = %+v, want status approved with a 30-hex app_code", got)
	}
	near(t, "decided_at", got.DecidedAt, before, time.Minute)
	if stored := h.stored(a.ID); stored.Status != apps.Approved || stored.AppCode != got.AppCode {
		t.Errorf("stored status %q app_code %q", stored.Status, stored.AppCode)
	}

	// One test secret, sealed at rest, never in the approval's answer.
	secrets := h.secrets(a.ID)
	if len(secrets) != 1 || secrets[0].Environment != apps.EnvTest || !testSecretRE.MatchString(secrets[0].Secret) || secrets[0].ExpiresAt != nil {
		t.Fatalf("secrets = %+v, want one test secret without expiry", secrets)
	}
	plain := secrets[0].Secret
	if bytes.Contains(r.Body, []byte(plain)) || bytes.Contains(r.Body, []byte(strings.TrimPrefix(plain, "test_"))) || bytes.Contains(r.Body, []byte("secret")) {
		t.Errorf("the approval answer shows the secret to the admin: %s", r)
	}
	var sealed []byte
	if err := h.pool.QueryRow(context.Background(), `SELECT secret FROM app_secrets WHERE application_id = $1`, a.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(plain)) || bytes.Contains(sealed, []byte(strings.TrimPrefix(plain, "test_"))) {
		t.Error("app_secrets.secret holds the plaintext secret")
	}

	// The decision, its audit entry and exactly one event.
	d, err := reviews.History(context.Background(), h.pool, "application", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 1 || d[0].Decision != "approved" || d[0].AdminID != admin.ID || d[0].Reason != "" {
		t.Errorf("decisions = %+v", d)
	}
	audits := h.audit("application.approved")
	if len(audits) != 1 || audits[0].ActorID != admin.ID || audits[0].ActorRole != "admin" || audits[0].SubjectType != "application" ||
		audits[0].SubjectID != a.ID || audits[0].RequestID != r.Header.Get("X-Request-Id") {
		t.Errorf("audit = %+v, want one application.approved row by the admin for this request", audits)
	}
	evs := h.outbox()
	if len(evs) != 1 {
		t.Fatalf("outbox = %+v, want exactly one event", evs)
	}
	e := evs[0]
	if e.Type != "cn.jinlaiban.openplatform.application.approved.v1" || e.Source != "/functions/approve" || e.Subject != "applications/"+a.ID || e.SentAt != nil {
		t.Errorf("event = %+v", e)
	}
	want := map[string]any{"application_id": a.ID, "app_code": got.AppCode, "decision": "approved", "vendor_id": vendor.ID, "name": "Acme Parking"}
	for k, v := range want {
		if e.Data[k] != v {
			t.Errorf("event data %s = %v, want %v", k, e.Data[k], v)
		}
	}
	if decidedAt, _ := e.Data["decided_at"].(string); decidedAt == "" {
		t.Errorf("event data has no decided_at: %s", e.Raw)
	}
	for k := range e.Data {
		if strings.Contains(strings.ToLower(k), "secret") {
			t.Errorf("event data has a %q member", k)
		}
	}
	if strings.Contains(e.Raw, plain) || strings.Contains(e.Raw, strings.TrimPrefix(plain, "test_")) || strings.Contains(e.Raw, "13912345678") {
		t.Errorf("event data carries the secret or the contact mobile: %s", e.Raw)
	}
	// Approved applications leave the queue.
	if q := wantJSON[apps.Page](t, h.get("/api/v1/admin/applications", admin.Token), http.StatusOK); q.Total != 0 {
		t.Errorf("queue still has %d applications", q.Total)
	}
}

func TestRejectionSendsTheReasonToTheVendor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.pending(vendor, "Acme Parking")
	const reason = "Describe which citizen data you keep and for how long."

	r := h.post(rejectPath(a.ID), admin.Token, map[string]string{"reason": reason})
	got := wantJSON[apps.Application](t, r, http.StatusOK)
	if got.Status != apps.Rejected || got.RejectReason != reason || got.AppCode != "" {
		t.Fatalf("rejected = %+v", got)
	}
	seen, err := apps.GetOwned(context.Background(), h.pool, h.sealer, vendor.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if seen.Status != apps.Rejected || seen.RejectReason != reason || seen.DecidedAt == nil {
		t.Errorf("vendor sees %+v, want rejected with the reason", seen)
	}
	if n := h.count(`SELECT count(*) FROM app_secrets`); n != 0 {
		t.Errorf("%d secrets issued for a rejected application", n)
	}
	d, err := reviews.History(context.Background(), h.pool, "application", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 1 || d[0].Decision != "rejected" || d[0].Reason != reason || d[0].AdminID != admin.ID {
		t.Errorf("decisions = %+v", d)
	}
	audits := h.audit("application.rejected")
	if len(audits) != 1 || audits[0].ActorID != admin.ID || audits[0].SubjectID != a.ID || !strings.Contains(audits[0].Detail, reason) {
		t.Errorf("audit = %+v", audits)
	}
	evs := h.outbox()
	if len(evs) != 1 {
		t.Fatalf("outbox = %+v, want exactly one event", evs)
	}
	e := evs[0]
	if e.Type != "cn.jinlaiban.openplatform.application.rejected.v1" || e.Source != "/functions/approve" || e.Subject != "applications/"+a.ID {
		t.Errorf("event = %+v", e)
	}
	if e.Data["reason"] != reason || e.Data["application_id"] != a.ID || e.Data["decision"] != "rejected" || e.Data["vendor_id"] != vendor.ID {
		t.Errorf("event data = %s", e.Raw)
	}
	if _, ok := e.Data["app_code"]; ok {
		t.Errorf("a rejection event carries an app_code: %s", e.Raw)
	}
}

func TestRejectionRequiresAReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.pending(vendor, "Acme Parking")

	cases := []struct {
		name   string
		body   any
		ct     string
		status int
		code   string
		params []string
	}{
		{"empty object", `{}`, "", 422, "validation-failed", []string{"reason"}},
		{"empty reason", `{"reason":""}`, "", 422, "validation-failed", []string{"reason"}},
		{"blank reason", `{"reason":"   \n "}`, "", 422, "validation-failed", []string{"reason"}},
		{"one character", `{"reason":"x"}`, "", 422, "validation-failed", []string{"reason"}},
		{"over 1000 characters", mustJSON(map[string]string{"reason": strings.Repeat("因", 1001)}), "", 422, "validation-failed", []string{"reason"}},
		{"control character", `{"reason":"bad\u0007bell"}`, "", 422, "validation-failed", []string{"reason"}},
		{"no body at all", nil, "", 415, "unsupported-media-type", nil},
		{"empty JSON body", ``, "", 400, "malformed-body", nil},
		{"reason as number", `{"reason":42}`, "", 400, "malformed-body", []string{"reason"}},
		{"malformed", `{"reason":`, "", 400, "malformed-body", nil},
		{"unknown field", `{"reason":"Fine reason.","decision":"approved"}`, "", 400, "unknown-field", []string{"decision"}},
		{"text/plain", `{"reason":"Fine reason."}`, "text/plain", 415, "unsupported-media-type", nil},
		{"over 64 KiB", mustJSON(map[string]string{"reason": strings.Repeat("x", 70<<10)}), "", 413, "body-too-large", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := h.snapshot()
			var r response
			if tc.body == nil {
				r = h.post(rejectPath(a.ID), admin.Token, nil)
			} else {
				r = h.request(http.MethodPost, rejectPath(a.ID), admin.Token, tc.ct, tc.body)
			}
			p := wantProblem(t, r, tc.status, tc.code)
			if !slices.Equal(p.paramNames(), tc.params) {
				t.Errorf("invalid_params = %v, want %v", p.paramNames(), tc.params)
			}
			if h.snapshot() != snap {
				t.Error("a refused rejection changed the database")
			}
		})
	}
	if got := h.stored(a.ID); got.Status != apps.Pending {
		t.Errorf("status = %q, want still pending", got.Status)
	}
	// A reason of exactly 2 and of 1000 characters is fine.
	h.reject(admin, a.ID, "No")
	b := h.pending(vendor, "Acme Library")
	h.reject(admin, b.ID, strings.Repeat("因", 1000))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestRejectedApplicationIsEditedResubmittedAndApproved(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.pending(vendor, "Acme Parking")
	other := h.pending(vendor, "Acme Library") // submitted after the first one

	h.reject(admin, a.ID, "Name the data you keep.")
	if q := wantJSON[apps.Page](t, h.get("/api/v1/admin/applications", admin.Token), http.StatusOK); !slices.Equal(names(q), []string{"Acme Library"}) {
		t.Fatalf("queue after rejection = %v", names(q))
	}
	fixed := declaration("Acme Parking")
	fixed.Description = "We keep the plate number for 30 days, nothing else."
	if _, err := apps.Update(context.Background(), h.pool, h.sealer, vendor.ID, a.ID, fixed); err != nil {
		t.Fatal(err)
	}
	h.submit(vendor, a.ID)

	// Back in the queue, now behind the one submitted while it was away.
	q := wantJSON[apps.Page](t, h.get("/api/v1/admin/applications", admin.Token), http.StatusOK)
	if !slices.Equal(names(q), []string{"Acme Library", "Acme Parking"}) {
		t.Fatalf("queue after resubmission = %v, want the resubmitted one last", names(q))
	}
	got := h.approve(admin, a.ID)
	if got.Status != apps.Approved || got.Description != fixed.Description || got.RejectReason != "" || !appCodeRE.MatchString(got.AppCode) {
		t.Errorf("approved = %+v", got)
	}
	var types []string
	for _, e := range h.outbox() {
		types = append(types, e.Type)
	}
	if !slices.Equal(types, []string{events.ApplicationRejected, events.ApplicationApproved}) {
		t.Errorf("outbox types = %v", types)
	}
	if n := h.count(`SELECT count(*) FROM review_decisions WHERE subject_id = $1`, a.ID); n != 2 {
		t.Errorf("%d decisions, want 2", n)
	}
	if len(h.secrets(a.ID)) != 1 || len(h.secrets(other.ID)) != 0 {
		t.Error("secrets issued to the wrong applications")
	}
}

func TestDecisionsNeedAPendingApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")

	setups := map[string]func() apps.Application{
		apps.Draft: func() apps.Application { return h.draft(vendor, "A draft") },
		apps.Approved: func() apps.Application {
			a := h.pending(vendor, "An approved one")
			h.approve(admin, a.ID)
			return h.stored(a.ID)
		},
		apps.Rejected: func() apps.Application {
			a := h.pending(vendor, "A rejected one")
			h.reject(admin, a.ID, "Not this time.")
			return h.stored(a.ID)
		},
	}
	for _, status := range []string{apps.Draft, apps.Approved, apps.Rejected} {
		a := setups[status]()
		for _, action := range []struct {
			name string
			path string
			body any
		}{
			{"approve", approvePath(a.ID), nil},
			{"reject", rejectPath(a.ID), map[string]string{"reason": "Changed my mind."}},
		} {
			t.Run(action.name+" a "+status+" application", func(t *testing.T) {
				snap := h.snapshot()
				p := wantProblem(t, h.post(action.path, admin.Token, action.body), http.StatusConflict, "invalid-state")
				if p.AppStatus != status {
					t.Errorf("application_status = %q, want %q", p.AppStatus, status)
				}
				if !strings.Contains(p.Detail, status) {
					t.Errorf("detail %q does not name the status", p.Detail)
				}
				if h.snapshot() != snap {
					t.Error("a refused decision changed the database")
				}
				if got := h.stored(a.ID); got.Status != status || got.AppCode != a.AppCode || got.RejectReason != a.RejectReason {
					t.Errorf("application changed: %+v", got)
				}
			})
		}
	}

	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "not-a-uuid", "1%27%20OR%20%271%27=%271"} {
		for _, action := range []struct {
			name, path string
			body       any
		}{
			{"approve", approvePath(id), nil},
			{"reject", rejectPath(id), map[string]string{"reason": "Unknown."}},
		} {
			t.Run(action.name+" unknown "+id, func(t *testing.T) {
				snap := h.snapshot()
				wantProblem(t, h.post(action.path, admin.Token, action.body), http.StatusNotFound, "not-found")
				if h.snapshot() != snap {
					t.Error("a decision on an unknown application changed the database")
				}
			})
		}
	}

	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, approvePath("00000000-0000-4000-8000-000000000000")},
		{http.MethodPut, "/api/v1/admin/applications/00000000-0000-4000-8000-000000000000"},
		{http.MethodDelete, "/api/v1/admin/applications/00000000-0000-4000-8000-000000000000"},
		{http.MethodPost, "/api/v1/admin/applications"},
	} {
		t.Run("wrong method "+tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			r := h.request(tc.method, tc.path, admin.Token, "", nil)
			wantProblem(t, r, http.StatusMethodNotAllowed, "method-not-allowed")
			if r.Header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

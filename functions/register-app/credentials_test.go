package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/apps"
)

type credentials struct {
	AppCode string        `json:"app_code"`
	Secrets []apps.Secret `json:"secrets"`
}

type rotation struct {
	New     apps.Secret   `json:"new"`
	Secrets []apps.Secret `json:"secrets"`
}

func secretIDs(ss []apps.Secret) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func find(ss []apps.Secret, id string) (apps.Secret, bool) {
	for _, s := range ss {
		if s.ID == id {
			return s, true
		}
	}
	return apps.Secret{}, false
}

func TestCredentialsAreIssuedOnlyOnApproval(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("waiting-co")
	admin := h.admin("reviewer")
	a := h.declare(vendor, declaration())
	credsPath := "/api/v1/apps/" + a.ID + "/credentials"
	rotatePath := "/api/v1/apps/" + a.ID + "/secrets"
	rotate := map[string]any{"environment": "test", "overlap_hours": 24}

	check := func(status string) {
		t.Helper()
		snap := h.snapshot()
		r := h.get(credsPath, vendor.Token)
		if p := wantProblem(t, r, http.StatusConflict, "invalid-state"); !strings.Contains(p.Detail, status) {
			t.Errorf("the conflict should name the status %q: %s", status, r)
		}
		wantProblem(t, h.post(rotatePath, vendor.Token, rotate), http.StatusConflict, "invalid-state")
		if h.snapshot() != snap {
			t.Errorf("a refused credentials request on a %s application changed the database", status)
		}
	}
	check(apps.Draft)
	h.submit(vendor, a.ID)
	check(apps.Pending)
	h.reject(a.ID, admin, "Not yet.")
	check(apps.Rejected)
	if n := h.count(`SELECT count(*) FROM app_secrets`); n != 0 {
		t.Errorf("%d secrets exist before approval", n)
	}
}

func TestApprovedVendorSeesCredentialsAndEachViewIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("approved-co")
	admin := h.admin("reviewer")
	a, issued := h.approved(vendor, admin)

	if !appCodeRE.MatchString(a.AppCode) {
		t.Fatalf("app_code = %q, want 30 hex digits", a.AppCode)
	}
	if !testSecretRE.MatchString(issued) {
		t.Fatalf("issued secret = %q, want test_ and 32 hex digits", issued)
	}
	for view := 1; view <= 2; view++ {
		r := h.get("/api/v1/apps/"+a.ID+"/credentials", vendor.Token)
		c := wantJSON[credentials](t, r, http.StatusOK)
		if c.AppCode != a.AppCode {
			t.Errorf("app_code = %q, want %q", c.AppCode, a.AppCode)
		}
		if len(c.Secrets) != 1 {
			t.Fatalf("secrets = %+v, want the one test secret", c.Secrets)
		}
		s := c.Secrets[0]
		if s.Environment != apps.EnvTest || s.Secret != issued || !testSecretRE.MatchString(s.Secret) || s.ExpiresAt != nil || !uuidRE.MatchString(s.ID) {
			t.Errorf("secret = %+v, want the test secret %q without expiry", s, issued)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store on a response carrying a secret", cc)
		}

		var rows []struct {
			ActorID, ActorRole, Action, SubjectType, SubjectID, RequestID string
		}
		dbRows, err := h.pool.Query(context.Background(), `SELECT actor_id::text, actor_role, action, subject_type, subject_id, coalesce(request_id, '')
			FROM audit_log WHERE action = 'credentials.view' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for dbRows.Next() {
			var x struct{ ActorID, ActorRole, Action, SubjectType, SubjectID, RequestID string }
			if err := dbRows.Scan(&x.ActorID, &x.ActorRole, &x.Action, &x.SubjectType, &x.SubjectID, &x.RequestID); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, x)
		}
		if err := dbRows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(rows) != view {
			t.Fatalf("after %d views, %d credentials.view audit rows", view, len(rows))
		}
		last := rows[len(rows)-1]
		if last.ActorID != vendor.ID || last.ActorRole != "vendor" || last.SubjectType != "application" || last.SubjectID != a.ID {
			t.Errorf("audit row = %+v, want the vendor viewing application %s", last, a.ID)
		}
		if last.RequestID != r.Header.Get("X-Request-Id") {
			t.Errorf("audit request_id = %q, want the response's X-Request-Id %q", last.RequestID, r.Header.Get("X-Request-Id"))
		}
	}
	var detail string
	if err := h.pool.QueryRow(context.Background(), `SELECT string_agg(detail::text, ',') FROM audit_log`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(detail, issued) {
		t.Error("the audit log holds the secret")
	}
}

func TestSecretRotationKeepsTheOldSecretForTheOverlap(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("rotating-co")
	admin := h.admin("reviewer")
	a, original := h.approved(vendor, admin)
	var originalID string
	if err := h.pool.QueryRow(context.Background(), `SELECT id FROM app_secrets WHERE application_id = $1`, a.ID).Scan(&originalID); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/apps/" + a.ID + "/secrets"

	// 24 hours of overlap: both work, the old one until then.
	before := time.Now()
	r := h.post(path, vendor.Token, map[string]any{"environment": "test", "overlap_hours": 24})
	rot := wantJSON[rotation](t, r, http.StatusCreated)
	if !testSecretRE.MatchString(rot.New.Secret) || rot.New.Secret == original || rot.New.Environment != apps.EnvTest || rot.New.ExpiresAt != nil {
		t.Fatalf("new secret = %+v, want a fresh test secret without expiry", rot.New)
	}
	if !slices.Equal(secretIDs(rot.Secrets), []string{rot.New.ID, originalID}) {
		t.Fatalf("secrets = %v, want the new then the old one", secretIDs(rot.Secrets))
	}
	old, _ := find(rot.Secrets, originalID)
	if old.Secret != original {
		t.Errorf("old secret shown as %q, want %q", old.Secret, original)
	}
	near(t, "old secret's expires_at", old.ExpiresAt, before.Add(24*time.Hour), time.Minute)

	c := wantJSON[credentials](t, h.get("/api/v1/apps/"+a.ID+"/credentials", vendor.Token), http.StatusOK)
	if !slices.Equal(secretIDs(c.Secrets), []string{rot.New.ID, originalID}) {
		t.Errorf("credentials list %v after rotation, want both", secretIDs(c.Secrets))
	}
	if c.AppCode != a.AppCode {
		t.Errorf("rotation changed the app_code to %q", c.AppCode)
	}
	var detail string
	if err := h.pool.QueryRow(context.Background(), `SELECT detail::text FROM audit_log WHERE action = 'credentials.rotate' AND subject_id = $1`, a.ID).Scan(&detail); err != nil {
		t.Fatalf("no credentials.rotate audit row: %v", err)
	}
	if strings.Contains(detail, rot.New.Secret) || strings.Contains(detail, original) || !strings.Contains(detail, rot.New.ID) {
		t.Errorf("rotate audit detail = %s, want the new secret's id and no secret", detail)
	}

	// Overlap left out: 24 hours. Earlier expiries are kept, not extended.
	second := wantJSON[rotation](t, h.post(path, vendor.Token, map[string]any{"environment": "test"}), http.StatusCreated)
	if len(second.Secrets) != 3 {
		t.Fatalf("secrets = %+v, want three during overlapping rotations", second.Secrets)
	}
	prev, _ := find(second.Secrets, rot.New.ID)
	near(t, "default overlap expiry", prev.ExpiresAt, time.Now().Add(24*time.Hour), time.Minute)
	stillOld, _ := find(second.Secrets, originalID)
	if !stillOld.ExpiresAt.Equal(*old.ExpiresAt) {
		t.Errorf("the oldest secret's expiry moved from %s to %s", old.ExpiresAt, stillOld.ExpiresAt)
	}

	// No overlap: every older secret stops working at once.
	now := wantJSON[rotation](t, h.post(path, vendor.Token, map[string]any{"environment": "test", "overlap_hours": 0}), http.StatusCreated)
	if !slices.Equal(secretIDs(now.Secrets), []string{now.New.ID}) {
		t.Fatalf("secrets after a rotation without overlap = %+v, want only the new one", now.Secrets)
	}
	c = wantJSON[credentials](t, h.get("/api/v1/apps/"+a.ID+"/credentials", vendor.Token), http.StatusOK)
	if !slices.Equal(secretIDs(c.Secrets), []string{now.New.ID}) || c.Secrets[0].Secret != now.New.Secret {
		t.Errorf("credentials after a rotation without overlap = %+v, want only %s", c.Secrets, now.New.ID)
	}
	if n := h.count(`SELECT count(*) FROM app_secrets WHERE application_id = $1`, a.ID); n != 4 {
		t.Errorf("%d secret rows, want 4 (expired ones are kept, not deleted)", n)
	}
}

func TestProductionSecretIsRotatedOnlyOnceIssued(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("prod-co")
	admin := h.admin("reviewer")
	a, _ := h.approved(vendor, admin)
	path := "/api/v1/apps/" + a.ID + "/secrets"

	snap := h.snapshot()
	wantProblem(t, h.post(path, vendor.Token, map[string]any{"environment": "production", "overlap_hours": 24}), http.StatusConflict, "invalid-state")
	if h.snapshot() != snap {
		t.Error("a refused production rotation changed the database")
	}

	// Once the first service goes live a production secret exists, and it rotates too.
	prod, err := apps.IssueSecret(context.Background(), h.pool, h.sealer, a.ID, apps.EnvProduction)
	if err != nil {
		t.Fatal(err)
	}
	rot := wantJSON[rotation](t, h.post(path, vendor.Token, map[string]any{"environment": "production", "overlap_hours": 1}), http.StatusCreated)
	if rot.New.Environment != apps.EnvProduction || !prodSecretRE.MatchString(rot.New.Secret) {
		t.Errorf("new production secret = %+v, want 32 hex digits without the test prefix", rot.New)
	}
	old, ok := find(rot.Secrets, prod.ID)
	if !ok {
		t.Fatalf("the old production secret is gone during the overlap: %+v", rot.Secrets)
	}
	near(t, "old production secret's expiry", old.ExpiresAt, time.Now().Add(time.Hour), time.Minute)
	for _, s := range rot.Secrets {
		if s.Environment == apps.EnvTest && s.ExpiresAt != nil {
			t.Errorf("rotating production touched the test secret: %+v", s)
		}
	}
}

func TestSecretRotationRefusesBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("careful-co")
	admin := h.admin("reviewer")
	a, _ := h.approved(vendor, admin)
	path := "/api/v1/apps/" + a.ID + "/secrets"

	cases := []struct {
		name   string
		body   any
		status int
		code   string
		params []string
	}{
		{"negative overlap", `{"environment":"test","overlap_hours":-1}`, 422, "validation-failed", []string{"overlap_hours"}},
		{"overlap over 30 days", `{"environment":"test","overlap_hours":721}`, 422, "validation-failed", []string{"overlap_hours"}},
		{"fractional overlap", `{"environment":"test","overlap_hours":1.5}`, 400, "malformed-body", []string{"overlap_hours"}},
		{"overlap as text", `{"environment":"test","overlap_hours":"24"}`, 400, "malformed-body", []string{"overlap_hours"}},
		{"unknown environment", `{"environment":"staging"}`, 422, "validation-failed", []string{"environment"}},
		{"no environment", `{"overlap_hours":24}`, 422, "validation-failed", []string{"environment"}},
		{"everything wrong", `{"environment":"","overlap_hours":100000}`, 422, "validation-failed", []string{"environment", "overlap_hours"}},
		{"unknown field", `{"environment":"test","secret":"mine"}`, 400, "unknown-field", []string{"secret"}},
		{"no body", "", 400, "malformed-body", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := h.snapshot()
			p := wantProblem(t, h.post(path, vendor.Token, tc.body), tc.status, tc.code)
			if got := p.paramNames(); !slices.Equal(got, tc.params) {
				t.Errorf("invalid_params = %v, want %v", got, tc.params)
			}
			if h.snapshot() != snap {
				t.Error("a refused rotation changed the database")
			}
		})
	}
	c := wantJSON[credentials](t, h.get("/api/v1/apps/"+a.ID+"/credentials", vendor.Token), http.StatusOK)
	if len(c.Secrets) != 1 || c.Secrets[0].ExpiresAt != nil {
		b, _ := json.Marshal(c)
		t.Errorf("credentials after refused rotations: %s", b)
	}
}

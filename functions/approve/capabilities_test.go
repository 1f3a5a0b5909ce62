package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/reviews"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// ---- helpers ------------------------------------------------------------------------------

func grantPath(id string, rest ...string) string {
	return "/api/v1/admin/capabilities/" + id + strings.Join(rest, "")
}

// approvedApp declares, submits and approves an application of vendor.
func (h *harness) approvedApp(admin, vendor testenv.Person, name string) apps.Application {
	h.t.Helper()
	return h.approve(admin, h.pending(vendor, name).ID)
}

// formPDF is the SMS application form the tests' vendors upload.
var formPDF = []byte("%PDF-1.4\n% 晋城市短信平台使用申请单\n" + strings.Repeat("%", 200))

// request applies for a capability the way register-app does; SMS first gets its form
// uploaded, with two templates.
func (h *harness) requestCapability(appID, capability string) capabilities.Grant {
	h.t.Helper()
	ctx := context.Background()
	var g capabilities.Grant
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		a := capabilities.Application{Capability: capability}
		if capability == capabilities.SMS {
			if err := h.attachForm(ctx, tx, appID); err != nil {
				return err
			}
			a.SignName = "晋城公积金"
			a.Templates = []capabilities.Template{
				{Code: "SMS_153055065", Name: "验证码", Content: "您的验证码为${code}，5分钟内有效。"},
				{Code: "SMS_200001", Name: "办结通知", Content: "您办理的${item}已于${date}办结。"},
			}
		}
		if f := a.Valid(); len(f) > 0 {
			return fn.Invalid(f)
		}
		var err error
		g, err = capabilities.Apply(ctx, tx, appID, a)
		return err
	})
	if err != nil {
		h.t.Fatalf("apply for %s: %v", capability, err)
	}
	return g
}

// attachForm uploads and attaches the SMS form (as the vendor's portal would).
func (h *harness) attachForm(ctx context.Context, tx pgx.Tx, appID string) error {
	key, err := capabilities.StartFormUpload(ctx, tx, appID, capabilities.FormUpload{ContentType: "application/pdf", Size: int64(len(formPDF))}, time.Minute)
	if err != nil {
		return err
	}
	if err := h.store.Put(ctx, key, "application/pdf", formPDF); err != nil {
		return err
	}
	_, err = capabilities.CompleteFormUpload(ctx, tx, h.store, appID)
	return err
}

// grantView is GET /api/v1/admin/capabilities/{id}.
type grantView struct {
	capabilities.Grant
	Form *struct {
		URL       string    `json:"url"`
		Filename  string    `json:"filename"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"form"`
	Decisions []reviews.Decision `json:"decisions"`
}

type grantPage struct {
	Items    []capabilities.Grant `json:"items"`
	Total    int                  `json:"total"`
	Page     int                  `json:"page"`
	PageSize int                  `json:"page_size"`
}

// decideGrant posts a decision and expects it made.
func (h *harness) decideGrant(admin testenv.Person, id, decision, reason string) capabilities.Grant {
	h.t.Helper()
	var body any
	if decision != "grant" {
		body = map[string]string{"reason": reason}
	}
	return wantJSON[capabilities.Grant](h.t, h.post(grantPath(id, "/"+decision), admin.Token, body), http.StatusOK)
}

// capabilityEvents are the outbox's events of capability decisions.
func (h *harness) capabilityEvents() []outboxRow {
	h.t.Helper()
	var out []outboxRow
	for _, e := range h.outbox() {
		if strings.HasPrefix(e.Type, "cn.jinlaiban.openplatform.capability.") {
			out = append(out, e)
		}
	}
	return out
}

// grantsSnapshot is every row a capability decision may touch.
func (h *harness) grantsSnapshot() string {
	h.t.Helper()
	var b strings.Builder
	for _, table := range []string{"capability_grants", "sms_templates"} {
		rows, err := h.pool.Query(context.Background(), `SELECT row_to_json(t)::text FROM `+table+` t ORDER BY 1`)
		if err != nil {
			h.t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			h.t.Fatal(err)
		}
		b.WriteString(table + ":\n" + strings.Join(lines, "\n") + "\n")
	}
	return b.String() + h.snapshot()
}

func grantIDs(gs []capabilities.Grant) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.ID)
	}
	return out
}

// ---- tests --------------------------------------------------------------------------------

// The review queue lists pending requests, oldest request first, with the SMS templates;
// other statuses on request.
func TestCapabilityQueueOldestRequestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	acme, bolt := h.vendor("acme"), h.vendor("bolt")
	a := h.approvedApp(admin, acme, "Acme Parking")
	b := h.approvedApp(admin, bolt, "Bolt Library")

	msg := h.requestCapability(a.ID, "message")
	sms := h.requestCapability(b.ID, "sms")
	todo := h.requestCapability(b.ID, "todo")
	granted := h.requestCapability(a.ID, "todo")
	h.decideGrant(admin, granted.ID, "grant", "")
	// Requested in this order: the SMS request first, then the to-dos, then messages.
	for i, id := range []string{sms.ID, todo.ID, msg.ID} {
		if _, err := h.pool.Exec(context.Background(), `UPDATE capability_grants SET requested_at = now() - make_interval(mins => 10 - $2) WHERE id = $1`, id, i); err != nil {
			t.Fatal(err)
		}
	}
	// A draft: the form uploaded, not applied for.
	c := h.approvedApp(admin, acme, "Acme Draft")
	if err := db.Tx(context.Background(), h.pool, func(tx pgx.Tx) error { return h.attachForm(context.Background(), tx, c.ID) }); err != nil {
		t.Fatal(err)
	}

	q := wantJSON[grantPage](t, h.get("/api/v1/admin/capabilities", admin.Token), http.StatusOK)
	if got, want := grantIDs(q.Items), []string{sms.ID, todo.ID, msg.ID}; !slices.Equal(got, want) || q.Total != 3 || q.Page != 1 || q.PageSize != 20 {
		t.Fatalf("queue %v (total %d), want %v: pending only, oldest request first", got, q.Total, want)
	}
	first := q.Items[0]
	if first.Capability != "sms" || first.ApplicationID != b.ID || first.AppName != "Bolt Library" || first.VendorID != bolt.ID ||
		first.SignName != "晋城公积金" || !first.FormAttached || len(first.Templates) != 2 || first.Templates[1].Code != "SMS_200001" ||
		!slices.Equal(first.Templates[1].Params, []string{"item", "date"}) || first.RequestedAt == nil {
		t.Errorf("sms request %+v, want Bolt's with the sign name, form and templates", first)
	}
	if q.Items[2].Templates == nil || len(q.Items[2].Templates) != 0 || q.Items[2].SignName != "" || q.Items[2].FormAttached {
		t.Errorf("message request %+v, want no sign name, form or templates ([])", q.Items[2])
	}

	page := wantJSON[grantPage](t, h.get("/api/v1/admin/capabilities?page=2&page_size=2", admin.Token), http.StatusOK)
	if got := grantIDs(page.Items); !slices.Equal(got, []string{msg.ID}) || page.Total != 3 {
		t.Fatalf("page 2 of 2: %v total %d, want the newest request", got, page.Total)
	}
	for status, want := range map[string][]string{"granted": {granted.ID}, "draft": {h.grantOf(c.ID, "sms")}, "rejected": {}, "revoked": {}} {
		l := wantJSON[grantPage](t, h.get("/api/v1/admin/capabilities?status="+status, admin.Token), http.StatusOK)
		if got := grantIDs(l.Items); !slices.Equal(got, want) || l.Total != len(want) {
			t.Errorf("status %s: %v, want %v", status, got, want)
		}
	}
	for _, q := range []string{"?status=bogus", "?status=PENDING", "?page=0", "?page_size=101"} {
		r := h.get("/api/v1/admin/capabilities"+q, admin.Token)
		wantProblem(t, r, http.StatusUnprocessableEntity, "validation-failed")
	}
}

// grantOf is the id of an application's grant of a capability.
func (h *harness) grantOf(appID, capability string) string {
	h.t.Helper()
	var id string
	if err := h.pool.QueryRow(context.Background(), `SELECT id FROM capability_grants WHERE application_id = $1 AND capability = $2`,
		appID, capability).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// Granting records the decision and its audit entry, and writes one event for the vendor;
// the grant leaves the queue and lets the application's calls through.
func TestGrantRecordsDecisionAuditAndEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.approvedApp(admin, vendor, "Acme Parking")
	req := h.requestCapability(a.ID, "sms")
	ctx := context.Background()
	if err := capabilities.Admit(ctx, h.pool, a.ID, "sms", 600); err == nil {
		t.Fatal("a pending request admitted a call")
	}

	before := time.Now()
	r := h.post(grantPath(req.ID, "/grant"), admin.Token, nil)
	g := wantJSON[capabilities.Grant](t, r, http.StatusOK)
	if g.ID != req.ID || g.Status != "granted" || g.Reason != "" || len(g.Templates) != 2 || g.SignName != "晋城公积金" {
		t.Fatalf("granted %+v", g)
	}
	near(t, "decided_at", g.DecidedAt, before, time.Minute)

	d := wantJSON[grantView](t, h.get(grantPath(req.ID), admin.Token), http.StatusOK)
	if d.Status != "granted" || len(d.Decisions) != 1 || d.Decisions[0].Decision != "grant" || d.Decisions[0].AdminID != admin.ID ||
		d.Decisions[0].AdminLogin != "reviewer" || d.Decisions[0].Reason != "" {
		t.Errorf("detail %+v, want the grant decision by the reviewer", d)
	}
	audits := h.audit("capability.grant")
	if len(audits) != 1 || audits[0].ActorID != admin.ID || audits[0].ActorRole != "admin" || audits[0].SubjectType != "capability" ||
		audits[0].SubjectID != req.ID || audits[0].RequestID != r.Header.Get("X-Request-Id") || !strings.Contains(audits[0].Detail, `"capability": "sms"`) {
		t.Errorf("audit %+v, want one capability.grant by the admin for this request", audits)
	}
	evs := h.capabilityEvents()
	if len(evs) != 1 {
		t.Fatalf("capability events %+v, want one", evs)
	}
	e := evs[0]
	if e.Type != "cn.jinlaiban.openplatform.capability.granted.v1" || e.Source != "/functions/approve" || e.Subject != "capabilities/"+req.ID {
		t.Errorf("event %+v", e)
	}
	for k, v := range map[string]any{"grant_id": req.ID, "capability": "sms", "application_id": a.ID, "name": "Acme Parking",
		"vendor_id": vendor.ID, "decision": "grant", "status": "granted"} {
		if e.Data[k] != v {
			t.Errorf("event data %s = %v, want %v", k, e.Data[k], v)
		}
	}
	if at, _ := e.Data["decided_at"].(string); at == "" {
		t.Errorf("event without decided_at: %s", e.Raw)
	}
	if _, ok := e.Data["reason"]; ok {
		t.Errorf("a grant's event carries a reason: %s", e.Raw)
	}
	if q := wantJSON[grantPage](t, h.get("/api/v1/admin/capabilities", admin.Token), http.StatusOK); q.Total != 0 {
		t.Errorf("the queue still lists %d requests", q.Total)
	}
	if err := capabilities.Admit(ctx, h.pool, a.ID, "sms", 600); err != nil {
		t.Errorf("the granted capability refused a call: %v", err)
	}
}

// Rejecting needs a reason, tells the vendor why, and lets them apply again.
func TestRejectNeedsAReasonAndTheVendorMayApplyAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.approvedApp(admin, vendor, "Acme Parking")
	req := h.requestCapability(a.ID, "todo")
	path := grantPath(req.ID, "/reject")

	snap := h.grantsSnapshot()
	for name, body := range map[string]any{"no reason": map[string]any{}, "blank reason": map[string]string{"reason": "  "},
		"one character": map[string]string{"reason": "不"}, "1001 characters": map[string]string{"reason": strings.Repeat("因", 1001)}} {
		p := wantProblem(t, h.post(path, admin.Token, body), http.StatusUnprocessableEntity, "validation-failed")
		if !slices.Equal(p.paramNames(), []string{"reason"}) {
			t.Errorf("%s: invalid_params %v, want reason", name, p.paramNames())
		}
	}
	wantProblem(t, h.post(path, admin.Token, nil), http.StatusUnsupportedMediaType, "unsupported-media-type")
	wantProblem(t, h.post(path, admin.Token, `{"reason":`), http.StatusBadRequest, "malformed-body")
	wantProblem(t, h.post(path, admin.Token, map[string]string{"reason": "理由充分。", "status": "granted"}), http.StatusBadRequest, "unknown-field")
	if h.grantsSnapshot() != snap {
		t.Fatal("a refused rejection changed the database")
	}

	reason := "请说明待办事项的来源系统与办理时限。"
	g := h.decideGrant(admin, req.ID, "reject", reason)
	if g.Status != "rejected" || g.Reason != reason || g.DecidedAt == nil {
		t.Fatalf("rejected %+v, want the reason", g)
	}
	evs := h.capabilityEvents()
	if len(evs) != 1 || evs[0].Type != "cn.jinlaiban.openplatform.capability.rejected.v1" || evs[0].Data["reason"] != reason ||
		evs[0].Data["decision"] != "reject" || evs[0].Data["status"] != "rejected" || evs[0].Data["capability"] != "todo" {
		t.Fatalf("events %+v, want one rejection with the reason", evs)
	}
	if audits := h.audit("capability.reject"); len(audits) != 1 || !strings.Contains(audits[0].Detail, reason) {
		t.Errorf("audit %+v, want the rejection with its reason", audits)
	}

	// The vendor applies again: pending anew, the old reason gone, the history kept.
	again := h.requestCapability(a.ID, "todo")
	if again.ID != req.ID || again.Status != "pending" || again.Reason != "" || again.DecidedAt != nil {
		t.Fatalf("applied again %+v", again)
	}
	q := wantJSON[grantPage](t, h.get("/api/v1/admin/capabilities", admin.Token), http.StatusOK)
	if !slices.Equal(grantIDs(q.Items), []string{req.ID}) {
		t.Fatalf("queue %v, want the request back", grantIDs(q.Items))
	}
	h.decideGrant(admin, req.ID, "grant", "")
	d := wantJSON[grantView](t, h.get(grantPath(req.ID), admin.Token), http.StatusOK)
	if len(d.Decisions) != 2 || d.Decisions[0].Decision != "reject" || d.Decisions[0].Reason != reason || d.Decisions[1].Decision != "grant" {
		t.Fatalf("decisions %+v, want the rejection then the grant", d.Decisions)
	}
}

// Revoking a grant needs a reason and stops the application's calls at once.
func TestRevokeStopsCallsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.approvedApp(admin, vendor, "Acme Parking")
	req := h.requestCapability(a.ID, "message")
	h.decideGrant(admin, req.ID, "grant", "")
	ctx := context.Background()
	if err := capabilities.Admit(ctx, h.pool, a.ID, "message", 600); err != nil {
		t.Fatal(err)
	}

	snap := h.grantsSnapshot()
	wantProblem(t, h.post(grantPath(req.ID, "/revoke"), admin.Token, map[string]any{}), http.StatusUnprocessableEntity, "validation-failed")
	if h.grantsSnapshot() != snap {
		t.Fatal("a revocation without a reason changed the database")
	}
	reason := "向市民发送营销信息，违反平台规范。"
	g := h.decideGrant(admin, req.ID, "revoke", reason)
	if g.Status != "revoked" || g.Reason != reason {
		t.Fatalf("revoked %+v", g)
	}
	var p *fn.Problem
	if err := capabilities.Admit(ctx, h.pool, a.ID, "message", 600); !errors.As(err, &p) || p.Code != "capability-not-granted" {
		t.Fatalf("a call after the revocation: %v, want capability-not-granted", err)
	}
	evs := h.capabilityEvents()
	if len(evs) != 2 || evs[1].Type != "cn.jinlaiban.openplatform.capability.revoked.v1" || evs[1].Data["reason"] != reason ||
		evs[1].Data["decision"] != "revoke" || evs[1].Data["status"] != "revoked" || evs[1].Subject != "capabilities/"+req.ID {
		t.Fatalf("events %+v, want the grant then the revocation", evs)
	}
	if audits := h.audit("capability.revoke"); len(audits) != 1 || audits[0].SubjectID != req.ID {
		t.Errorf("audit %+v", audits)
	}
	// The vendor may apply again after a revocation.
	if again := h.requestCapability(a.ID, "message"); again.Status != "pending" {
		t.Fatalf("applied again %+v", again)
	}
}

// A decision that does not fit the grant's status is refused, names the status, and
// changes nothing; unknown grants are not found.
func TestWrongTransitionsAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	ids := map[string]string{}
	for _, status := range []string{"pending", "granted", "rejected", "revoked", "draft"} {
		a := h.approvedApp(admin, vendor, "App "+status)
		if status == "draft" {
			if err := db.Tx(context.Background(), h.pool, func(tx pgx.Tx) error { return h.attachForm(context.Background(), tx, a.ID) }); err != nil {
				t.Fatal(err)
			}
			ids[status] = h.grantOf(a.ID, "sms")
			continue
		}
		g := h.requestCapability(a.ID, "todo")
		switch status {
		case "granted":
			h.decideGrant(admin, g.ID, "grant", "")
		case "rejected":
			h.decideGrant(admin, g.ID, "reject", "不符合要求。")
		case "revoked":
			h.decideGrant(admin, g.ID, "grant", "")
			h.decideGrant(admin, g.ID, "revoke", "已停止合作。")
		}
		ids[status] = g.ID
	}
	reason := map[string]string{"reason": "理由足够长。"}
	for _, tc := range []struct{ status, decision string }{
		{"pending", "revoke"},
		{"granted", "grant"}, {"granted", "reject"},
		{"rejected", "grant"}, {"rejected", "reject"}, {"rejected", "revoke"},
		{"revoked", "grant"}, {"revoked", "reject"}, {"revoked", "revoke"},
		{"draft", "grant"}, {"draft", "reject"}, {"draft", "revoke"},
	} {
		t.Run(tc.decision+" "+tc.status, func(t *testing.T) {
			snap := h.grantsSnapshot()
			var body any
			if tc.decision != "grant" {
				body = reason
			}
			r := h.post(grantPath(ids[tc.status], "/"+tc.decision), admin.Token, body)
			p := wantProblem(t, r, http.StatusConflict, "invalid-state")
			if !strings.Contains(p.Detail, tc.status) || !strings.Contains(string(r.Body), `"grant_status":"`+tc.status+`"`) {
				t.Errorf("conflict %s does not name the status %s", r, tc.status)
			}
			if h.grantsSnapshot() != snap {
				t.Error("a refused decision changed the database")
			}
		})
	}
	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "not-a-uuid", strings.ToUpper(ids["pending"]) + "x"} {
		wantProblem(t, h.get(grantPath(id), admin.Token), http.StatusNotFound, "not-found")
		wantProblem(t, h.post(grantPath(id, "/grant"), admin.Token, nil), http.StatusNotFound, "not-found")
		wantProblem(t, h.post(grantPath(id, "/reject"), admin.Token, reason), http.StatusNotFound, "not-found")
	}
	wantProblem(t, h.post(grantPath(ids["pending"], "/approve"), admin.Token, nil), http.StatusNotFound, "not-found")
	wantProblem(t, h.get(grantPath(ids["pending"], "/grant"), admin.Token), http.StatusMethodNotAllowed, "method-not-allowed")
	// An id in capitals is the same grant.
	if g := h.decideGrant(admin, strings.ToUpper(ids["pending"]), "grant", ""); g.ID != ids["pending"] {
		t.Fatalf("granted %+v", g)
	}
}

// The detail of an SMS request links its form for a short while; the link fetches it.
func TestGrantDetailLinksTheForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	a := h.approvedApp(admin, h.vendor("acme"), "Acme Parking")
	sms := h.requestCapability(a.ID, "sms")
	msg := h.requestCapability(a.ID, "message")

	r := h.get(grantPath(sms.ID), admin.Token)
	d := wantJSON[grantView](t, r, http.StatusOK)
	if d.ID != sms.ID || d.Status != "pending" || !d.FormAttached || d.Form == nil || d.Decisions == nil || len(d.Decisions) != 0 {
		t.Fatalf("detail %s, want the pending request with a form link and no decisions ([])", r)
	}
	if d.Form.Filename == "" || d.Form.ExpiresAt.After(time.Now().Add(2*time.Minute)) || d.Form.ExpiresAt.Before(time.Now()) {
		t.Errorf("form link %+v, want a file name and an expiry within the minute", d.Form)
	}
	resp, err := http.Get(d.Form.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(got) != string(formPDF) {
		t.Fatalf("fetching the form: %d, %d bytes, want the uploaded form", resp.StatusCode, len(got))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q, want an attachment", cd)
	}
	// The key itself is not shown.
	if strings.Contains(string(r.Body), `"form_key"`) {
		t.Errorf("detail shows the object key: %s", r)
	}

	r = h.get(grantPath(msg.ID), admin.Token)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["form"]; ok {
		t.Errorf("a message request has a form link: %s", r)
	}
}

// Vendors and anonymous callers cannot use the capability review desk.
func TestCapabilityRoutesRefuseVendorsAndAnonymousCallers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	a := h.approvedApp(admin, vendor, "Acme Parking")
	req := h.requestCapability(a.ID, "todo")
	reason := map[string]string{"reason": "我自己批准自己。"}
	routes := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/admin/capabilities", nil},
		{http.MethodGet, grantPath(req.ID), nil},
		{http.MethodPost, grantPath(req.ID, "/grant"), nil},
		{http.MethodPost, grantPath(req.ID, "/reject"), reason},
		{http.MethodPost, grantPath(req.ID, "/revoke"), reason},
	}
	for _, c := range []struct {
		name, token, code string
		status            int
	}{
		{"vendor", vendor.Token, "forbidden", http.StatusForbidden},
		{"no session", "", "unauthenticated", http.StatusUnauthorized},
	} {
		for _, rt := range routes {
			t.Run(c.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				snap := h.grantsSnapshot()
				wantProblem(t, h.request(rt.method, rt.path, c.token, "", rt.body), c.status, c.code)
				if h.grantsSnapshot() != snap {
					t.Error("a refused request changed the database")
				}
			})
		}
	}
}

// Two administrators deciding one request at once: one decision is made, the other is told
// the grant's new status; one review record and one event.
func TestConcurrentDecisionsOnOneRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first, second := h.admin("reviewer-1"), h.admin("reviewer-2")
	vendor := h.vendor("acme")
	for i := range 4 {
		a := h.approvedApp(first, vendor, "App "+string(rune('A'+i)))
		req := h.requestCapability(a.ID, "todo")
		var wg sync.WaitGroup
		var rg, rr response
		var eg, er error
		wg.Add(2)
		go func() {
			defer wg.Done()
			rg, eg = h.send(http.MethodPost, grantPath(req.ID, "/grant"), first.Token, "", nil)
		}()
		go func() {
			defer wg.Done()
			rr, er = h.send(http.MethodPost, grantPath(req.ID, "/reject"), second.Token, "", map[string]string{"reason": "同时驳回。"})
		}()
		wg.Wait()
		if eg != nil || er != nil {
			t.Fatal(eg, er)
		}
		final := wantJSON[grantView](t, h.get(grantPath(req.ID), first.Token), http.StatusOK)
		switch {
		case final.Status == "granted" && rg.Status == 200 && rr.Status == 409:
		case final.Status == "rejected" && rr.Status == 200 && rg.Status == 409:
		default:
			t.Fatalf("grant %d, reject %d, final %s: want one decision and a 409", rg.Status, rr.Status, final.Status)
		}
		if len(final.Decisions) != 1 {
			t.Fatalf("%d decisions recorded, want 1", len(final.Decisions))
		}
	}
	if n := len(h.capabilityEvents()); n != 4 {
		t.Fatalf("%d capability events, want one per request", n)
	}
}

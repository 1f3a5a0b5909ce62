package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// ---- helpers ------------------------------------------------------------------------------

func capsPath(appID string, rest ...string) string {
	return "/api/v1/apps/" + appID + "/capabilities" + strings.Join(rest, "")
}

// capabilitiesOf reads the portal's capability list of an application.
func (h *harness) capabilitiesOf(vendor testenv.Person, appID string) map[string]capabilityView {
	h.t.Helper()
	list := wantJSON[struct {
		Items []capabilityView `json:"items"`
	}](h.t, h.get(capsPath(appID), vendor.Token), http.StatusOK)
	out := map[string]capabilityView{}
	var order []string
	for _, v := range list.Items {
		out[v.Capability] = v
		order = append(order, v.Capability)
	}
	if !slices.Equal(order, []string{"sms", "message", "todo"}) {
		h.t.Fatalf("capabilities listed %v, want sms, message, todo", order)
	}
	return out
}

// apply asks for a capability and expects it pending.
func (h *harness) apply(vendor testenv.Person, appID string, body any) capabilities.Grant {
	h.t.Helper()
	g := wantJSON[capabilities.Grant](h.t, h.post(capsPath(appID), vendor.Token, body), http.StatusOK)
	if g.Status != capabilities.Pending || g.ApplicationID != appID || g.RequestedAt == nil || g.DecidedAt != nil {
		h.t.Fatalf("applied: %+v, want pending with requested_at", g)
	}
	return g
}

// smsApplication is a complete SMS application.
func smsApplication() map[string]any {
	return map[string]any{
		"capability":    "sms",
		"sms_sign_name": "晋城公积金",
		"templates": []map[string]any{
			{"code": "SMS_153055065", "name": "验证码", "content": "您的验证码为${code}，${minutes}分钟内有效，请勿泄露。"},
			{"code": "SMS_123456", "name": "办结通知", "content": "您办理的${item}已办结；如有疑问请致电12345。编号${item}。"},
		},
	}
}

// formTicket is the answer to starting an upload of the SMS form.
type formTicket struct {
	URL         string            `json:"url"`
	Method      string            `json:"method"`
	Headers     map[string]string `json:"headers"`
	ExpiresAt   time.Time         `json:"expires_at"`
	CompleteURL string            `json:"complete_url"`
}

// pdf is a small PDF of n bytes.
func pdf(n int) []byte {
	b := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("%"), n)...)
	return b[:n]
}

// startForm starts an upload of the SMS form and checks the ticket.
func (h *harness) startForm(vendor testenv.Person, appID, contentType string, size int) formTicket {
	h.t.Helper()
	tk := wantJSON[formTicket](h.t, h.post(capsPath(appID, "/sms/form"), vendor.Token,
		map[string]any{"content_type": contentType, "size": size}), http.StatusCreated)
	if tk.Method != http.MethodPut || tk.URL == "" || tk.CompleteURL != capsPath(appID, "/sms/form/complete") ||
		tk.ExpiresAt.Before(time.Now().Add(10*time.Minute)) {
		h.t.Fatalf("ticket %+v: want a PUT URL valid for minutes and the complete URL", tk)
	}
	return tk
}

// putForm puts a file to the object store as the ticket says.
func (h *harness) putForm(tk formTicket, body []byte) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), tk.Method, tk.URL, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for name, v := range tk.Headers {
		req.Header.Set(name, v) // Content-Length is taken from the body by net/http
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("PUT to the object store: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("PUT to the object store: %d %s", resp.StatusCode, raw)
	}
}

// attachForm uploads a PDF form for real (start, PUT, complete) and expects it attached.
func (h *harness) attachForm(vendor testenv.Person, appID string) capabilities.Grant {
	h.t.Helper()
	body := pdf(3000)
	tk := h.startForm(vendor, appID, "application/pdf", len(body))
	h.putForm(tk, body)
	g := wantJSON[capabilities.Grant](h.t, h.post(tk.CompleteURL, vendor.Token, nil), http.StatusOK)
	if !g.FormAttached || g.Capability != "sms" {
		h.t.Fatalf("completed: %+v, want the form attached to the SMS grant", g)
	}
	return g
}

// formKey is where the application's attached SMS form is stored.
func (h *harness) formKey(appID string) string {
	h.t.Helper()
	var key string
	if err := h.pool.QueryRow(context.Background(), `SELECT coalesce(form_key, '') FROM capability_grants
		WHERE application_id = $1 AND capability = 'sms'`, appID).Scan(&key); err != nil {
		h.t.Fatal(err)
	}
	return key
}

// decide moves a grant as an administrator would through the approve function.
func (h *harness) decide(appID, capability, decision, reason string) {
	h.t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		g, err := capabilities.GrantOf(ctx, tx, appID, capability, true)
		if err != nil {
			return err
		}
		_, err = capabilities.Decide(ctx, tx, g.ID, decision, reason)
		return err
	})
	if err != nil {
		h.t.Fatalf("%s %s: %v", decision, capability, err)
	}
}

// grantsSnapshot is every row of the tables applying for a capability may touch.
func (h *harness) grantsSnapshot() string {
	h.t.Helper()
	var b strings.Builder
	for _, table := range []string{"capability_grants", "sms_templates", "capability_usage"} {
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

// ---- tests --------------------------------------------------------------------------------

// Messages and to-dos are applied for without a form; the portal lists every capability
// with its status, "none" before applying; applying again while pending or granted is a
// conflict naming the status; after a rejection or revocation the vendor applies again.
func TestApplyForMessagesAndTodos(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a, _ := h.approved(vendor, h.admin("reviewer"))

	caps := h.capabilitiesOf(vendor, a.ID)
	for _, c := range []string{"sms", "message", "todo"} {
		if caps[c].Status != "none" || caps[c].Grant != nil || caps[c].Name != capabilities.Names[c] {
			t.Errorf("%s before applying: %+v, want none with the name %q", c, caps[c], capabilities.Names[c])
		}
	}

	before := time.Now()
	msg := h.apply(vendor, a.ID, map[string]any{"capability": "message"})
	if msg.Capability != "message" || msg.AppName != a.Name || msg.VendorID != vendor.ID || msg.SignName != "" ||
		msg.FormAttached || msg.Templates == nil || len(msg.Templates) != 0 || msg.Reason != "" {
		t.Errorf("message grant %+v", msg)
	}
	near(t, "requested_at", msg.RequestedAt, before, time.Minute)
	todo := h.apply(vendor, a.ID, map[string]any{"capability": "todo"})

	caps = h.capabilitiesOf(vendor, a.ID)
	if caps["sms"].Status != "none" || caps["message"].Status != "pending" || caps["todo"].Status != "pending" ||
		caps["message"].Grant == nil || caps["message"].Grant.ID != msg.ID || caps["todo"].Grant.ID != todo.ID {
		t.Fatalf("capabilities %+v, want sms none, message and todo pending", caps)
	}

	again := func(capability, status string) {
		t.Helper()
		snap := h.grantsSnapshot()
		r := h.post(capsPath(a.ID), vendor.Token, map[string]any{"capability": capability})
		p := wantProblem(t, r, http.StatusConflict, "invalid-state")
		if !strings.Contains(p.Detail, status) || !strings.Contains(string(r.Body), `"grant_status":"`+status+`"`) {
			t.Errorf("conflict %s, want the status %s named", r, status)
		}
		if h.grantsSnapshot() != snap {
			t.Errorf("applying again for a %s %s grant changed the database", status, capability)
		}
	}
	again("message", "pending")
	h.decide(a.ID, "message", "grant", "")
	again("message", "granted")

	// Rejected: apply again, the reason cleared.
	h.decide(a.ID, "todo", "reject", "请补充待办的使用场景说明。")
	caps = h.capabilitiesOf(vendor, a.ID)
	if caps["todo"].Status != "rejected" || caps["todo"].Grant.Reason != "请补充待办的使用场景说明。" || caps["todo"].Grant.DecidedAt == nil {
		t.Fatalf("rejected todo %+v, want the reason and decided_at", caps["todo"].Grant)
	}
	re := h.apply(vendor, a.ID, map[string]any{"capability": "todo"})
	if re.ID != todo.ID || re.Reason != "" || !re.RequestedAt.After(*todo.RequestedAt) {
		t.Fatalf("re-applied %+v, want the same grant pending anew without the reason", re)
	}
	// Revoked: apply again.
	h.decide(a.ID, "message", "revoke", "滥用消息能力。")
	h.apply(vendor, a.ID, map[string]any{"capability": "message"})

	if n := h.count(`SELECT count(*) FROM capability_grants WHERE application_id = $1`, a.ID); n != 2 {
		t.Fatalf("%d grant rows, want one per capability applied for", n)
	}
}

// SMS needs the city's form first; with it, the sign name and templates are applied for,
// each template's parameters read from its ${name} placeholders.
func TestApplyForSMSWithTheForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a, _ := h.approved(vendor, h.admin("reviewer"))

	snap := h.grantsSnapshot()
	p := wantProblem(t, h.post(capsPath(a.ID), vendor.Token, smsApplication()), http.StatusConflict, "form-missing")
	if !strings.Contains(p.Detail, "晋城市短信平台使用申请单") {
		t.Errorf("detail %q does not name the form", p.Detail)
	}
	if h.grantsSnapshot() != snap {
		t.Fatal("an SMS application without the form changed the database")
	}
	if caps := h.capabilitiesOf(vendor, a.ID); caps["sms"].Status != "none" {
		t.Fatalf("sms %+v, want none", caps["sms"])
	}

	g := h.attachForm(vendor, a.ID)
	if g.Status != capabilities.Draft || g.RequestedAt != nil {
		t.Fatalf("with the form: %+v, want a draft not yet requested", g)
	}
	key := h.formKey(a.ID)
	if !strings.HasPrefix(key, "capabilities/"+a.ID+"/sms-form/") {
		t.Fatalf("form key %q, want under capabilities/<app>/sms-form/", key)
	}
	if size, err := h.store.Head(context.Background(), key); err != nil || size != 3000 {
		t.Fatalf("stored form: %d %v", size, err)
	}
	if caps := h.capabilitiesOf(vendor, a.ID); caps["sms"].Status != "draft" || !caps["sms"].Grant.FormAttached {
		t.Fatalf("sms %+v, want a draft with the form", caps["sms"])
	}

	got := h.apply(vendor, a.ID, smsApplication())
	if got.ID != g.ID || got.SignName != "晋城公积金" || !got.FormAttached || len(got.Templates) != 2 {
		t.Fatalf("applied %+v", got)
	}
	// Templates in code order, parameters in order of appearance, once each.
	want := []capabilities.Template{
		{Code: "SMS_123456", Name: "办结通知", Content: "您办理的${item}已办结；如有疑问请致电12345。编号${item}。", Params: []string{"item"}},
		{Code: "SMS_153055065", Name: "验证码", Content: "您的验证码为${code}，${minutes}分钟内有效，请勿泄露。", Params: []string{"code", "minutes"}},
	}
	for i, w := range want {
		tp := got.Templates[i]
		if tp.Code != w.Code || tp.Name != w.Name || tp.Content != w.Content || !slices.Equal(tp.Params, w.Params) {
			t.Errorf("template %d %+v, want %+v", i, tp, w)
		}
	}
	caps := h.capabilitiesOf(vendor, a.ID)
	if caps["sms"].Status != "pending" || len(caps["sms"].Grant.Templates) != 2 || caps["message"].Status != "none" {
		t.Fatalf("capabilities %+v", caps)
	}
	// While pending, neither the application nor the form may change.
	wantProblem(t, h.post(capsPath(a.ID), vendor.Token, smsApplication()), http.StatusConflict, "invalid-state")
	wantProblem(t, h.post(capsPath(a.ID, "/sms/form"), vendor.Token, map[string]any{"content_type": "application/pdf", "size": 100}),
		http.StatusConflict, "invalid-state")

	// Rejected: the form stays; another upload and other templates may follow.
	h.decide(a.ID, "sms", "reject", "签名与单位名称不符。")
	h.attachForm(vendor, a.ID)
	if nk := h.formKey(a.ID); nk == key {
		t.Fatalf("a new upload kept the old key %q", nk)
	}
	other := smsApplication()
	other["templates"] = []map[string]any{{"code": "SMS_999000", "name": "提醒", "content": "请于${date}前办理。"}}
	again := h.apply(vendor, a.ID, other)
	if len(again.Templates) != 1 || again.Templates[0].Code != "SMS_999000" || !slices.Equal(again.Templates[0].Params, []string{"date"}) {
		t.Fatalf("re-applied templates %+v, want only the new one", again.Templates)
	}
	if n := h.count(`SELECT count(*) FROM sms_templates WHERE application_id = $1`, a.ID); n != 1 {
		t.Fatalf("%d templates stored, want the new application's 1", n)
	}
}

// A template without parameters has an empty list, not null.
func TestTemplateWithoutParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a, _ := h.approved(vendor, h.admin("reviewer"))
	h.attachForm(vendor, a.ID)
	app := smsApplication()
	app["templates"] = []map[string]any{{"code": "SMS_100", "name": "通知", "content": "您的材料已收到。${} ${1x} $name"}}
	r := h.post(capsPath(a.ID), vendor.Token, app)
	g := wantJSON[capabilities.Grant](t, r, http.StatusOK)
	if len(g.Templates) != 1 || g.Templates[0].Params == nil || len(g.Templates[0].Params) != 0 {
		t.Fatalf("templates %+v, want one without parameters", g.Templates)
	}
	if !strings.Contains(string(r.Body), `"params":[]`) {
		t.Errorf("params are not [] in %s", r)
	}
}

// The form upload is checked on completion: content that is not the announced type or size
// is refused and deleted; nothing is attached until an upload passes.
func TestFormUploadIsChecked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a, _ := h.approved(vendor, h.admin("reviewer"))
	complete := capsPath(a.ID, "/sms/form/complete")

	wantProblem(t, h.post(complete, vendor.Token, nil), http.StatusConflict, "upload-missing")

	// Started, nothing uploaded yet.
	h.startForm(vendor, a.ID, "application/pdf", 2000)
	wantProblem(t, h.post(complete, vendor.Token, nil), http.StatusConflict, "upload-missing")

	for _, tc := range []struct {
		name, contentType string
		announced         int
		body              []byte
	}{
		{"PNG announced as PDF", "application/pdf", 2000, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1992)...)},
		{"text announced as PDF", "application/pdf", 2000, bytes.Repeat([]byte("a"), 2000)},
		{"PDF announced as JPEG", "image/jpeg", 2000, pdf(2000)},
		{"smaller than announced", "application/pdf", 2000, pdf(1000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := h.startForm(vendor, a.ID, tc.contentType, tc.announced)
			key := h.uploadKey(a.ID)
			// The store may check the signed length itself; put the object directly then.
			if err := h.store.Put(context.Background(), key, tc.contentType, tc.body); err != nil {
				t.Fatal(err)
			}
			wantProblem(t, h.post(tk.CompleteURL, vendor.Token, nil), http.StatusUnprocessableEntity, "upload-rejected")
			if _, err := h.store.Head(context.Background(), key); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("the rejected object is still stored: %v", err)
			}
			if h.formKey(a.ID) != "" {
				t.Error("a rejected upload was attached")
			}
		})
	}

	// An expired upload is refused.
	body := pdf(500)
	tk := h.startForm(vendor, a.ID, "application/pdf", len(body))
	h.putForm(tk, body)
	if _, err := h.pool.Exec(context.Background(), `UPDATE capability_grants SET upload_expires = now() - interval '1 second' WHERE application_id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, h.post(tk.CompleteURL, vendor.Token, nil), http.StatusConflict, "upload-expired")
	if h.formKey(a.ID) != "" {
		t.Fatal("an expired upload was attached")
	}

	// Every accepted type passes with its own content.
	for _, tc := range []struct {
		contentType string
		body        []byte
	}{
		{"image/png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)},
		{"image/jpeg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 100)...)},
		{"application/msword", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...)},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", append([]byte("PK\x03\x04"), make([]byte, 100)...)},
		{"application/pdf", pdf(10 << 10)},
	} {
		tk := h.startForm(vendor, a.ID, tc.contentType, len(tc.body))
		h.putForm(tk, tc.body)
		if g := wantJSON[capabilities.Grant](t, h.post(tk.CompleteURL, vendor.Token, nil), http.StatusOK); !g.FormAttached {
			t.Fatalf("%s: not attached", tc.contentType)
		}
	}
	// Completing again has nothing to complete.
	wantProblem(t, h.post(complete, vendor.Token, nil), http.StatusConflict, "upload-missing")
}

// The form cannot change while the application is pending, even through an upload started
// before applying.
func TestFormUploadStartedBeforeApplyingCannotCompleteWhilePending(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a, _ := h.approved(vendor, h.admin("reviewer"))
	h.attachForm(vendor, a.ID)
	attached := h.formKey(a.ID)

	body := pdf(800)
	tk := h.startForm(vendor, a.ID, "application/pdf", len(body))
	h.putForm(tk, body)
	h.apply(vendor, a.ID, smsApplication())
	wantProblem(t, h.post(tk.CompleteURL, vendor.Token, nil), http.StatusConflict, "invalid-state")
	if got := h.formKey(a.ID); got != attached {
		t.Fatalf("the form under review changed from %q to %q", attached, got)
	}
	h.decide(a.ID, "sms", "grant", "")
	wantProblem(t, h.post(tk.CompleteURL, vendor.Token, nil), http.StatusConflict, "invalid-state")
	if got := h.formKey(a.ID); got != attached {
		t.Fatalf("the granted form changed from %q to %q", attached, got)
	}
}

// uploadKey is the object key of the application's SMS form upload in flight.
func (h *harness) uploadKey(appID string) string {
	h.t.Helper()
	var key string
	if err := h.pool.QueryRow(context.Background(), `SELECT coalesce(upload_key, '') FROM capability_grants
		WHERE application_id = $1 AND capability = 'sms'`, appID).Scan(&key); err != nil {
		h.t.Fatal(err)
	}
	return key
}

// Bad applications and uploads are refused with the fields named, and change nothing.
func TestCapabilityRequestsRefuseBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a, _ := h.approved(vendor, h.admin("reviewer"))
	h.attachForm(vendor, a.ID)
	sms := func(kv ...any) map[string]any { return with(smsApplication(), kv...) }
	tpl := func(code, name, content string) []map[string]any {
		return []map[string]any{{"code": code, "name": name, "content": content}}
	}
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = map[string]any{"code": fmt.Sprintf("SMS_%06d", i), "name": "模板", "content": "内容${x}"}
	}
	cases := []struct {
		name   string
		path   string
		body   any
		status int
		code   string
		fields []string
	}{
		{"unknown capability", capsPath(a.ID), map[string]any{"capability": "email"}, 422, "validation-failed", []string{"capability"}},
		{"no capability", capsPath(a.ID), map[string]any{}, 422, "validation-failed", []string{"capability"}},
		{"message with a sign name", capsPath(a.ID), map[string]any{"capability": "message", "sms_sign_name": "晋来办"}, 422, "validation-failed", []string{"capability"}},
		{"todo with templates", capsPath(a.ID), map[string]any{"capability": "todo", "templates": tpl("SMS_123", "x", "内容")}, 422, "validation-failed", []string{"capability"}},
		{"no sign name", capsPath(a.ID), sms("sms_sign_name", nil), 422, "validation-failed", []string{"sms_sign_name"}},
		{"one-character sign name", capsPath(a.ID), sms("sms_sign_name", "晋"), 422, "validation-failed", []string{"sms_sign_name"}},
		{"13-character sign name", capsPath(a.ID), sms("sms_sign_name", strings.Repeat("晋", 13)), 422, "validation-failed", []string{"sms_sign_name"}},
		{"no templates", capsPath(a.ID), sms("templates", []any{}), 422, "validation-failed", []string{"templates"}},
		{"21 templates", capsPath(a.ID), sms("templates", many), 422, "validation-failed", []string{"templates"}},
		{"template code of digits", capsPath(a.ID), sms("templates", tpl("153055065", "验证码", "码${code}")), 422, "validation-failed", []string{"templates[0].code"}},
		{"template code too short", capsPath(a.ID), sms("templates", tpl("SMS_12", "验证码", "码${code}")), 422, "validation-failed", []string{"templates[0].code"}},
		{"template code in lower case", capsPath(a.ID), sms("templates", tpl("sms_123456", "验证码", "码${code}")), 422, "validation-failed", []string{"templates[0].code"}},
		{"template code with a suffix", capsPath(a.ID), sms("templates", tpl("SMS_123456x", "验证码", "码${code}")), 422, "validation-failed", []string{"templates[0].code"}},
		{"template listed twice", capsPath(a.ID), sms("templates", append(tpl("SMS_123456", "a", "内容"), tpl("SMS_123456", "b", "内容")...)), 422, "validation-failed", []string{"templates[1].code"}},
		{"template without a name", capsPath(a.ID), sms("templates", tpl("SMS_123456", "", "内容")), 422, "validation-failed", []string{"templates[0].name"}},
		{"template without content", capsPath(a.ID), sms("templates", tpl("SMS_123456", "通知", "")), 422, "validation-failed", []string{"templates[0].content"}},
		{"501-character content", capsPath(a.ID), sms("templates", tpl("SMS_123456", "通知", strings.Repeat("字", 501))), 422, "validation-failed", []string{"templates[0].content"}},
		{"unknown field", capsPath(a.ID), sms("status", "granted"), 400, "unknown-field", []string{"status"}},
		{"malformed JSON", capsPath(a.ID), `{"capability":`, 400, "malformed-body", nil},
		{"form of another type", capsPath(a.ID, "/sms/form"), map[string]any{"content_type": "text/plain", "size": 100}, 422, "validation-failed", []string{"content_type"}},
		{"form of no size", capsPath(a.ID, "/sms/form"), map[string]any{"content_type": "application/pdf", "size": 0}, 422, "validation-failed", []string{"size"}},
		{"form over 10 MiB", capsPath(a.ID, "/sms/form"), map[string]any{"content_type": "application/pdf", "size": 10<<20 + 1}, 422, "validation-failed", []string{"size"}},
		{"form size as text", capsPath(a.ID, "/sms/form"), `{"content_type":"application/pdf","size":"100"}`, 400, "malformed-body", []string{"size"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := h.grantsSnapshot()
			r, err := h.send(http.MethodPost, tc.path, vendor.Token, "", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, r, tc.status, tc.code)
			if tc.fields != nil && !slices.Equal(p.paramNames(), tc.fields) {
				t.Errorf("invalid_params %v, want %v", p.paramNames(), tc.fields)
			}
			if h.grantsSnapshot() != snap {
				t.Error("a refused request changed the database")
			}
		})
	}
	// At the limits: a 12-character sign name, 20 templates, content of 500 characters.
	many[0]["content"] = strings.Repeat("字", 500)
	limits := sms("sms_sign_name", strings.Repeat("晋", 12), "templates", many[:20])
	if g := wantJSON[capabilities.Grant](t, h.post(capsPath(a.ID), vendor.Token, limits), http.StatusOK); len(g.Templates) != 20 {
		t.Fatalf("applied with %d templates, want 20", len(g.Templates))
	}
}

// A vendor reaches only its own applications' capabilities, and only of approved ones.
func TestCapabilitiesOfOthersAndOfUnapprovedApplications(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	owner, intruder := h.vendor("owner-co"), h.vendor("intruder-co")
	a, _ := h.approved(owner, h.admin("reviewer"))
	h.apply(owner, a.ID, map[string]any{"capability": "message"})
	draft := h.declare(owner, declaration())
	routes := func(id string) []struct {
		method, path string
		body         any
	} {
		return []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, capsPath(id), nil},
			{http.MethodPost, capsPath(id), map[string]any{"capability": "todo"}},
			{http.MethodPost, capsPath(id, "/sms/form"), map[string]any{"content_type": "application/pdf", "size": 100}},
			{http.MethodPost, capsPath(id, "/sms/form/complete"), nil},
			{http.MethodGet, "/api/v1/apps/" + id + "/usage", nil},
		}
	}
	for _, rt := range routes(a.ID) {
		t.Run("other vendor "+rt.method+" "+rt.path, func(t *testing.T) {
			snap := h.grantsSnapshot()
			wantProblem(t, h.request(rt.method, rt.path, intruder.Token, "", rt.body), http.StatusNotFound, "not-found")
			wantProblem(t, h.request(rt.method, rt.path, "", "", rt.body), http.StatusUnauthorized, "unauthenticated")
			if h.grantsSnapshot() != snap {
				t.Error("the request changed the database")
			}
		})
	}
	for _, rt := range routes(draft.ID) {
		t.Run("draft "+rt.method+" "+rt.path, func(t *testing.T) {
			snap := h.grantsSnapshot()
			wantProblem(t, h.request(rt.method, rt.path, owner.Token, "", rt.body), http.StatusConflict, "invalid-state")
			if h.grantsSnapshot() != snap {
				t.Error("the request changed the database")
			}
		})
	}
	for _, rt := range routes("00000000-0000-4000-8000-000000000000") {
		wantProblem(t, h.request(rt.method, rt.path, owner.Token, "", rt.body), http.StatusNotFound, "not-found")
	}
	wantProblem(t, h.get(capsPath("not-a-uuid"), owner.Token), http.StatusNotFound, "not-found")
	// An administrator is not a vendor.
	wantProblem(t, h.get(capsPath(a.ID), h.admin("root").Token), http.StatusForbidden, "forbidden")
}

// usage is the answer of GET /api/v1/apps/{id}/usage.
type usage struct {
	Days  int                  `json:"days"`
	Items []capabilities.Usage `json:"items"`
}

// The usage view counts calls per capability and day for the last days (30 by default),
// oldest first, of the application alone.
func TestUsage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	admin := h.admin("reviewer")
	a, _ := h.approved(vendor, admin)
	b, _ := h.approved(h.vendor("other-co"), admin)
	path := "/api/v1/apps/" + a.ID + "/usage"

	if u := wantJSON[usage](t, h.get(path, vendor.Token), http.StatusOK); u.Days != 30 || u.Items == nil || len(u.Items) != 0 {
		t.Fatalf("usage before any call %+v, want 30 days and no items ([], not null)", u)
	}
	for _, row := range []struct {
		app, capability string
		ago             int
		count           int64
	}{
		{a.ID, "sms", 0, 7}, {a.ID, "todo", 0, 3}, {a.ID, "message", 1, 12}, {a.ID, "sms", 29, 5}, {a.ID, "sms", 30, 100},
		{a.ID, "todo", 89, 1}, {a.ID, "todo", 90, 1000}, {b.ID, "sms", 0, 55},
	} {
		if _, err := h.pool.Exec(context.Background(), `INSERT INTO capability_usage (application_id, capability, day, count)
			VALUES ($1, $2, current_date - $3::int, $4)`, row.app, row.capability, row.ago, row.count); err != nil {
			t.Fatal(err)
		}
	}
	day := func(ago int) time.Time {
		var d time.Time
		if err := h.pool.QueryRow(context.Background(), `SELECT current_date - $1::int`, ago).Scan(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	type row struct {
		capability string
		ago        int
		count      int64
	}
	check := func(query string, days int, want []row) {
		t.Helper()
		u := wantJSON[usage](t, h.get(path+query, vendor.Token), http.StatusOK)
		if u.Days != days || len(u.Items) != len(want) {
			t.Fatalf("usage%s: %+v, want %d days, %d items", query, u, days, len(want))
		}
		for i, w := range want {
			got := u.Items[i]
			if got.Capability != w.capability || got.Count != w.count || !got.Day.Equal(day(w.ago)) {
				t.Errorf("usage%s item %d: %+v, want %+v", query, i, got, w)
			}
		}
	}
	check("", 30, []row{{"sms", 29, 5}, {"message", 1, 12}, {"sms", 0, 7}, {"todo", 0, 3}})
	check("?days=1", 1, []row{{"sms", 0, 7}, {"todo", 0, 3}})
	check("?days=90", 90, []row{{"todo", 89, 1}, {"sms", 30, 100}, {"sms", 29, 5}, {"message", 1, 12}, {"sms", 0, 7}, {"todo", 0, 3}})
	for _, q := range []string{"?days=0", "?days=91", "?days=-1", "?days=ten", "?days=1.5", "?days=%20"} {
		r := h.get(path+q, vendor.Token)
		if p := wantProblem(t, r, http.StatusUnprocessableEntity, "validation-failed"); !slices.Equal(p.paramNames(), []string{"days"}) {
			t.Errorf("usage%s: invalid_params %v, want days", q, p.paramNames())
		}
	}
}

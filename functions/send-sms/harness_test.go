package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/signature"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/testenv"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// maxBody is the body limit of every test server (the runtime's default).
const maxBody = 64 << 10

// settings shape a test server: the function's configuration, the per-application limit,
// and the SMS provider (nil: the development provider, under the name "dev").
type settings struct {
	cfg          config
	limit        capabilities.Limit
	provider     sms.Provider
	providerName string
}

// defaultSettings are the deployed defaults: 1 message a minute, 5 an hour, 10 a day per
// number and template, and an application limit the tests do not reach unless they mean to.
func defaultSettings() settings {
	return settings{cfg: config{PerMinute: 1, PerHour: 5, PerDay: 10},
		limit: capabilities.Limit{PerMinute: 600}}
}

// harness is one send-sms server on its own fresh database, with an administrator who
// approves the applications the tests make.
type harness struct {
	t      *testing.T
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	srv    *httptest.Server
	logs   *testenv.LogBuffer
	admin  testenv.Person
	seq    atomic.Int64
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, defaultSettings()) }

func newHarnessWith(t *testing.T, st settings) *harness {
	t.Helper()
	if err := st.cfg.check(st.limit); err != nil {
		t.Fatal(err)
	}
	// The pool as deployed (DB_POOL_MAX 4, a statement timeout): a request that needed more
	// connections than it holds would stall here as it would in production.
	pool, err := db.Open(db.Config{URL: testenv.DatabaseURL(t), PoolMax: 4, ExecMode: "cache_statement",
		ConnectTimeout: 3 * time.Second, StatementTime: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sealer := testenv.Sealer(t)
	if st.provider == nil {
		st.provider, st.providerName = &sms.Dev{DB: pool, Sealer: sealer}, "dev"
	}
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	handler := newServer(deps{pool: pool, sealer: sealer, provider: st.provider, providerName: st.providerName, limit: st.limit, cfg: st.cfg,
		verifier: &vendorauth.Verifier{Pool: pool, Sealer: sealer, Window: 5 * time.Minute}})
	srv := httptest.NewServer(fn.Wrap(handler, fn.Options{Name: "send-sms", MaxBodyBytes: maxBody, Logger: logger}))
	t.Cleanup(srv.Close)
	h := &harness{t: t, pool: pool, sealer: sealer, srv: srv, logs: logs, admin: testenv.SignIn(t, pool, sealer, "admin", "root")}
	// No request of any test may end in an internal error (a refusing provider's 502 is the
	// one error answer a test may provoke).
	t.Cleanup(func() {
		srv.Close()
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) && !strings.Contains(line, `"status":502`) {
				t.Errorf("the server logged an error: %s", line)
			}
		}
	})
	return h
}

// closedLogs stops the server, waiting for every request (and its access-log line) to
// finish, and returns what was logged.
func (h *harness) closedLogs() string {
	h.srv.Close()
	return h.logs.String()
}

// ---- providers ----------------------------------------------------------------------------

// errRefused is what the fake provider answers when told to fail.
var errRefused = errors.New("fake provider: isv.BUSINESS_LIMIT_CONTROL")

// fakeProvider stands for a real SMS service: it counts its calls, accepts each message
// with an id of its own, and refuses them while failing is set.
type fakeProvider struct {
	calls   atomic.Int64
	failing atomic.Bool
}

func (f *fakeProvider) Send(ctx context.Context, m sms.Message) (string, error) {
	n := f.calls.Add(1)
	if f.failing.Load() {
		return "", errRefused
	}
	if m.To == "" || m.SignName != signName || m.TemplateCode == "" {
		return "", fmt.Errorf("fake provider: incomplete message (template %q, sign %q)", m.TemplateCode, m.SignName)
	}
	return fmt.Sprintf("fake-%d", n), nil
}

// withFakeProvider is a harness whose provider is a fakeProvider, under another name than
// "dev".
func withFakeProvider(t *testing.T, st settings) (*harness, *fakeProvider) {
	t.Helper()
	f := &fakeProvider{}
	st.provider, st.providerName = f, "fake"
	return newHarnessWith(t, st), f
}

// ---- applications, citizens ---------------------------------------------------------------

// app is an approved application with its test secret.
type app struct {
	ID     string
	Name   string
	Code   string
	Secret string
}

// newApp declares, submits and approves an application of a new vendor.
func (h *harness) newApp(name string) app {
	t := h.t
	t.Helper()
	ctx := context.Background()
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", fmt.Sprintf("vendor%d", h.seq.Add(1)))
	no := false
	a, err := apps.Create(ctx, h.pool, h.sealer, vendor.ID, apps.Declaration{Name: name, ContactName: "Wang Fang",
		ContactMobile: "13912345678", NeedsUserInfo: &no, Description: "A business system of the vendor, declared for the tests."})
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	if _, err := apps.Submit(ctx, h.pool, h.sealer, vendor.ID, a.ID); err != nil {
		t.Fatalf("submit application: %v", err)
	}
	var secret string
	err = db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		a, secret, err = apps.Approve(ctx, tx, h.sealer, a.ID, h.admin.ID)
		return err
	})
	if err != nil {
		t.Fatalf("approve application: %v", err)
	}
	return app{ID: a.ID, Name: a.Name, Code: a.AppCode, Secret: secret}
}

// The templates every application of the tests applied for.
const (
	codeTemplate = "SMS_100001" // 您的验证码为${code}，5分钟内有效。
	doneTemplate = "SMS_100002" // 您办理的${item}已于${date}办结，请登录晋来办查看。
	signName     = "晋城公积金"
)

// grantedApp is an application holding the SMS grant with the two templates.
func (h *harness) grantedApp(name string) app {
	h.t.Helper()
	a := h.newApp(name)
	h.grant(a, "granted")
	return a
}

// grant sets the application's SMS grant to a status, with the sign name and templates of
// an application for it.
func (h *harness) grant(a app, status string) {
	h.t.Helper()
	h.exec(`INSERT INTO capability_grants (application_id, capability, status, sms_sign_name) VALUES ($1, 'sms', $2, $3)
		ON CONFLICT (application_id, capability) DO UPDATE SET status = $2`, a.ID, status, signName)
	for _, tpl := range []struct{ code, name, content string }{
		{codeTemplate, "验证码", "您的验证码为${code}，5分钟内有效。"},
		{doneTemplate, "办结通知", "您办理的${item}已于${date}办结，请登录晋来办查看。"},
	} {
		h.exec(`INSERT INTO sms_templates (application_id, code, name, content, params) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, a.ID, tpl.code, tpl.name, tpl.content, capabilities.ParamsOf(tpl.content))
	}
}

// citizen is a citizen of the directory.
type citizen struct {
	ID     string
	Mobile string
}

// newCitizen adds a citizen with a fresh mobile number.
func (h *harness) newCitizen() citizen {
	t := h.t
	t.Helper()
	mobile := h.newMobile()
	c, err := citizens.Create(context.Background(), h.pool, h.sealer, citizens.Citizen{Mobile: mobile})
	if err != nil {
		t.Fatalf("create citizen: %v", err)
	}
	return citizen{ID: c.ID, Mobile: mobile}
}

// newMobile is a fresh mobile number.
func (h *harness) newMobile() string { return fmt.Sprintf("139%08d", h.seq.Add(1)) }

// pairwise records that the citizen signed in to the application's services and returns the
// application's id for them. The tests sign with the test secret, which reaches only the
// application's test citizens: the citizen is put on the whitelist too.
func (h *harness) pairwise(a app, c citizen) string {
	h.t.Helper()
	id := h.signedIn(a, c)
	h.exec(`INSERT INTO test_citizens (application_id, citizen_id, added_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, a.ID, c.ID, h.admin.ID)
	return id
}

// signedIn records that the citizen signed in to the application's services, without
// making them a test citizen, and returns the application's id for them.
func (h *harness) signedIn(a app, c citizen) string {
	h.t.Helper()
	id := sso.PairwiseID(h.sealer, a.ID, c.ID)
	h.exec(`INSERT INTO pairwise_ids (application_id, pairwise_id, citizen_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, a.ID, id, c.ID)
	return id
}

// ---- requests -----------------------------------------------------------------------------

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// option shapes a request before it is sent (and before it is signed).
type option func(*http.Request)

func withHeader(name, value string) option {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func contentType(ct string) option { return withHeader("Content-Type", ct) }

func idempotencyKey(key string) option { return withHeader("Idempotency-Key", key) }

// encode turns a body into bytes: nil is none, a string or []byte is sent as is, anything
// else as JSON.
func encode(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(b), nil
	case []byte:
		return b, nil
	default:
		return json.Marshal(b)
	}
}

// request builds a request to the test server.
func (h *harness) request(method, path string, raw []byte, opts ...option) (*http.Request, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	return req, nil
}

func (h *harness) send(req *http.Request) (reply, error) {
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// signed sends a request signed with the application's test secret, the way the SDK signs.
func (h *harness) signed(a app, method, path string, body any, opts ...option) reply {
	h.t.Helper()
	r, err := h.trySigned(a, method, path, body, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// trySigned is signed for goroutines other than the test's.
func (h *harness) trySigned(a app, method, path string, body any, opts ...option) (reply, error) {
	raw, err := encode(body)
	if err != nil {
		return reply{}, err
	}
	req, err := h.request(method, path, raw, opts...)
	if err != nil {
		return reply{}, err
	}
	signature.SignRequest(req, a.Code, a.Secret, raw, time.Now())
	return h.send(req)
}

// plain sends a request without a signature.
func (h *harness) plain(method, path string, body any, opts ...option) reply {
	h.t.Helper()
	raw, err := encode(body)
	if err != nil {
		h.t.Fatal(err)
	}
	req, err := h.request(method, path, raw, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := h.send(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json; body: %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// wantJSON checks the status and decodes the body into a T.
func wantJSON[T any](t *testing.T, r reply, status int) T {
	t.Helper()
	var v T
	r.want(t, status).decode(t, &v)
	return v
}

// problem is an application/problem+json answer.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Params    []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"invalid_params"`
	Capability string `json:"capability"`
	SendID     string `json:"send_id"`
}

func (p problem) paramNames() []string {
	names := []string{}
	for _, ip := range p.Params {
		names = append(names, ip.Name)
	}
	slices.Sort(names)
	return names
}

// wantProblem fails the test unless the answer is a problem with this status and code.
func (r reply) wantProblem(t *testing.T, status int, code string) problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (%s); body: %s", r.status, status, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body: %s", ct, r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding problem %s: %v", r.body, err)
	}
	if p.Code != code || p.Status != status || p.Type != "urn:jinlaiban:problem:"+code || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem %s, want status %d code %q with a title and detail", r.body, status, code)
	}
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("problem request_id %q does not match X-Request-Id %q", p.RequestID, r.header.Get("X-Request-Id"))
	}
	return p
}

// wantInvalid expects a 422 validation-failed naming exactly the given fields.
func (r reply) wantInvalid(t *testing.T, fields ...string) problem {
	t.Helper()
	p := r.wantProblem(t, http.StatusUnprocessableEntity, fn.CodeInvalid)
	slices.Sort(fields)
	if got := p.paramNames(); !slices.Equal(got, fields) {
		t.Fatalf("invalid_params %v, want %v; body: %s", got, fields, r.body)
	}
	for _, ip := range p.Params {
		if ip.Reason == "" {
			t.Errorf("invalid_params %q has no reason", ip.Name)
		}
	}
	return p
}

// retryAfter reads the Retry-After header in seconds and checks it is within [lo, hi].
func (r reply) retryAfter(t *testing.T, lo, hi int) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(r.header.Get("Retry-After"), &n); err != nil || n < lo || n > hi {
		t.Fatalf("Retry-After %q, want %d-%d seconds", r.header.Get("Retry-After"), lo, hi)
	}
	return n
}

// ---- database -----------------------------------------------------------------------------

func (h *harness) exec(sql string, args ...any) {
	h.t.Helper()
	if _, err := h.pool.Exec(context.Background(), sql, args...); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// scalar reads one value.
func scalar[T any](h *harness, sql string, args ...any) T {
	h.t.Helper()
	var v T
	if err := h.pool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// devMessages counts what the development provider recorded: one row per provider call.
func (h *harness) devMessages() int {
	h.t.Helper()
	return scalar[int](h, `SELECT count(*) FROM dev_sms`)
}

// sends counts the recorded sends of an application.
func (h *harness) sends(a app) int {
	h.t.Helper()
	return scalar[int](h, `SELECT count(*) FROM sms_sends WHERE application_id = $1`, a.ID)
}

// usage is today's count of admitted SMS calls of an application.
func (h *harness) usage(a app) int64 {
	h.t.Helper()
	return scalar[int64](h, `SELECT coalesce(sum(count), 0) FROM capability_usage WHERE application_id = $1 AND capability = 'sms'`, a.ID)
}

// storedSend is a send as sms_sends holds it.
type storedSend struct {
	ApplicationID, TemplateCode, Status, Provider string
	IdempotencyKey, ProviderID, Error, CitizenID  *string
	ToIndex, ToMobile                             []byte
}

func (h *harness) storedSend(id string) storedSend {
	h.t.Helper()
	var s storedSend
	err := h.pool.QueryRow(context.Background(), `SELECT application_id, template_code, status, provider, idempotency_key, provider_id, error,
		citizen_id::text, to_index, to_mobile FROM sms_sends WHERE id = $1`, id).
		Scan(&s.ApplicationID, &s.TemplateCode, &s.Status, &s.Provider, &s.IdempotencyKey, &s.ProviderID, &s.Error, &s.CitizenID, &s.ToIndex, &s.ToMobile)
	if err != nil {
		h.t.Fatalf("send %s: %v", id, err)
	}
	return s
}

// earlierSends records n sends of a template to a number by the application, as if made
// ago (each a minute apart going back), in the given status.
func (h *harness) earlierSends(a app, template, mobile, status string, n int, ago time.Duration) {
	h.t.Helper()
	for i := range n {
		at := time.Now().Add(-ago - time.Duration(i)*time.Minute)
		var providerID any
		if status == "sent" {
			providerID = fmt.Sprintf("earlier-%d", i)
		}
		h.exec(`INSERT INTO sms_sends (application_id, request_hash, template_code, to_index, to_mobile, status, provider, provider_id, created_at)
			VALUES ($1, '\x00', $2, $3, $4, $5, 'dev', $6, $7)`, a.ID, template, h.sealer.Index("sms-mobile", mobile),
			h.sealer.SealString("sms-mobile", mobile), status, providerID, at)
	}
}

// ---- messages -----------------------------------------------------------------------------

// smsForm is a send as a vendor makes it.
type smsForm struct {
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params,omitempty"`
	CitizenID    string            `json:"citizen_id,omitempty"`
	Mobile       string            `json:"mobile,omitempty"`
}

// codeTo is a verification code to a number (or, with a citizen id, a citizen).
func codeTo(mobile string) smsForm {
	return smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": "482913"}, Mobile: mobile}
}

func codeToCitizen(citizenID string) smsForm {
	return smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": "482913"}, CitizenID: citizenID}
}

// doneTo is the notice that a matter was dealt with, to a number.
func doneTo(mobile string) smsForm {
	return smsForm{TemplateCode: doneTemplate, Params: map[string]string{"item": "住房公积金提取", "date": "2024年5月20日"}, Mobile: mobile}
}

// result is the answer to a send.
type result struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	ProviderID string    `json:"provider_id"`
	Error      string    `json:"error"`
	CreatedAt  time.Time `json:"created_at"`
}

const sendPath = "/api/v1/sms/send"

// newKey is a fresh idempotency key.
func (h *harness) newKey() string {
	return fmt.Sprintf("key-%d-%d", time.Now().UnixNano(), h.seq.Add(1))
}

// sent sends a message with a fresh key and expects it sent.
func (h *harness) sent(a app, f smsForm) result {
	h.t.Helper()
	r := h.signed(a, "POST", sendPath, f, idempotencyKey(h.newKey()))
	res := wantJSON[result](h.t, r, http.StatusCreated)
	if !uuidLike(res.ID) || res.Status != "sent" || res.ProviderID == "" || res.Error != "" || res.CreatedAt.IsZero() {
		h.t.Fatalf("sent %s: want an id, status sent, a provider id", r.body)
	}
	return res
}

func uuidLike(s string) bool { return len(s) == 36 && strings.Count(s, "-") == 4 }

// devInbox reads the development provider's inbox of a number.
type devInbox struct {
	Items []sms.DevMessage `json:"items"`
}

func (h *harness) inbox(mobile string) devInbox {
	h.t.Helper()
	return wantJSON[devInbox](h.t, h.plain("GET", "/api/v1/dev/sms?mobile="+mobile, nil), http.StatusOK)
}

// sendList is a page of GET /api/v1/sms/sends.
type sendList struct {
	Items []struct {
		ID           string    `json:"id"`
		TemplateCode string    `json:"template_code"`
		Mobile       string    `json:"mobile"`
		Status       string    `json:"status"`
		ProviderID   string    `json:"provider_id"`
		CreatedAt    time.Time `json:"created_at"`
	} `json:"items"`
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/signature"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/testenv"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// maxBody is the body limit of every test server (the runtime's default).
const maxBody = 64 << 10

// harness is one send-message server on its own fresh database, with an administrator who
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

// defaultConfig is the configuration as deployed, with a limit the tests do not reach
// unless they mean to.
func defaultConfig() config {
	return config{Limit: limit(600)}
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, defaultConfig()) }

func newHarnessWith(t *testing.T, cfg config) *harness {
	t.Helper()
	if err := cfg.Limit.Check(); err != nil {
		t.Fatal(err)
	}
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	handler := newServer(deps{pool: pool, verifier: &vendorauth.Verifier{Pool: pool, Sealer: sealer, Window: 5 * time.Minute}, cfg: cfg})
	srv := httptest.NewServer(fn.Wrap(handler, fn.Options{Name: "send-message", MaxBodyBytes: maxBody, Logger: logger}))
	t.Cleanup(srv.Close)
	h := &harness{t: t, pool: pool, sealer: sealer, srv: srv, logs: logs, admin: testenv.SignIn(t, pool, sealer, "admin", "root")}
	// No request of any test may end in an internal error.
	t.Cleanup(func() {
		srv.Close()
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
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

// grantedApp is an application holding a grant of the message capability.
func (h *harness) grantedApp(name string) app {
	h.t.Helper()
	a := h.newApp(name)
	h.grant(a, "granted")
	return a
}

// grant sets the application's grant of the message capability to a status.
func (h *harness) grant(a app, status string) {
	h.t.Helper()
	h.exec(`INSERT INTO capability_grants (application_id, capability, status) VALUES ($1, 'message', $2)
		ON CONFLICT (application_id, capability) DO UPDATE SET status = $2`, a.ID, status)
}

// client is the vendor SDK for the application, on the test server.
func (h *harness) client(a app) *sdk.Client {
	c := sdk.New(h.srv.URL, a.Code, a.Secret, "")
	c.HTTP = h.srv.Client()
	return c
}

// citizen is a citizen of the directory, signed in to the super-app.
type citizen struct {
	ID     string
	Mobile string
	Token  string
}

// newCitizen adds a citizen with a fresh mobile number and starts a session.
func (h *harness) newCitizen() citizen {
	t := h.t
	t.Helper()
	ctx := context.Background()
	mobile := fmt.Sprintf("139%08d", h.seq.Add(1))
	c, err := citizens.Create(ctx, h.pool, h.sealer, citizens.Citizen{Mobile: mobile})
	if err != nil {
		t.Fatalf("create citizen: %v", err)
	}
	token, _, err := citizens.NewSession(ctx, h.pool, c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return citizen{ID: c.ID, Mobile: mobile, Token: token}
}

// pairwise records that the citizen signed in to the application's services and returns the
// application's id for them.
func (h *harness) pairwise(a app, c citizen) string {
	h.t.Helper()
	id := sso.PairwiseID(h.sealer, a.ID, c.ID)
	h.exec(`INSERT INTO pairwise_ids (application_id, pairwise_id, citizen_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, a.ID, id, c.ID)
	// The tests sign with the test secret, which reaches only the application's test citizens.
	h.exec(`INSERT INTO test_citizens (application_id, citizen_id, added_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, a.ID, c.ID, h.admin.ID)
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

func idempotencyKey(key string) option { return withHeader("Idempotency-Key", key) }

func contentType(ct string) option { return withHeader("Content-Type", ct) }

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

// signed sends a request signed with the application's test secret, the way the SDK signs,
// but with any headers (the SDK cannot send an Idempotency-Key).
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
	r, err := h.tryPlain(method, path, body, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// tryPlain is plain for goroutines other than the test's.
func (h *harness) tryPlain(method, path string, body any, opts ...option) (reply, error) {
	raw, err := encode(body)
	if err != nil {
		return reply{}, err
	}
	req, err := h.request(method, path, raw, opts...)
	if err != nil {
		return reply{}, err
	}
	return h.send(req)
}

// plainAs sends a request without a body as a signed-in citizen, in a subtest.
func (h *harness) plainAs(t *testing.T, c citizen, method, path string) reply {
	t.Helper()
	r, err := h.tryPlain(method, path, nil, withHeader("Authorization", "Bearer "+c.Token))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// as sends a request as a signed-in citizen.
func (h *harness) as(c citizen, method, path string, body any, opts ...option) reply {
	h.t.Helper()
	return h.plain(method, path, body, append([]option{withHeader("Authorization", "Bearer "+c.Token)}, opts...)...)
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
		t.Fatalf("problem %s, want status %d code %q", r.body, status, code)
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

// messages counts the stored messages of an application.
func (h *harness) messages(a app) int {
	h.t.Helper()
	return scalar[int](h, `SELECT count(*) FROM citizen_messages WHERE application_id = $1`, a.ID)
}

// usage is today's count of admitted message calls of an application.
func (h *harness) usage(a app) int64 {
	h.t.Helper()
	return scalar[int64](h, `SELECT coalesce(sum(count), 0) FROM capability_usage WHERE application_id = $1 AND capability = 'message'`, a.ID)
}

// ---- messages -----------------------------------------------------------------------------

// message is a message to send.
type message struct {
	CitizenID string `json:"citizen_id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Link      string `json:"link,omitempty"`
}

func newMessage(citizenID string) message {
	return message{CitizenID: citizenID, Title: "您的公积金提取申请已受理",
		Body: "您于今日提交的住房公积金提取申请已受理，预计3个工作日内办结。", Link: "https://gjj.example.cn/apply/123"}
}

// sent is the answer to a send.
type sent struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// inboxMessage is a message as its citizen sees it.
type inboxMessage struct {
	ID          string `json:"id"`
	Application struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"application"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	Read      bool       `json:"read"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

type inboxPage struct {
	Items    []inboxMessage `json:"items"`
	Total    int            `json:"total"`
	Unread   int            `json:"unread"`
	Page     int            `json:"page"`
	PageSize int            `json:"page_size"`
}

// newKey is a fresh idempotency key.
func (h *harness) newKey() string {
	return fmt.Sprintf("key-%d-%d", time.Now().UnixNano(), h.seq.Add(1))
}

// post sends a message with a fresh key and expects it stored.
func (h *harness) post(a app, m message) sent {
	h.t.Helper()
	r := h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey(h.newKey()))
	s := wantJSON[sent](h.t, r, http.StatusCreated)
	if s.ID == "" || s.CreatedAt.IsZero() {
		h.t.Fatalf("sent %s: want an id and created_at", r.body)
	}
	return s
}

// inbox reads a page of the citizen's inbox.
func (h *harness) inbox(c citizen, query string) inboxPage {
	h.t.Helper()
	return wantJSON[inboxPage](h.t, h.as(c, "GET", "/api/v1/citizen/messages"+query, nil), http.StatusOK)
}

func limit(perMinute int) capabilities.Limit { return capabilities.Limit{PerMinute: perMinute} }

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// lockAfter and lockFor are the throttle settings every test server runs with.
const (
	lockAfter = 5
	lockFor   = 15 * time.Minute
)

// harness is one accounts server on its own fresh database, with a signed-in administrator.
type harness struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	srv    *httptest.Server
	client *http.Client
	logs   *testenv.LogBuffer
	admin  testenv.Person
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sessions := &auth.Sessions{Pool: pool, TTL: time.Hour, SecureCookie: true}
	srv := httptest.NewServer(fn.Wrap(newServer(pool, sealer, sessions, newThrottle(lockAfter, lockFor), 0),
		fn.Options{Name: "accounts", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{pool: pool, sealer: sealer, srv: srv, client: client, logs: logs,
		admin: testenv.SignIn(t, pool, sealer, "admin", "root")}
}

// clientFrom returns a client whose connections come from another loopback address, so the
// server sees a different RemoteAddr.
func (h *harness) clientFrom(t *testing.T, ip string) *http.Client {
	tr := h.client.Transport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// option shapes a request before it is sent.
type option func(*outgoing)

type outgoing struct {
	req    *http.Request
	client *http.Client
}

// bearer authenticates like an API client.
func bearer(token string) option {
	return func(o *outgoing) { o.req.Header.Set("Authorization", "Bearer "+token) }
}

// browser authenticates like a browser: the session cookie (set by hand, since a cookie jar
// does not send Secure cookies over http) and, when csrf is not empty, the CSRF header.
func browser(token, csrf string) option {
	return func(o *outgoing) {
		o.req.Header.Add("Cookie", (&http.Cookie{Name: auth.SessionCookie, Value: token}).String())
		if csrf != "" {
			o.req.Header.Set(auth.CSRFHeader, csrf)
		}
	}
}

// withHeader sets a header, or removes it when value is empty.
func withHeader(name, value string) option {
	return func(o *outgoing) {
		if value == "" {
			o.req.Header.Del(name)
		} else {
			o.req.Header.Set(name, value)
		}
	}
}

// via sends the request with another client.
func via(c *http.Client) option { return func(o *outgoing) { o.client = c } }

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
	cookie []*http.Cookie
}

// do sends a request. body may be nil (no body), a string or []byte (sent as is), or a value
// to encode as JSON; a body is labelled application/json unless an option says otherwise.
func (h *harness) do(t *testing.T, method, path string, body any, opts ...option) reply {
	t.Helper()
	r, err := h.try(method, path, body, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// try is do for goroutines other than the test's: it returns the error instead.
func (h *harness) try(method, path string, body any, opts ...option) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	out := &outgoing{req: req, client: h.client}
	for _, o := range opts {
		o(out)
	}
	resp, err := out.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw, cookie: resp.Cookies()}, nil
}

// want fails the test unless the status is the expected one.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// decode reads a JSON body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json; body: %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
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
}

func (p problem) paramNames() []string {
	var names []string
	for _, ip := range p.Params {
		names = append(names, ip.Name)
	}
	slices.Sort(names)
	return names
}

func (p problem) reason(name string) string {
	for _, ip := range p.Params {
		if ip.Name == name {
			return ip.Reason
		}
	}
	return ""
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
	if p.Code != code || p.Status != status || p.Type != "urn:jinlaiban:problem:"+code || p.Title == "" {
		t.Fatalf("problem %+v, want status %d code %q", p, status, code)
	}
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("problem request_id %q does not match X-Request-Id %q", p.RequestID, r.header.Get("X-Request-Id"))
	}
	return p
}

// account is an account as the API shows it.
type account struct {
	ID                 string    `json:"id"`
	Role               string    `json:"role"`
	Login              string    `json:"login"`
	CompanyName        string    `json:"company_name"`
	ContactName        string    `json:"contact_name"`
	ContactMobile      string    `json:"contact_mobile"`
	Status             string    `json:"status"`
	DisabledReason     string    `json:"disabled_reason"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
}

type session struct {
	Token              string    `json:"token"`
	CSRFToken          string    `json:"csrf_token"`
	ExpiresAt          time.Time `json:"expires_at"`
	MustChangePassword bool      `json:"must_change_password"`
	Account            account   `json:"account"`
}

type vendorForm struct {
	CompanyName     string `json:"company_name"`
	ContactName     string `json:"contact_name"`
	ContactMobile   string `json:"contact_mobile"`
	Login           string `json:"login"`
	InitialPassword string `json:"initial_password,omitempty"`
}

type createdVendorReply struct {
	account
	InitialPassword string `json:"initial_password"`
}

func newVendorForm(login string) vendorForm {
	return vendorForm{CompanyName: "Acme Catering Ltd", ContactName: "Li Wei", ContactMobile: "13912345678", Login: login}
}

func credentials(login, password string) map[string]string {
	return map[string]string{"login": login, "password": password}
}

// signIn signs in and expects success.
func (h *harness) signIn(t *testing.T, login, password string, opts ...option) session {
	t.Helper()
	var s session
	h.do(t, "POST", "/api/v1/sessions", credentials(login, password), opts...).want(t, http.StatusCreated).decode(t, &s)
	return s
}

// createVendor has the administrator issue a vendor account.
func (h *harness) createVendor(t *testing.T, f vendorForm) createdVendorReply {
	t.Helper()
	var v createdVendorReply
	h.do(t, "POST", "/api/v1/admin/vendors", f, bearer(h.admin.Token)).want(t, http.StatusCreated).decode(t, &v)
	return v
}

func (h *harness) me(t *testing.T, opts ...option) reply {
	t.Helper()
	return h.do(t, "GET", "/api/v1/me", nil, opts...)
}

// exec runs SQL on the test database.
func (h *harness) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := h.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// scalar reads one value.
func scalar[T any](t *testing.T, h *harness, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := h.pool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// tables lists the schema's tables.
func (h *harness) tables(t *testing.T) []string {
	t.Helper()
	rows, err := h.pool.Query(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// dump returns every row of every table as JSON text, table by table, in a stable order.
func (h *harness) dump(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range h.tables(t) {
		rows, err := h.pool.Query(context.Background(), `SELECT row_to_json(t)::text FROM `+table+` t ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			all = append(all, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		out[table] = all
	}
	return out
}

// unchanged fails the test if the database differs from the earlier dump.
func (h *harness) unchanged(t *testing.T, before map[string][]string) {
	t.Helper()
	after := h.dump(t)
	for table, rows := range before {
		if !slices.Equal(rows, after[table]) {
			t.Errorf("table %s changed:\nbefore: %v\nafter:  %v", table, rows, after[table])
		}
	}
}

// elapse makes the sign-in waits of the given throttle keys run out, as if time had passed.
func (h *harness) elapse(t *testing.T, keys ...string) {
	t.Helper()
	h.exec(t, `UPDATE login_throttle SET blocked_until = now() - interval '1 second' WHERE key = ANY($1) AND blocked_until IS NOT NULL`, keys)
}

// loginKey is the throttle key the server uses for a login name.
func (h *harness) loginKey(login string) string { return (&server{sealer: h.sealer}).loginKey(login) }

// throttleRow is a key's state: failures counted, and seconds until it may try again (0 when
// not blocked).
func (h *harness) throttleRow(t *testing.T, key string) (failures int, waitSeconds float64, exists bool) {
	t.Helper()
	err := h.pool.QueryRow(context.Background(),
		`SELECT failures, coalesce(greatest(extract(epoch FROM blocked_until - now()), 0), 0)::float8 FROM login_throttle WHERE key = $1`, key).
		Scan(&failures, &waitSeconds)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return 0, 0, false
		}
		t.Fatal(err)
	}
	return failures, waitSeconds, true
}

// auditRow is one audit_log entry.
type auditRow struct {
	ActorID     string
	ActorRole   string
	Action      string
	SubjectType string
	SubjectID   string
	Detail      map[string]any
	RequestID   string
}

func (h *harness) audit(t *testing.T) []auditRow {
	t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT coalesce(actor_id::text, ''), actor_role, action, subject_type, subject_id, detail,
		coalesce(request_id, '') FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var a auditRow
		if err := rows.Scan(&a.ActorID, &a.ActorRole, &a.Action, &a.SubjectType, &a.SubjectID, &a.Detail, &a.RequestID); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

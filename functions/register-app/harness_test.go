package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	uuidRE       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	appCodeRE    = regexp.MustCompile(`^[0-9a-f]{30}$`)
	testSecretRE = regexp.MustCompile(`^test_[0-9a-f]{32}$`)
	prodSecretRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// harness is one register-app server on its own fresh database.
type harness struct {
	t      *testing.T
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	srv    *httptest.Server
	logs   *testenv.LogBuffer
	store  *bucket.Store // the bucket of the SMS application forms
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	store := testenv.Store(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(fn.Wrap(newServer(deps{pool: pool, sealer: sealer, store: store, sessions: &auth.Sessions{Pool: pool}}),
		fn.Options{Name: "register-app", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close) // runs before the pool closes (cleanups run last-in first-out)
	return &harness{t: t, pool: pool, sealer: sealer, srv: srv, logs: logs, store: store}
}

// closedLogs stops the server, waiting for every request (and its access-log line) to
// finish, and returns what was logged.
func (h *harness) closedLogs() string {
	h.srv.Close()
	return h.logs.String()
}

func (h *harness) vendor(login string) testenv.Person {
	h.t.Helper()
	return testenv.SignIn(h.t, h.pool, h.sealer, "vendor", login)
}

func (h *harness) admin(login string) testenv.Person {
	h.t.Helper()
	return testenv.SignIn(h.t, h.pool, h.sealer, "admin", login)
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return string(r.Body) }

// request sends a request. body is nil (none), a string or []byte (sent as it is), or any
// other value (sent as JSON). A body is labelled application/json unless contentType says
// otherwise ("-" sends no Content-Type).
func (h *harness) request(method, path, token, contentType string, body any) response {
	h.t.Helper()
	resp, err := h.send(method, path, token, contentType, body)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func (h *harness) send(method, path, token, contentType string, body any) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		switch contentType {
		case "":
			req.Header.Set("Content-Type", "application/json")
		case "-":
		default:
			req.Header.Set("Content-Type", contentType)
		}
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}, err
}

func (h *harness) get(path, token string) response {
	h.t.Helper()
	return h.request(http.MethodGet, path, token, "", nil)
}

func (h *harness) post(path, token string, body any) response {
	h.t.Helper()
	return h.request(http.MethodPost, path, token, "", body)
}

func (h *harness) put(path, token string, body any) response {
	h.t.Helper()
	return h.request(http.MethodPut, path, token, "", body)
}

// wantJSON checks the status and decodes a JSON success body into v.
func wantJSON[T any](t *testing.T, r response, status int) T {
	t.Helper()
	var v T
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    json.RawMessage   `json:"status"`
	Code      string            `json:"code"`
	Detail    string            `json:"detail"`
	RequestID string            `json:"request_id"`
	Params    []fn.InvalidParam `json:"invalid_params"`
	// AppStatus is the application's status, named by invalid-state conflicts.
	AppStatus string `json:"application_status"`
}

// wantProblem checks that r is an RFC 9457 problem with this status and stable code.
func wantProblem(t *testing.T, r response, status int, code string) problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d (%s); body: %s", r.Status, status, code, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body: %s", ct, r.Body)
	}
	var p problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.Body, err)
	}
	if p.Code != code {
		t.Fatalf("code = %q, want %q; body: %s", p.Code, code, r.Body)
	}
	if p.Type != "urn:jinlaiban:problem:"+code {
		t.Errorf("type = %q, want urn:jinlaiban:problem:%s", p.Type, code)
	}
	if string(p.Status) != itoa(status) {
		t.Errorf("problem member status = %s, want the HTTP status %d (RFC 9457); body: %s", p.Status, status, r.Body)
	}
	if p.Title == "" || p.Detail == "" {
		t.Errorf("problem lacks title or detail: %s", r.Body)
	}
	if p.RequestID == "" || p.RequestID != r.Header.Get("X-Request-Id") {
		t.Errorf("problem request_id = %q, X-Request-Id = %q", p.RequestID, r.Header.Get("X-Request-Id"))
	}
	return p
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// paramNames returns the sorted names of a problem's invalid_params.
func (p problem) paramNames() []string {
	var names []string
	for _, ip := range p.Params {
		if ip.Reason == "" {
			names = append(names, ip.Name+"(no reason)")
			continue
		}
		names = append(names, ip.Name)
	}
	slices.Sort(names)
	return names
}

// declaration is a complete, valid request body for POST/PUT /api/v1/apps.
func declaration() map[string]any {
	return map[string]any{
		"name":            "Citizen Parking",
		"contact_name":    "Li Lei",
		"contact_mobile":  "13912345678",
		"needs_user_info": true,
		"user_info_level": "identity",
		"description":     "Lets citizens pay for street parking from the super-app.",
	}
}

func with(d map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range d {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// declare creates a draft through the API.
func (h *harness) declare(vendor testenv.Person, d map[string]any) apps.Application {
	h.t.Helper()
	return wantJSON[apps.Application](h.t, h.post("/api/v1/apps", vendor.Token, d), http.StatusCreated)
}

func (h *harness) submit(vendor testenv.Person, id string) apps.Application {
	h.t.Helper()
	return wantJSON[apps.Application](h.t, h.post("/api/v1/apps/"+id+"/submit", vendor.Token, nil), http.StatusOK)
}

// approve decides a pending application the way the approve function does, returning the
// test secret issued.
func (h *harness) approve(id string, admin testenv.Person) (apps.Application, string) {
	h.t.Helper()
	ctx := context.Background()
	var a apps.Application
	var secret string
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) (err error) {
		a, secret, err = apps.Approve(ctx, tx, h.sealer, id, admin.ID)
		return err
	})
	if err != nil {
		h.t.Fatalf("approve %s: %v", id, err)
	}
	return a, secret
}

func (h *harness) reject(id string, admin testenv.Person, reason string) apps.Application {
	h.t.Helper()
	ctx := context.Background()
	var a apps.Application
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) (err error) {
		a, err = apps.Reject(ctx, tx, h.sealer, id, admin.ID, reason)
		return err
	})
	if err != nil {
		h.t.Fatalf("reject %s: %v", id, err)
	}
	return a
}

// approved declares, submits and approves an application of vendor.
func (h *harness) approved(vendor testenv.Person, admin testenv.Person) (apps.Application, string) {
	h.t.Helper()
	a := h.declare(vendor, declaration())
	h.submit(vendor, a.ID)
	return h.approve(a.ID, admin)
}

func (h *harness) stored(id string) apps.Application {
	h.t.Helper()
	a, err := apps.Get(context.Background(), h.pool, h.sealer, id)
	if err != nil {
		h.t.Fatalf("get %s: %v", id, err)
	}
	return a
}

func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// snapshot is every row of the tables an operation on applications may touch, as JSON.
func (h *harness) snapshot() string {
	h.t.Helper()
	var b strings.Builder
	for _, table := range []string{"applications", "app_secrets", "review_decisions", "audit_log", "outbox"} {
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
	return b.String()
}

func near(t *testing.T, what string, got *time.Time, want time.Time, slack time.Duration) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s is null, want about %s", what, want)
	}
	if d := got.Sub(want); d < -slack || d > slack {
		t.Errorf("%s = %s, want within %s of %s", what, got, slack, want)
	}
}

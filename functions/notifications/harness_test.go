package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// harness is one notifications server on its own fresh database, with two vendors and an
// administrator, and a stand-in for notify that counts nudges.
type harness struct {
	t      *testing.T
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	srv    *httptest.Server
	logs   *testenv.LogBuffer
	acme   testenv.Person
	other  testenv.Person
	admin  testenv.Person
	nudges *nudgeCounter
}

type nudgeCounter struct {
	mu    sync.Mutex
	paths []string
}

func (n *nudgeCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	n.paths = append(n.paths, r.Method+" "+r.URL.Path)
	n.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (n *nudgeCounter) got() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.paths...)
}

func newHarness(t *testing.T, allowLocal bool) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	logs := &testenv.LogBuffer{}
	nudges := &nudgeCounter{}
	notify := httptest.NewServer(nudges)
	t.Cleanup(notify.Close)
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := config{AllowHTTPLocalhost: allowLocal, NotifyURL: notify.URL}
	srv := httptest.NewServer(fn.Wrap(newServer(deps{pool: pool, sealer: sealer, sessions: &auth.Sessions{Pool: pool}, cfg: cfg,
		nudger: events.NewNudger(notify.URL + "/_/tick")}), fn.Options{Name: "notifications", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close)
	h := &harness{t: t, pool: pool, sealer: sealer, srv: srv, logs: logs, nudges: nudges,
		acme:  testenv.SignIn(t, pool, sealer, "vendor", "acme"),
		other: testenv.SignIn(t, pool, sealer, "vendor", "other"),
		admin: testenv.SignIn(t, pool, sealer, "admin", "root")}
	t.Cleanup(func() {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				t.Errorf("the server logged an error: %s", line)
			}
			if strings.Contains(line, "whsec_") {
				t.Errorf("the server logged a signing secret: %s", line)
			}
		}
	})
	return h
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (h *harness) do(method, path, token string, body any) response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func want[T any](t *testing.T, r response, status int) T {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var v T
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatalf("decoding %s: %v", r.Body, err)
		}
	}
	return v
}

type problem struct {
	Status        int    `json:"status"`
	Code          string `json:"code"`
	InvalidParams []struct {
		Name string `json:"name"`
	} `json:"invalid_params"`
}

func wantProblem(t *testing.T, r response, status int, code string) problem {
	t.Helper()
	p := want[problem](t, r, status)
	if p.Code != code || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("problem %s, want %d %s", r.Body, status, code)
	}
	return p
}

func (h *harness) exec(sql string, args ...any) {
	h.t.Helper()
	if _, err := h.pool.Exec(context.Background(), sql, args...); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

func (h *harness) message(vendor testenv.Person, title string) string {
	h.t.Helper()
	var id string
	err := h.pool.QueryRow(context.Background(), `INSERT INTO vendor_messages (vendor_id, event_source, event_id, event_type, title, body, link)
		VALUES ($1, '/functions/approve', gen_random_uuid()::text, $2, $3, '正文', '/apps/1') RETURNING id`,
		vendor.ID, events.ApplicationApproved, title).Scan(&id)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

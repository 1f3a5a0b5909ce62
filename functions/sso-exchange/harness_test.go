package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/signature"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/testenv"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The settings of every test server.
const (
	tokenTTL        = 5 * time.Minute
	signatureWindow = 5 * time.Minute
	ticketTTL       = 2 * time.Minute
)

// tokenPath is the exchange's route.
const tokenPath = "/api/v1/sso/token"

// harness is one sso-exchange server on its own fresh database, with an administrator and a
// vendor whose applications exchange tickets.
type harness struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	srv    *httptest.Server
	logs   *testenv.LogBuffer
	admin  testenv.Person
	vendor testenv.Person
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	verifier := &vendorauth.Verifier{Pool: pool, Sealer: sealer, Window: signatureWindow}
	srv := httptest.NewServer(fn.Wrap(newServer(pool, verifier, tokenTTL), fn.Options{Name: "sso-exchange", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close)
	h := &harness{pool: pool, sealer: sealer, srv: srv, logs: logs,
		admin:  testenv.SignIn(t, pool, sealer, "admin", "root"),
		vendor: testenv.SignIn(t, pool, sealer, "vendor", "acme")}
	// No request of any test may end in an internal error.
	t.Cleanup(func() {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				t.Errorf("the server logged an error: %s", line)
			}
		}
	})
	return h
}

// ---- applications, services, citizens and tickets -----------------------------------------

// application is an approved application with the secrets its vendor holds.
type application struct {
	apps.Application
	testSecret       string
	productionSecret string // once a service went live
}

// newApp declares, submits and approves an application of the harness's vendor.
func (h *harness) newApp(t *testing.T, name string) *application {
	t.Helper()
	ctx := context.Background()
	yes := true
	a, err := apps.Create(ctx, h.pool, h.sealer, h.vendor.ID, apps.Declaration{Name: name, ContactName: "Wang Fang",
		ContactMobile: "13912345678", NeedsUserInfo: &yes, UserInfoLevel: "basic",
		Description: "A business system of the vendor, declared for the tests."})
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	if _, err := apps.Submit(ctx, h.pool, h.sealer, h.vendor.ID, a.ID); err != nil {
		t.Fatalf("submit application: %v", err)
	}
	out := &application{}
	err = db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		out.Application, out.testSecret, err = apps.Approve(ctx, tx, h.sealer, a.ID, h.admin.ID)
		return err
	})
	if err != nil {
		t.Fatalf("approve application: %v", err)
	}
	if !strings.HasPrefix(out.testSecret, "test_") || out.AppCode == "" {
		t.Fatalf("approval gave appCode %q and secret %q", out.AppCode, out.testSecret)
	}
	return out
}

// service lists a service under a in testing, or takes it live (issuing the application's
// production secret) when live is true.
func (h *harness) service(t *testing.T, a *application, name string, live bool) services.Service {
	t.Helper()
	ctx := context.Background()
	var s services.Service
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		var err error
		s, err = services.Create(ctx, tx, h.vendor.ID, services.Declaration{ApplicationID: a.ID, Name: name,
			Channels: []string{"app"}, ServiceType: "query", TestURL: "https://test.gjj.example.cn/sso",
			ProductionURL: "https://gjj.example.cn/sso", Description: "住房公积金缴存信息查询，含缴存基数与余额。",
			Tags: []string{"housing-fund"}})
		if err != nil || !live {
			return err
		}
		for _, tr := range []string{"apply", "approve-listing", "request-live", "approve-live"} {
			if s, err = services.Move(ctx, tx, "", s.ID, tr, "", nil); err != nil {
				return err
			}
		}
		if a.productionSecret == "" {
			sec, err := apps.IssueSecret(ctx, tx, h.sealer, a.ID, apps.EnvProduction)
			a.productionSecret = sec.Secret
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	return s
}

// newCitizen adds a citizen to the directory.
func (h *harness) newCitizen(t *testing.T, mobile, idNumber string) citizens.Citizen {
	t.Helper()
	c, err := citizens.Create(context.Background(), h.pool, h.sealer, citizens.Citizen{Mobile: mobile, IDNumber: idNumber,
		Name: "李四", RealNameLevel: "identity"})
	if err != nil {
		t.Fatalf("create citizen: %v", err)
	}
	return c
}

// ticket issues a ticket for a citizen opening a service, as sso-ticket does once it has
// checked that the citizen may.
func (h *harness) ticket(t *testing.T, c citizens.Citizen, s services.Service) string {
	t.Helper()
	tk, err := sso.IssueTicket(context.Background(), h.pool, h.sealer, c.ID, s, ticketTTL)
	if err != nil {
		t.Fatalf("issue ticket: %v", err)
	}
	return tk.Ticket
}

// client is the vendor's SDK for an application, pointed at the server under test.
func (h *harness) client(a *application) *sdk.Client {
	return sdk.New(h.srv.URL, a.AppCode, a.testSecret, a.productionSecret)
}

// ---- raw signed requests ------------------------------------------------------------------

// exchangeBody is the body of an exchange.
func exchangeBody(ticket string) []byte {
	b, _ := json.Marshal(map[string]string{"ticket": ticket})
	return b
}

// signed builds an exchange request signed with secret for appCode, as the SDK would.
func (h *harness) signed(t *testing.T, appCode, secret string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "POST", h.srv.URL+tokenPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	signature.SignRequest(req, appCode, secret, body, time.Now())
	return req
}

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send sends req with body (set again, so one signed request can be sent more than once).
func (h *harness) send(t *testing.T, req *http.Request, body []byte) reply {
	t.Helper()
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	resp, err := h.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

// problem is an application/problem+json answer, with the members vendorauth adds.
type problem struct {
	Type               string `json:"type"`
	Title              string `json:"title"`
	Status             int    `json:"status"`
	Code               string `json:"code"`
	Detail             string `json:"detail"`
	RequestID          string `json:"request_id"`
	Header             string `json:"header"`
	StringToSign       string `json:"string_to_sign"`
	StringToSignSHA256 string `json:"string_to_sign_sha256"`
	ServerTime         int64  `json:"server_time"`
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

// token decodes a successful exchange.
func (r reply) token(t *testing.T) sdk.Token {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body: %s", r.status, r.body)
	}
	var tok sdk.Token
	if err := json.Unmarshal(r.body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("decoding token %s: %v", r.body, err)
	}
	return tok
}

// wantSDKError fails the test unless err is the platform's refusal with this status and code.
func wantSDKError(t *testing.T, err error, status int, code string) *sdk.Error {
	t.Helper()
	e, ok := err.(*sdk.Error)
	if !ok {
		t.Fatalf("error %v (%T), want the platform's %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code || e.RequestID == "" {
		t.Fatalf("error %v, want %d %s with a request id", e, status, code)
	}
	return e
}

// ---- the database -------------------------------------------------------------------------

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

// expireTicket moves a ticket's expiry into the past.
func (h *harness) expireTicket(t *testing.T, ticket string) {
	t.Helper()
	h.exec(t, `UPDATE sso_tickets SET expires_at = now() - interval '1 second' WHERE ticket_hash = $1`, auth.HashToken(ticket))
}

// dump is every row of every table of the public schema, as JSON text (bytea as hex).
func (h *harness) dump(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	rows, err := h.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables in the public schema: %v", len(tables), tables)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := h.pool.Query(ctx, `SELECT row_to_json(t)::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			b.WriteString(table + ": " + l + "\n")
		}
	}
	return b.String()
}

// noneOf fails the test if haystack holds any of the secrets, as text or as hex.
func noneOf(t *testing.T, where, haystack string, secrets map[string]string) {
	t.Helper()
	lower := strings.ToLower(haystack)
	for what, s := range secrets {
		if s == "" {
			t.Fatalf("empty secret %q: the test lost track of it", what)
		}
		if strings.Contains(haystack, s) {
			t.Errorf("%s holds the %s in plaintext", where, what)
		}
		if strings.Contains(lower, hex.EncodeToString([]byte(s))) {
			t.Errorf("%s holds the %s as hex", where, what)
		}
	}
}

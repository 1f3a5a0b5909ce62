package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// superAppToken is the super-app backend's credential on every test server.
const superAppToken = "superapp-backend-credential-0123456789abcdef"

// ticketTTL is how long the test servers' tickets live.
const ticketTTL = 2 * time.Minute

// harness is one sso-ticket server on its own fresh database, with an administrator (who
// whitelists test citizens and puts services live) and a vendor who lists services.
type harness struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	srv    *httptest.Server
	client *http.Client
	logs   *testenv.LogBuffer
	admin  testenv.Person
	vendor testenv.Person
}

// newHarness starts a server as in a test environment: citizens of the simulator sign in
// with codes from the development SMS provider.
func newHarness(t *testing.T) *harness { return newHarnessWith(t, true) }

func newHarnessWith(t *testing.T, citizenSignIn bool) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d := deps{pool: pool, sealer: sealer, cfg: config{TicketTTL: ticketTTL, SuperAppToken: superAppToken,
		CitizenSignIn: citizenSignIn, CitizenSessionTTL: 12 * time.Hour, CookieSecure: true}}
	if citizenSignIn {
		d.sms = &sms.Dev{DB: pool, Sealer: sealer}
	}
	srv := httptest.NewServer(fn.Wrap(newServer(d), fn.Options{Name: "sso-ticket", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h := &harness{pool: pool, sealer: sealer, srv: srv, client: client, logs: logs,
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

// ---- the directory, applications and services ---------------------------------------------

// citizen is a person of the super-app's directory.
type citizen struct {
	citizens.Citizen
}

// newCitizen adds a citizen with this mobile number to the directory.
func (h *harness) newCitizen(t *testing.T, mobile, idNumber string) citizen {
	t.Helper()
	c, err := citizens.Create(context.Background(), h.pool, h.sealer, citizens.Citizen{Mobile: mobile, IDNumber: idNumber,
		Name: "张三", RealNameLevel: "identity"})
	if err != nil {
		t.Fatalf("create citizen: %v", err)
	}
	return citizen{c}
}

// approvedApp declares, submits and approves an application of the harness's vendor.
func (h *harness) approvedApp(t *testing.T, name string) apps.Application {
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
	err = db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		a, _, err = apps.Approve(ctx, tx, h.sealer, a.ID, h.admin.ID)
		return err
	})
	if err != nil {
		t.Fatalf("approve application: %v", err)
	}
	return a
}

// whitelist makes a citizen a test citizen of an application.
func (h *harness) whitelist(t *testing.T, a apps.Application, c citizen) {
	t.Helper()
	if err := apps.AddTestCitizen(context.Background(), h.pool, a.ID, c.ID, h.admin.ID); err != nil {
		t.Fatalf("whitelist: %v", err)
	}
}

// The addresses every test service is opened at; each has a query of its own, which the
// redirect must keep.
const (
	testAddress       = "https://test.gjj.example.cn/sso/entry?from=jlb&lang=zh-CN"
	productionAddress = "https://gjj.example.cn/sso/entry?channel=app"
)

// pathTo lists the transitions from testing to each status, and who makes them.
var pathTo = map[string][]string{
	services.Testing:       nil,
	services.Applied:       {"apply"},
	services.Approved:      {"apply", "approve-listing"},
	services.LiveRequested: {"apply", "approve-listing", "request-live"},
	services.Live:          {"apply", "approve-listing", "request-live", "approve-live"},
	services.Offline:       {"apply", "approve-listing", "request-live", "approve-live", "take-offline"},
}

// service lists a service under a and moves it to status, as the vendor and the
// administrators would; going live also issues the application's production secret.
func (h *harness) service(t *testing.T, a apps.Application, name, status string) services.Service {
	t.Helper()
	ctx := context.Background()
	var s services.Service
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		var err error
		s, err = services.Create(ctx, tx, h.vendor.ID, services.Declaration{ApplicationID: a.ID, Name: name,
			Channels: []string{"app"}, ServiceType: "transaction", TestURL: testAddress, ProductionURL: productionAddress,
			Description: "住房公积金提取业务在线办理，支持购房、租房、退休等提取情形。", Tags: []string{"housing-fund"}})
		return err
	})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	for _, tr := range pathTo[status] {
		err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
			actor := ""
			if services.Transitions[tr].Actor == "vendor" {
				actor = h.vendor.ID
			}
			var err error
			if s, err = services.Move(ctx, tx, actor, s.ID, tr, "", nil); err != nil {
				return err
			}
			if tr == "approve-live" {
				_, err = apps.IssueSecret(ctx, tx, h.sealer, a.ID, apps.EnvProduction)
			}
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
	}
	if s.Status != status {
		t.Fatalf("service is %s, want %s", s.Status, status)
	}
	return s
}

// ---- requests -----------------------------------------------------------------------------

// option shapes a request before it is sent.
type option func(*http.Request)

// bearer authenticates with a bearer token (the super-app's credential or a citizen session).
func bearer(token string) option {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// withHeader sets a header.
func withHeader(name, value string) option {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// withCookie sends the citizen session cookie, the way a browser does (set by hand: a cookie
// jar does not send Secure cookies over http).
func withCookie(token string) option {
	return func(r *http.Request) {
		r.Header.Add("Cookie", (&http.Cookie{Name: citizens.SessionCookie, Value: token}).String())
	}
}

// superApp authenticates as the super-app's backend.
var superApp = bearer(superAppToken)

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
	cookie []*http.Cookie
}

// do sends a request; a non-nil body is sent as JSON.
func (h *harness) do(t *testing.T, method, path string, body any, opts ...option) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw, cookie: resp.Cookies()}
}

// want fails the test unless the status is the expected one.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// wantJSON checks the status and decodes the body into a T.
func wantJSON[T any](t *testing.T, r reply, status int) T {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json; body: %s", ct, r.body)
	}
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
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

// ---- the super-app's calls ----------------------------------------------------------------

// ticket is an issued ticket as the super-app's backend receives it.
type ticket struct {
	Ticket      string    `json:"ticket"`
	Environment string    `json:"environment"`
	RedirectURL string    `json:"redirect_url"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// askTicket is the super-app backend's call for a citizen opening a service.
func (h *harness) askTicket(t *testing.T, citizenID, moduleCode string, opts ...option) reply {
	t.Helper()
	return h.do(t, "POST", "/api/v1/sso/tickets", map[string]string{"citizen_id": citizenID, "module_code": moduleCode},
		append([]option{superApp}, opts...)...)
}

// issue asks for a ticket and expects one.
func (h *harness) issue(t *testing.T, c citizen, s services.Service) ticket {
	t.Helper()
	return wantJSON[ticket](t, h.askTicket(t, c.ID, s.ModuleCode), http.StatusCreated)
}

// ---- the simulator's citizens -------------------------------------------------------------

// loginCode asks for a code for mobile and returns the code the development SMS provider
// recorded.
func (h *harness) loginCode(t *testing.T, mobile string) string {
	t.Helper()
	h.do(t, "POST", "/api/v1/citizen/login-code", map[string]string{"mobile": mobile}).want(t, http.StatusAccepted)
	return h.lastCode(t, mobile)
}

// lastCode reads the newest code texted to mobile.
func (h *harness) lastCode(t *testing.T, mobile string) string {
	t.Helper()
	msgs, err := sms.DevInbox(context.Background(), h.pool, h.sealer, mobile, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 || len(msgs[0].Params["code"]) != 6 {
		t.Fatalf("no login code was texted to %s: %+v", mobile, msgs)
	}
	return msgs[0].Params["code"]
}

// wrongCode is a six-digit code that is not code.
func wrongCode(code string) string {
	var n int
	fmt.Sscanf(code, "%d", &n)
	return fmt.Sprintf("%06d", (n+1)%1000000)
}

// session is a signed-in citizen of the simulator.
type session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	CitizenID string    `json:"citizen_id"`
}

// signIn signs a citizen in with a fresh code.
func (h *harness) signIn(t *testing.T, c citizen) session {
	t.Helper()
	code := h.loginCode(t, c.Mobile)
	return wantJSON[session](t, h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": code}),
		http.StatusCreated)
}

// newCitizenSession signs a citizen in directly, for tests not about signing in.
func (h *harness) newCitizenSession(t *testing.T, c citizen) string {
	t.Helper()
	token, _, err := citizens.NewSession(context.Background(), h.pool, c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// ---- the database -------------------------------------------------------------------------

// exec runs SQL on the test database.
func (h *harness) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := h.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
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

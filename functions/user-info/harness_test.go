package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
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
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
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
	faceURLTTL      = time.Minute
)

const userInfoPath = "/api/v1/sso/userinfo"

// harness is the user-info server on its own fresh database and bucket. A vendor's backend
// reaches the platform at one gateway address, so the server shares it with a stand-in for
// sso-exchange (another module's command, which a test here cannot import): what that
// function's handler does, a signed request verified by vendorauth and sso.Exchange.
type harness struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	store  *bucket.Store
	srv    *httptest.Server
	logs   *testenv.LogBuffer
	admin  testenv.Person
	vendor testenv.Person
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	store := testenv.Store(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	verifier := &vendorauth.Verifier{Pool: pool, Sealer: sealer, Window: signatureWindow}
	gateway := http.NewServeMux()
	gateway.Handle(userInfoPath, newServer(deps{pool: pool, sealer: sealer, store: store.Presigner, verifier: verifier,
		cfg: config{FaceURLTTL: faceURLTTL}}))
	gateway.Handle("/api/v1/sso/token", exchangeStandIn(pool, sealer, verifier))
	srv := httptest.NewServer(fn.Wrap(gateway, fn.Options{Name: "user-info", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close)
	h := &harness{pool: pool, sealer: sealer, store: store, srv: srv, logs: logs,
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

type exchangeRequest struct {
	Ticket string `json:"ticket"`
}

// exchangeStandIn is sso-exchange's operation.
func exchangeStandIn(pool *pgxpool.Pool, sealer *seal.Sealer, verifier *vendorauth.Verifier) http.Handler {
	r := fn.NewRouter()
	r.Handle("POST /api/v1/sso/token", verifier.Guard(func(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
		req, err := fn.Decode[exchangeRequest](r)
		if err != nil {
			return err
		}
		tok, err := sso.Exchange(r.Context(), pool, sealer, c.AppID, c.Environment, req.Ticket, tokenTTL)
		if err != nil {
			return err
		}
		return fn.JSON(w, http.StatusOK, tok)
	}))
	return r
}

// ---- applications, services and citizens --------------------------------------------------

// application is an approved application with its service and the secrets its vendor holds.
type application struct {
	apps.Application
	testSecret       string
	productionSecret string
	service          services.Service // in testing
	live             services.Service // set by goLive
}

// newApp approves an application at a user-info level ("" for none) with one service in
// testing.
func (h *harness) newApp(t *testing.T, name, level string) *application {
	t.Helper()
	ctx := context.Background()
	needs := level != ""
	a, err := apps.Create(ctx, h.pool, h.sealer, h.vendor.ID, apps.Declaration{Name: name, ContactName: "Wang Fang",
		ContactMobile: "13912345678", NeedsUserInfo: &needs, UserInfoLevel: level,
		Description: "A business system of the vendor, declared for the tests."})
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	if _, err := apps.Submit(ctx, h.pool, h.sealer, h.vendor.ID, a.ID); err != nil {
		t.Fatalf("submit application: %v", err)
	}
	out := &application{}
	err = db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		if out.Application, out.testSecret, err = apps.Approve(ctx, tx, h.sealer, a.ID, h.admin.ID); err != nil {
			return err
		}
		out.service, err = services.Create(ctx, tx, h.vendor.ID, h.declaration(a.ID, name+"查询"))
		return err
	})
	if err != nil {
		t.Fatalf("approve application: %v", err)
	}
	return out
}

func (h *harness) declaration(appID, name string) services.Declaration {
	return services.Declaration{ApplicationID: appID, Name: name, Channels: []string{"app"}, ServiceType: "query",
		TestURL: "https://test.vendor.example.cn/sso", ProductionURL: "https://vendor.example.cn/sso",
		Description: "缴存、余额与提取记录的在线查询服务。", Tags: []string{"housing-fund"}}
}

// goLive lists a second service of a and takes it live, issuing the production secret.
func (h *harness) goLive(t *testing.T, a *application) {
	t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		s, err := services.Create(ctx, tx, h.vendor.ID, h.declaration(a.ID, a.Name+"办理"))
		if err != nil {
			return err
		}
		for _, tr := range []string{"apply", "approve-listing", "request-live", "approve-live"} {
			if s, err = services.Move(ctx, tx, "", s.ID, tr, "", nil); err != nil {
				return err
			}
		}
		a.live = s
		sec, err := apps.IssueSecret(ctx, tx, h.sealer, a.ID, apps.EnvProduction)
		a.productionSecret = sec.Secret
		return err
	})
	if err != nil {
		t.Fatalf("go live: %v", err)
	}
}

// facePNG is a small face image.
func facePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 0xf2, G: 0xc9, B: 0x9e, A: 0xff})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// person is a citizen of the directory and their face image, if any.
type person struct {
	citizens.Citizen
	face []byte
}

// newCitizen adds a real-name verified citizen, with a face image in the bucket.
func (h *harness) newCitizen(t *testing.T, mobile, idNumber string) person {
	t.Helper()
	ctx := context.Background()
	p := person{face: facePNG(t)}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	key := "citizens/faces/" + hex.EncodeToString(b) + ".png"
	if err := h.store.Put(ctx, key, "image/png", p.face); err != nil {
		t.Fatal(err)
	}
	c, err := citizens.Create(ctx, h.pool, h.sealer, citizens.Citizen{Mobile: mobile, IDNumber: idNumber, Name: "王五",
		FaceImageKey: key, RealNameLevel: "real_name"})
	if err != nil {
		t.Fatalf("create citizen: %v", err)
	}
	p.Citizen = c
	return p
}

// ---- single sign-on -----------------------------------------------------------------------

// client is the vendor's SDK for an application, pointed at the gateway of the test.
func (h *harness) client(a *application) *sdk.Client {
	return sdk.New(h.srv.URL, a.AppCode, a.testSecret, a.productionSecret)
}

// issue issues a ticket for a citizen opening s.
func (h *harness) issue(t *testing.T, c person, s services.Service) string {
	t.Helper()
	tk, err := sso.IssueTicket(context.Background(), h.pool, h.sealer, c.ID, s, 2*time.Minute)
	if err != nil {
		t.Fatalf("issue ticket: %v", err)
	}
	return tk.Ticket
}

// signIn is a citizen opening the application's service in testing: a ticket, exchanged by
// the vendor's backend.
func (h *harness) signIn(t *testing.T, a *application, c person) *sdk.Token {
	t.Helper()
	tok, err := h.client(a).ExchangeTicket(context.Background(), h.issue(t, c, a.service))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// userInfo asks for the citizen behind token in a request signed for appCode with secret;
// authorization is the whole Authorization header ("" for none).
func (h *harness) userInfo(t *testing.T, appCode, secret, authorization string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", h.srv.URL+userInfoPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	signature.SignRequest(req, appCode, secret, nil, time.Now())
	resp, err := http.DefaultClient.Do(req)
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

// userInfoOf is the application's test-environment call for token.
func (h *harness) userInfoOf(t *testing.T, a *application, token string) reply {
	t.Helper()
	return h.userInfo(t, a.AppCode, a.testSecret, "Bearer "+token)
}

// fields decodes a successful answer into its raw members.
func (r reply) fields(t *testing.T) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body: %s", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return m
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
	return p
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

// auditRow is a citizen.read entry of the audit log.
type auditRow struct {
	ActorID   string
	ActorRole string
	SubjectID string
	Detail    map[string]any
	RequestID string
}

// reads lists the audit log's citizen.read entries, oldest first.
func (h *harness) reads(t *testing.T) []auditRow {
	t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT coalesce(actor_id::text, ''), actor_role, subject_id, detail,
		coalesce(request_id, '') FROM audit_log WHERE action = 'citizen.read' AND subject_type = 'citizen' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (auditRow, error) {
		var a auditRow
		err := row.Scan(&a.ActorID, &a.ActorRole, &a.SubjectID, &a.Detail, &a.RequestID)
		return a, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/testenv"
	"github.com/jinlaiban/openplatform/shared/webhooks"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	vendorMobile = "13800138000" // testenv.SignIn's contact mobile
	smsTemplate  = "SMS_200000001"
)

// harness is one notify server on its own fresh database, with a vendor, and the
// development SMS provider (or a stand-in) recording into the database.
type harness struct {
	t      *testing.T
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	srv    *httptest.Server
	logs   *testenv.LogBuffer
	vendor string
	cfg    config
	sms    *flakySMS
	// errorsExpected: the test provokes answers the access log records at ERROR (503).
	errorsExpected bool
}

func testConfig() config {
	return config{SMSTemplate: smsTemplate, SMSMaxAttempts: 3, WebhookTimeout: 2 * time.Second, WebhookMaxAttempts: 3,
		RetryBase: time.Minute, RetryMax: time.Hour, TickBudget: 10 * time.Second, AllowHTTPLocalhost: true}
}

func newHarness(t *testing.T, tweak ...func(*config)) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	cfg := testConfig()
	for _, f := range tweak {
		f(&cfg)
	}
	h := &harness{t: t, pool: pool, sealer: sealer, logs: &testenv.LogBuffer{}, cfg: cfg,
		sms: &flakySMS{dev: &sms.Dev{DB: pool, Sealer: sealer}}}
	h.srv = h.serve(pool)
	h.vendor = testenv.SignIn(t, pool, sealer, "vendor", "acme").ID
	t.Cleanup(func() {
		for _, line := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) && !h.errorsExpected {
				t.Errorf("the server logged an error: %s", line)
			}
			if strings.Contains(line, vendorMobile) {
				t.Errorf("the server logged the vendor's mobile: %s", line)
			}
		}
	})
	return h
}

// serve starts a notify server on pool.
func (h *harness) serve(pool *pgxpool.Pool) *httptest.Server {
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(fn.Wrap(newServer(deps{pool: pool, sealer: h.sealer, sms: h.sms, signName: "晋来办", cfg: h.cfg}),
		fn.Options{Name: "notify", MaxBodyBytes: 64 << 10, Logger: logger}))
	h.t.Cleanup(srv.Close)
	return srv
}

// flakySMS is the development provider, failing the next `fail` sends first.
type flakySMS struct {
	mu    sync.Mutex
	fail  int
	dev   *sms.Dev
	calls int
}

func (f *flakySMS) Send(ctx context.Context, m sms.Message) (string, error) {
	f.mu.Lock()
	f.calls++
	failing := f.fail > 0
	if failing {
		f.fail--
	}
	f.mu.Unlock()
	if failing {
		return "", fmt.Errorf("provider busy (number %s)", m.To)
	}
	return f.dev.Send(ctx, m)
}

// ---- events -------------------------------------------------------------------------------

// decision is an application decision event for the harness's vendor.
func (h *harness) decision(typ string) cloudevents.Event {
	d := events.ApplicationDecision{ApplicationID: uuid.NewString(), Name: "公积金查询", VendorID: h.vendor,
		Decision: "approved", AppCode: "0123456789abcdef0123456789abcd", DecidedAt: "2025-03-01T08:00:00Z"}
	if typ == events.ApplicationRejected {
		d.Decision, d.Reason, d.AppCode = "rejected", "请补充应用用途说明", ""
	}
	return h.event(typ, "applications/"+d.ApplicationID, d)
}

func (h *harness) event(typ, subject string, data any) cloudevents.Event {
	ev := cloudevents.NewEvent()
	ev.SetID(uuid.NewString())
	ev.SetSource("/functions/approve")
	ev.SetType(typ)
	ev.SetSubject(subject)
	ev.SetTime(time.Now())
	if err := ev.SetData(cloudevents.ApplicationJSON, data); err != nil {
		h.t.Fatal(err)
	}
	return ev
}

type reply struct {
	status int
	body   []byte
}

// deliver posts ev to notify as the broker does (binary mode).
func (h *harness) deliver(ev cloudevents.Event) reply {
	h.t.Helper()
	r, err := h.tryDeliver(h.srv.URL, ev)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) tryDeliver(url string, ev cloudevents.Event) (reply, error) {
	req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), url+"/", ev)
	if err != nil {
		return reply{}, err
	}
	return do(req)
}

func (h *harness) post(path, contentType string, header http.Header, body string) reply {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	r, err := do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func do(req *http.Request) (reply, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: b}, err
}

func (r reply) want(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if status == http.StatusOK && len(r.body) != 0 {
		t.Fatalf("a handled event must be answered with an empty body (the broker takes a body for a reply event): %s", r.body)
	}
}

// ---- the database -------------------------------------------------------------------------

func (h *harness) count(sql string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (h *harness) exec(sql string, args ...any) {
	h.t.Helper()
	if _, err := h.pool.Exec(context.Background(), sql, args...); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// devSMS is what the development provider recorded for the vendor's mobile.
func (h *harness) devSMS() []sms.DevMessage {
	h.t.Helper()
	msgs, err := sms.DevInbox(context.Background(), h.pool, h.sealer, vendorMobile, 100)
	if err != nil {
		h.t.Fatal(err)
	}
	return msgs
}

// endpoint registers a webhook endpoint for the vendor and returns its secret.
func (h *harness) endpoint(url string) (id, secret string) {
	h.t.Helper()
	secret = webhooks.NewSecret()
	err := h.pool.QueryRow(context.Background(), `INSERT INTO webhook_endpoints (vendor_id, url, secret) VALUES ($1, $2, $3) RETURNING id`,
		h.vendor, url, h.sealer.SealString(webhooks.SecretPurpose, secret)).Scan(&id)
	if err != nil {
		h.t.Fatal(err)
	}
	return id, secret
}

type delivery struct {
	status     string
	attempts   int
	code       *int
	lastError  *string
	next       time.Time
	eventID    string
	endpointID string
}

func (h *harness) deliveries() []delivery {
	h.t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT status, attempts, last_status_code, last_error, next_attempt_at, event_id, endpoint_id
		FROM webhook_deliveries ORDER BY created_at, id`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []delivery
	for rows.Next() {
		var d delivery
		if err := rows.Scan(&d.status, &d.attempts, &d.code, &d.lastError, &d.next, &d.eventID, &d.endpointID); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// tick runs the periodic tick through the plain POST the OpenFaaS cron connector makes.
func (h *harness) tick() tickResult {
	h.t.Helper()
	r := h.post("/_/tick", "", nil, "")
	if r.status != http.StatusOK {
		h.t.Fatalf("tick: %d %s", r.status, r.body)
	}
	var res tickResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		h.t.Fatal(err)
	}
	return res
}

// receiver is a vendor's webhook endpoint: it verifies each delivery with the secret, as
// the Standard Webhooks library does, and answers with status.
type receiver struct {
	mu       sync.Mutex
	secret   string
	status   []int // answers in turn; the last one repeats
	got      []received
	verified int
	srv      *httptest.Server
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, status ...int) *receiver {
	if len(status) == 0 {
		status = []int{http.StatusNoContent}
	}
	rc := &receiver{status: status}
	rc.srv = httptest.NewServer(rc)
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
	if rc.secret != "" && webhooks.Verify(rc.secret, body, r.Header) == nil {
		rc.verified++
	}
	status := rc.status[0]
	if len(rc.status) > 1 {
		rc.status = rc.status[1:]
	}
	w.WriteHeader(status)
}

func (rc *receiver) deliveries() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

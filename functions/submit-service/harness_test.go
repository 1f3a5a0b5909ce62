package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
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
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// downloadTTL is how long the download links of every test server live.
const downloadTTL = 5 * time.Minute

// harness is one submit-service server on its own fresh database and its own bucket, with a
// signed-in administrator (who approves applications and listings) and a vendor.
type harness struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	store  *bucket.Store
	srv    *httptest.Server
	client *http.Client
	logs   *testenv.LogBuffer
	admin  testenv.Person
	vendor testenv.Person
}

// newHarness starts a server as deployed: http://localhost addresses are refused.
func newHarness(t *testing.T) *harness { return newHarnessWith(t, false) }

func newHarnessWith(t *testing.T, allowHTTPLocalhost bool) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	store := testenv.Store(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	handler := newServer(pool, store, &auth.Sessions{Pool: pool},
		config{AllowHTTPLocalhost: allowHTTPLocalhost, DownloadTTL: downloadTTL})
	srv := httptest.NewServer(fn.Wrap(handler, fn.Options{Name: "submit-service", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close)
	h := &harness{pool: pool, sealer: sealer, store: store, srv: srv, client: srv.Client(), logs: logs,
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

// newVendor signs in another vendor.
func (h *harness) newVendor(t *testing.T, login string) testenv.Person {
	t.Helper()
	return testenv.SignIn(t, h.pool, h.sealer, "vendor", login)
}

// ---- applications -------------------------------------------------------------------------

func appDeclaration(name string) apps.Declaration {
	no := false
	return apps.Declaration{Name: name, ContactName: "Wang Fang", ContactMobile: "13912345678", NeedsUserInfo: &no,
		Description: "A business system of the vendor, declared for the tests."}
}

// app makes an application of vendor in the given status (draft, pending, approved, rejected).
func (h *harness) app(t *testing.T, vendor testenv.Person, name, status string) apps.Application {
	t.Helper()
	ctx := context.Background()
	a, err := apps.Create(ctx, h.pool, h.sealer, vendor.ID, appDeclaration(name))
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	if status == apps.Draft {
		return a
	}
	if a, err = apps.Submit(ctx, h.pool, h.sealer, vendor.ID, a.ID); err != nil {
		t.Fatalf("submit application: %v", err)
	}
	err = db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		switch status {
		case apps.Approved:
			a, _, err = apps.Approve(ctx, tx, h.sealer, a.ID, h.admin.ID)
		case apps.Rejected:
			a, err = apps.Reject(ctx, tx, h.sealer, a.ID, h.admin.ID, "The description is too short.")
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s application: %v", status, err)
	}
	if a.Status != status {
		t.Fatalf("application is %s, want %s", a.Status, status)
	}
	return a
}

// approvedApp makes an approved application of vendor.
func (h *harness) approvedApp(t *testing.T, vendor testenv.Person, name string) apps.Application {
	t.Helper()
	return h.app(t, vendor, name, apps.Approved)
}

// ---- requests -----------------------------------------------------------------------------

// option shapes a request before it is sent.
type option func(*http.Request)

// bearer authenticates like an API client.
func bearer(token string) option {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// withHeader sets a header, or removes it when value is empty.
func withHeader(name, value string) option {
	return func(r *http.Request) {
		if value == "" {
			r.Header.Del(name)
		} else {
			r.Header.Set(name, value)
		}
	}
}

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
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
	target := path
	if !strings.HasPrefix(path, "http") {
		target = h.srv.URL + path
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// as sends a request as a signed-in person.
func (h *harness) as(t *testing.T, who testenv.Person, method, path string, body any, opts ...option) reply {
	t.Helper()
	return h.do(t, method, path, body, append([]option{bearer(who.Token)}, opts...)...)
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
}

func (p problem) paramNames() []string {
	names := []string{}
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

// ---- services -----------------------------------------------------------------------------

// service is a service as the API shows it.
type service struct {
	ID          string `json:"id"`
	Application struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		AppCode string `json:"app_code"`
		Status  string `json:"status"`
	} `json:"application"`
	VendorID           string   `json:"vendor_id"`
	Name               string   `json:"name"`
	Channels           []string `json:"channels"`
	ServiceType        string   `json:"service_type"`
	ModuleCallbackCode string   `json:"module_callback_code"`
	ModuleCode         string   `json:"module_code"`
	TestURL            string   `json:"test_url"`
	ProductionURL      string   `json:"production_url"`
	Description        string   `json:"description"`
	Tags               []string `json:"tags"`
	Logo               struct {
		Attached bool `json:"attached"`
	} `json:"logo"`
	Reports struct {
		Functional report `json:"functional"`
		Security   report `json:"security"`
	} `json:"reports"`
	Status          string     `json:"status"`
	StatusReason    string     `json:"status_reason"`
	NextAction      string     `json:"next_action"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	AppliedAt       *time.Time `json:"applied_at"`
	LiveRequestedAt *time.Time `json:"live_requested_at"`
	LiveAt          *time.Time `json:"live_at"`
}

type report struct {
	Attached      bool  `json:"attached"`
	Size          int64 `json:"size"`
	ToBeCompleted bool  `json:"to_be_completed"`
}

type servicePage struct {
	Items    []service `json:"items"`
	Total    int       `json:"total"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
}

// moduleCodeRE is the platform-wide service code: MC and 10 characters of an alphabet
// without look-alikes (no I, O, 0, 1).
var moduleCodeRE = regexp.MustCompile(`^MC[A-HJ-NP-Z2-9]{10}$`)

// form is a service declaration as a vendor sends it.
type form struct {
	ApplicationID      string   `json:"application_id"`
	Name               string   `json:"name"`
	Channels           []string `json:"channels"`
	ServiceType        string   `json:"service_type"`
	ModuleCallbackCode string   `json:"module_callback_code,omitempty"`
	TestURL            string   `json:"test_url"`
	ProductionURL      string   `json:"production_url,omitempty"`
	Description        string   `json:"description"`
	Tags               []string `json:"tags"`
}

// newForm is a complete, valid declaration without a callback code or production address.
func newForm(appID, name string) form {
	return form{ApplicationID: appID, Name: name, Channels: []string{"app", "wechat"}, ServiceType: "transaction",
		TestURL:     "https://test.gjj.example.cn/extract",
		Description: "住房公积金提取业务在线办理，支持购房、租房、退休等提取情形。",
		Tags:        []string{"housing-fund"}}
}

func servicePath(id string, rest ...string) string {
	return "/api/v1/services/" + id + strings.Join(rest, "")
}

// create declares a service and expects it to be created.
func (h *harness) create(t *testing.T, who testenv.Person, f form) service {
	t.Helper()
	r := h.as(t, who, "POST", "/api/v1/services", f)
	s := wantJSON[service](t, r, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != servicePath(s.ID) {
		t.Errorf("Location %q, want %q", loc, servicePath(s.ID))
	}
	return s
}

// newService creates a service of h.vendor in a fresh approved application.
func (h *harness) newService(t *testing.T, name string) service {
	t.Helper()
	a := h.approvedApp(t, h.vendor, name+" system")
	return h.create(t, h.vendor, newForm(a.ID, name))
}

// get reads a service as its owner.
func (h *harness) get(t *testing.T, who testenv.Person, id string) service {
	t.Helper()
	return wantJSON[service](t, h.as(t, who, "GET", servicePath(id), nil), http.StatusOK)
}

// row is a services row as stored, for checking that a refused request changed nothing.
func (h *harness) row(t *testing.T, id string) string {
	t.Helper()
	return scalar[string](t, h, `SELECT row_to_json(s)::text FROM services s WHERE id = $1`, id)
}

// unchanged fails the test if the services row differs from before.
func (h *harness) unchanged(t *testing.T, id, before string) {
	t.Helper()
	if after := h.row(t, id); after != before {
		t.Errorf("a refused request changed the service:\nbefore: %s\nafter:  %s", before, after)
	}
}

// advance makes administrator transitions (approve-listing, approve-live, …) on a service.
func (h *harness) advance(t *testing.T, id string, transitions ...string) {
	t.Helper()
	ctx := context.Background()
	for _, tr := range transitions {
		err := db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
			_, err := services.Move(ctx, tx, "", id, tr, "", nil)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
	}
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

// ---- uploads ------------------------------------------------------------------------------

// uploadForm asks to upload one file.
type uploadForm struct {
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Filename    string `json:"filename"`
}

// ticket is a started upload.
type ticket struct {
	UploadID    string            `json:"upload_id"`
	URL         string            `json:"url"`
	Method      string            `json:"method"`
	Headers     map[string]string `json:"headers"`
	ExpiresAt   time.Time         `json:"expires_at"`
	CompleteURL string            `json:"complete_url"`
}

// file is a file a vendor uploads.
type file struct {
	kind, contentType, filename string
	body                        []byte
}

func (f file) form() uploadForm {
	return uploadForm{Kind: f.kind, ContentType: f.contentType, Size: int64(len(f.body)), Filename: f.filename}
}

// start asks for an upload and expects a ticket.
func (h *harness) start(t *testing.T, who testenv.Person, serviceID string, u uploadForm) ticket {
	t.Helper()
	tk := wantJSON[ticket](t, h.as(t, who, "POST", servicePath(serviceID, "/uploads"), u), http.StatusCreated)
	if tk.Method != http.MethodPut || tk.URL == "" || tk.CompleteURL != servicePath(serviceID, "/uploads/", tk.UploadID, "/complete") {
		t.Fatalf("ticket %+v: want a PUT URL and the complete URL of upload %s", tk, tk.UploadID)
	}
	return tk
}

// put sends bytes to a presigned upload URL the way a browser does: straight to the object
// store, with the headers the ticket lists.
func (h *harness) put(t *testing.T, tk ticket, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), tk.Method, tk.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range tk.Headers {
		req.Header.Set(name, v) // Content-Length is taken from the body by net/http
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT to the object store: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT to the object store: %d %s", resp.StatusCode, raw)
	}
}

// complete asks the server to check and attach an upload.
func (h *harness) complete(t *testing.T, who testenv.Person, tk ticket) reply {
	t.Helper()
	return h.as(t, who, "POST", tk.CompleteURL, nil)
}

// attach uploads a file for real (start, PUT, complete) and expects it attached.
func (h *harness) attach(t *testing.T, who testenv.Person, serviceID string, f file) service {
	t.Helper()
	tk := h.start(t, who, serviceID, f.form())
	h.put(t, tk, f.body)
	return wantJSON[service](t, h.complete(t, who, tk), http.StatusOK)
}

// key is the object key the server chose for an upload.
func (h *harness) key(t *testing.T, uploadID string) string {
	t.Helper()
	return scalar[string](t, h, `SELECT object_key FROM uploads WHERE id = $1`, uploadID)
}

// stored reports whether the bucket holds an object under key.
func (h *harness) stored(t *testing.T, key string) bool {
	t.Helper()
	_, err := h.store.Head(context.Background(), key)
	switch {
	case err == nil:
		return true
	case err == objstore.ErrNotFound:
		return false
	}
	t.Fatalf("Head %s: %v", key, err)
	return false
}

// fetch GETs a URL outside the API (a presigned download) and returns the answer.
func fetch(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// ---- sample files -------------------------------------------------------------------------

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const svgLogo = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <circle cx="32" cy="32" r="30" fill="#c00"/><text x="16" y="40">晋</text>
</svg>`

func pdfBytes() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

func docBytes() []byte {
	return append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, bytes.Repeat([]byte{0}, 504)...)
}

// zipBytes builds a real ZIP archive (a DOCX is one too).
func zipBytes(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func docxBytes(t *testing.T) []byte {
	return zipBytes(t, map[string]string{"[Content_Types].xml": `<?xml version="1.0"?><Types/>`,
		"word/document.xml": `<?xml version="1.0"?><w:document/>`})
}

const (
	ctPDF  = "application/pdf"
	ctDOC  = "application/msword"
	ctDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	ctZIP  = "application/zip"
	ctPNG  = "image/png"
	ctJPEG = "image/jpeg"
	ctSVG  = "image/svg+xml"
)

func logoPNG(t *testing.T) file {
	return file{kind: "logo", contentType: ctPNG, filename: "logo.png", body: pngBytes(t)}
}

func functionalPDF() file {
	return file{kind: "functional_report", contentType: ctPDF, filename: "功能测试报告.pdf", body: pdfBytes()}
}

func securityPDF() file {
	return file{kind: "security_report", contentType: ctPDF, filename: "安全测试报告.pdf", body: pdfBytes()}
}

// emptyReport is a placeholder report "to be completed" before going live.
func emptyReport(kind string) file {
	return file{kind: kind, contentType: ctPDF, filename: "to-follow.pdf", body: []byte{}}
}

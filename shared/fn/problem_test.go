package fn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jinlaiban/openplatform/shared/fn"
)

func TestProblemCarriesTitleForItsStatus(t *testing.T) {
	t.Parallel()
	p := fn.Errorf(http.StatusConflict, fn.CodeConflict, "This application was already submitted.")
	if p.Title != "Conflict" || p.Status != 409 || p.Code != "conflict" {
		t.Fatalf("problem = %+v", p)
	}
	if got := p.Error(); got != "conflict: This application was already submitted." {
		t.Fatalf("Error() = %q", got)
	}
	if nf := fn.NotFound("Application"); nf.Status != 404 || nf.Code != fn.CodeNotFound || nf.Detail != "Application not found." {
		t.Fatalf("NotFound = %+v", nf)
	}
}

func TestInvalidListsFieldsSortedByName(t *testing.T) {
	t.Parallel()
	p := fn.Invalid(map[string]string{"mobile": "is required", "address": "too long", "name": "is required", "id_card": "bad checksum"})
	if p.Status != 422 || p.Code != fn.CodeInvalid {
		t.Fatalf("problem = %+v", p)
	}
	var names []string
	for _, ip := range p.Params {
		names = append(names, ip.Name)
	}
	if got := strings.Join(names, ","); got != "address,id_card,mobile,name" {
		t.Fatalf("invalid_params order = %s", got)
	}
	if p.Params[1].Reason != "bad checksum" {
		t.Fatalf("reason not kept with its field: %+v", p.Params)
	}
}

func TestWriteProblemAnswersProblemJSONWithRequestIDAndRetryAfter(t *testing.T) {
	t.Parallel()
	h, _ := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := fn.Errorf(http.StatusTooManyRequests, fn.CodeRateLimited, "Too many sign-in attempts.")
		p.RetryAfter = 1500 * time.Millisecond
		p.Params = []fn.InvalidParam{{Name: "login", Reason: "locked"}}
		fn.WriteProblem(w, r, p)
	}), 0)
	r := httptest.NewRequest(http.MethodPost, "/api/v1/sessions", nil)
	r.Header.Set("X-Request-Id", "req-12345678")
	res := serve(h, r)
	p := readProblem(t, res, http.StatusTooManyRequests, fn.CodeRateLimited)
	if p.Title != "Too many requests" || p.Detail != "Too many sign-in attempts." || p.RequestID != "req-12345678" {
		t.Fatalf("problem body = %+v", p)
	}
	if len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != "login" {
		t.Fatalf("invalid_params = %+v", p.InvalidParams)
	}
	if got := res.Header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2 (whole seconds, rounded up)", got)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("Cache-Control = %q, want no-store", got)
	}
}

func TestWriteProblemOmitsEmptyPartsAndAddsExtraMembers(t *testing.T) {
	t.Parallel()
	p := fn.Errorf(http.StatusForbidden, "password-change-required", "")
	p.Extra = map[string]any{"change_url": "/api/v1/password"}
	rec := httptest.NewRecorder()
	fn.WriteProblem(rec, httptest.NewRequest(http.MethodGet, "/", nil), p)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"detail", "invalid_params", "request_id"} {
		if _, ok := body[absent]; ok {
			t.Errorf("body has %q although it is empty: %s", absent, rec.Body)
		}
	}
	if body["change_url"] != "/api/v1/password" || body["code"] != "password-change-required" || body["status"] != float64(403) {
		t.Fatalf("body = %s", rec.Body)
	}
	if rec.Header().Get("Retry-After") != "" {
		t.Fatalf("Retry-After set without RetryAfter")
	}
}

func TestJSONAnswersWithStatusAndNoStore(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	if err := fn.JSON(rec, http.StatusCreated, map[string]string{"id": "42"}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 201 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" ||
		rec.Header().Get("Cache-Control") != "no-store" || strings.TrimSpace(rec.Body.String()) != `{"id":"42"}` {
		t.Fatalf("got %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

// connectError makes a real *pgconn.ConnectError by dialling a port nobody listens on.
func connectError(t *testing.T) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = pgconn.Connect(ctx, fmt.Sprintf("postgres://citizen:pw@127.0.0.1:%d/openplatform?sslmode=disable&connect_timeout=3", addr.Port))
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("dialling a closed port gave %T %v, want *pgconn.ConnectError", err, err)
	}
	return err
}

func TestWriteErrorAnswers503WhenTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	cases := map[string]error{
		"pgconn connect error": connectError(t),
		"net.OpError":          fmt.Errorf("query applications: %w", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}),
		"deadline exceeded":    fmt.Errorf("list vendors: %w", context.DeadlineExceeded),
		"server shutting down": &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"},
		"too many connections": &pgconn.PgError{Code: "53300", Message: "too many connections"},
		"connection lost":      &pgconn.PgError{Code: "08006"},
		"unexpected EOF":       fmt.Errorf("scan: %w", io.ErrUnexpectedEOF),
		"closed pool":          errors.New("closed pool"),
	}
	for name, cause := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if !fn.Unavailable(cause) {
				t.Fatalf("Unavailable(%v) = false", cause)
			}
			h, log := wrapped(fn.Handle(func(w http.ResponseWriter, r *http.Request) error { return cause }), 0)
			res := serve(h, httptest.NewRequest(http.MethodGet, "/api/v1/applications", nil))
			p := readProblem(t, res, http.StatusServiceUnavailable, fn.CodeUnavailable)
			if res.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After on a 503")
			}
			if p.RequestID == "" {
				t.Error("no request_id in the problem")
			}
			if !strings.Contains(log.String(), "dependency unavailable") {
				t.Errorf("outage not logged:\n%s", log)
			}
		})
	}
}

func TestWriteErrorHidesAnInternalErrorButLogsIt(t *testing.T) {
	t.Parallel()
	cause := errors.New(`relation "secret_citizen_table" does not exist`)
	h, log := wrapped(fn.Handle(func(w http.ResponseWriter, r *http.Request) error { return cause }), 0)
	res := serve(h, httptest.NewRequest(http.MethodGet, "/api/v1/applications", nil))
	raw, _ := io.ReadAll(res.Body)
	if strings.Contains(string(raw), "secret_citizen_table") {
		t.Fatalf("the error text leaked to the caller: %s", raw)
	}
	res.Body = io.NopCloser(strings.NewReader(string(raw)))
	readProblem(t, res, http.StatusInternalServerError, fn.CodeInternal)
	if res.Header.Get("Retry-After") != "" {
		t.Error("a bug should not invite a retry")
	}
	if !strings.Contains(log.String(), "secret_citizen_table") {
		t.Fatalf("the error was not logged:\n%s", log)
	}
	if fn.Unavailable(cause) {
		t.Fatal("a plain error counts as an outage")
	}
}

func TestWriteErrorTreatsDataErrorsAsBugsNotOutages(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&pgconn.PgError{Code: "23505", ConstraintName: "apps_name_key"},
		&pgconn.PgError{Code: "42P01"},
		&pgconn.PgError{}, // no SQLSTATE at all must not panic
		&pgconn.PgError{Code: "5"},
		nil,
	} {
		if fn.Unavailable(err) {
			t.Errorf("Unavailable(%#v) = true", err)
		}
	}
}

func TestWriteErrorPassesAProblemThrough(t *testing.T) {
	t.Parallel()
	h, _ := wrapped(fn.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("submit: %w", fn.Errorf(http.StatusConflict, fn.CodeInvalidState, "Only drafts can be submitted."))
	}), 0)
	res := serve(h, httptest.NewRequest(http.MethodPost, "/api/v1/apps/1/submit", nil))
	if p := readProblem(t, res, http.StatusConflict, fn.CodeInvalidState); p.Detail != "Only drafts can be submitted." {
		t.Fatalf("detail = %q", p.Detail)
	}
}

func TestWriteErrorSaysNothingWhenTheCallerHasGone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/applications", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	fn.WriteError(rec, r, fmt.Errorf("query: %w", context.Canceled))
	if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
		t.Fatalf("wrote %d %q to a caller that went away", rec.Code, rec.Body)
	}

	// A cancellation that is not the caller's is a bug like any other.
	h, _ := wrapped(fn.Handle(func(w http.ResponseWriter, r *http.Request) error { return context.Canceled }), 0)
	readProblem(t, serve(h, httptest.NewRequest(http.MethodGet, "/", nil)), http.StatusInternalServerError, fn.CodeInternal)
}

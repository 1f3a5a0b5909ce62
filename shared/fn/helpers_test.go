package fn_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jinlaiban/openplatform/shared/fn"
)

// problemBody is the problem+json document a caller receives.
type problemBody struct {
	Type          string            `json:"type"`
	Title         string            `json:"title"`
	Status        int               `json:"status"`
	Code          string            `json:"code"`
	Detail        string            `json:"detail"`
	RequestID     string            `json:"request_id"`
	InvalidParams []fn.InvalidParam `json:"invalid_params"`
}

// readProblem asserts that res is a problem+json answer with the given status and code
// and returns its body.
func readProblem(t *testing.T, res *http.Response, status int, code string) problemBody {
	t.Helper()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if res.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", res.StatusCode, status, raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p problemBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %s does not decode: %v", raw, err)
	}
	if p.Status != status || p.Code != code {
		t.Fatalf("problem status/code = %d/%q, want %d/%q; body %s", p.Status, p.Code, status, code, raw)
	}
	if p.Type != "urn:jinlaiban:problem:"+code {
		t.Errorf("type = %q, want urn:jinlaiban:problem:%s", p.Type, code)
	}
	if p.Title == "" {
		t.Errorf("title is empty; body %s", raw)
	}
	return p
}

// asProblem asserts that err is a *fn.Problem with the given status and code.
func asProblem(t *testing.T, err error, status int, code string) *fn.Problem {
	t.Helper()
	var p *fn.Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T) is not a *fn.Problem", err, err)
	}
	if p.Status != status || p.Code != code {
		t.Fatalf("problem = %d/%q (%s), want %d/%q", p.Status, p.Code, p.Detail, status, code)
	}
	return p
}

// syncBuffer is a log sink that servers may write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLines parses a JSON log into its records.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// accessLog returns the single "request" record of a log.
func accessLog(t *testing.T, log string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, m := range logLines(t, log) {
		if m["msg"] == "request" {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one access log record, got %d in:\n%s", len(found), log)
	}
	return found[0]
}

// wrapped serves h behind fn.Wrap with a JSON logger writing into the returned buffer.
func wrapped(h http.Handler, maxBody int64) (http.Handler, *syncBuffer) {
	buf := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return fn.Wrap(h, fn.Options{Name: "test-fn", Logger: log, MaxBodyBytes: maxBody}), buf
}

// serve runs one request through h and returns the response.
func serve(h http.Handler, r *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Result()
}

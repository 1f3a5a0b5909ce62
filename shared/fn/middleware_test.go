package fn_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/fn"
)

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestWrapEchoesTheGatewaysRequestID(t *testing.T) {
	t.Parallel()
	var seen string
	h, log := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = fn.RequestID(r.Context())
		fn.Logger(r.Context()).Info("handling")
	}), 0)
	r := httptest.NewRequest(http.MethodGet, "/api/v1/services", nil)
	r.Header.Set("X-Request-Id", "gw-2024.11_abc-DEF")
	res := serve(h, r)
	if got := res.Header.Get("X-Request-Id"); got != "gw-2024.11_abc-DEF" {
		t.Fatalf("X-Request-Id = %q, want the incoming one", got)
	}
	if seen != "gw-2024.11_abc-DEF" {
		t.Fatalf("RequestID(ctx) = %q", seen)
	}
	for _, m := range logLines(t, log.String()) {
		if m["request_id"] != "gw-2024.11_abc-DEF" {
			t.Errorf("log record %v lacks the request ID", m)
		}
	}
}

func TestWrapReplacesAnUntrustworthyRequestID(t *testing.T) {
	t.Parallel()
	for name, incoming := range map[string]string{
		"with spaces":      "abc def ghi jkl",
		"200 characters":   strings.Repeat("a", 200),
		"too short":        "abc",
		"log injection":    "abcdefgh\nlevel=ERROR",
		"non-ASCII":        "请求标识请求标识请求标识",
		"65 characters":    strings.Repeat("b", 65),
		"quotes and slash": `abcdefgh"/`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, _ := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 0)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-Request-Id", incoming)
			got := serve(h, r).Header.Get("X-Request-Id")
			if got == incoming || !generatedID.MatchString(got) {
				t.Fatalf("X-Request-Id = %q, want a fresh generated ID", got)
			}
		})
	}
}

func TestWrapGeneratesARequestIDWhenNoneIsSent(t *testing.T) {
	t.Parallel()
	h, _ := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 0)
	a := serve(h, httptest.NewRequest(http.MethodGet, "/", nil)).Header.Get("X-Request-Id")
	b := serve(h, httptest.NewRequest(http.MethodGet, "/", nil)).Header.Get("X-Request-Id")
	if !generatedID.MatchString(a) || !generatedID.MatchString(b) || a == b {
		t.Fatalf("generated IDs %q and %q: want two distinct 24-hex IDs", a, b)
	}
}

func TestWrapTurnsAPanicIntoAnOpaque500(t *testing.T) {
	t.Parallel()
	h, log := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("nil map in citizen 110101199003071234")
	}), 0)
	r := httptest.NewRequest(http.MethodGet, "/api/v1/citizens/me", nil)
	r.Header.Set("X-Request-Id", "panic-req-0001")
	res := serve(h, r)
	raw, _ := io.ReadAll(res.Body)
	if strings.Contains(string(raw), "110101199003071234") || strings.Contains(string(raw), "nil map") {
		t.Fatalf("the panic message reached the caller: %s", raw)
	}
	res.Body = io.NopCloser(strings.NewReader(string(raw)))
	p := readProblem(t, res, http.StatusInternalServerError, fn.CodeInternal)
	if p.RequestID != "panic-req-0001" {
		t.Errorf("request_id = %q", p.RequestID)
	}
	var panicked bool
	for _, m := range logLines(t, log.String()) {
		if m["msg"] == "panic" && m["level"] == "ERROR" && strings.Contains(m["stack"].(string), "middleware_test.go") {
			panicked = true
		}
	}
	if !panicked {
		t.Errorf("no panic record with a stack in the log:\n%s", log)
	}
	if a := accessLog(t, log.String()); a["status"] != float64(500) || a["level"] != "ERROR" {
		t.Errorf("access log = %v, want status 500 at ERROR", a)
	}
}

func TestWrapKeepsTheStatusOfAPanicAfterTheAnswerStarted(t *testing.T) {
	t.Parallel()
	h, log := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		panic("late")
	}), 0)
	res := serve(h, httptest.NewRequest(http.MethodPost, "/", nil))
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d; a second header must not be written", res.StatusCode)
	}
	if a := accessLog(t, log.String()); a["status"] != float64(202) {
		t.Errorf("access log status = %v", a["status"])
	}
}

func TestWrapAccessLogNamesMethodPathStatusButNotTheQuery(t *testing.T) {
	t.Parallel()
	h, log := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}), 0)
	r := httptest.NewRequest(http.MethodDelete, "/api/v1/sessions/current?ticket=SECRET-TICKET-42&code=ALSOSECRET", nil)
	r.Header.Set("X-Request-Id", "log-req-00001")
	serve(h, r)
	out := log.String()
	if strings.Contains(out, "SECRET") || strings.Contains(out, "ticket") {
		t.Fatalf("the query string reached the log:\n%s", out)
	}
	a := accessLog(t, out)
	if a["method"] != "DELETE" || a["path"] != "/api/v1/sessions/current" || a["status"] != float64(204) ||
		a["request_id"] != "log-req-00001" || a["level"] != "INFO" {
		t.Fatalf("access log = %v", a)
	}
	if _, ok := a["duration_ms"].(float64); !ok {
		t.Fatalf("access log has no duration_ms: %v", a)
	}
}

func TestWrapLogsStatus200WhenTheHandlerWritesNothing(t *testing.T) {
	t.Parallel()
	h, log := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 0)
	if res := serve(h, httptest.NewRequest(http.MethodGet, "/", nil)); res.StatusCode != 200 {
		t.Fatalf("status = %d", res.StatusCode)
	}
	if a := accessLog(t, log.String()); a["status"] != float64(200) {
		t.Fatalf("access log status = %v, want 200 (what net/http sends)", a["status"])
	}
}

func TestWrapLeavesBodiesAloneWithoutALimit(t *testing.T) {
	t.Parallel()
	var n int
	h, _ := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n = len(b)
	}), 0)
	serve(h, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 1<<20))))
	if n != 1<<20 {
		t.Fatalf("read %d bytes, want all 1 MiB", n)
	}
}

func TestWrapSupportsResponseController(t *testing.T) {
	t.Parallel()
	var flushErr error
	h, _ := wrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flushErr = http.NewResponseController(w).Flush()
	}), 0)
	serve(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if flushErr != nil {
		t.Fatalf("Flush through the middleware: %v", flushErr)
	}
}

func newTestRouter() *fn.Router {
	rt := fn.NewRouter()
	rt.Handle("GET /api/v1/apps/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return fn.JSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	rt.Handle("POST /api/v1/apps/{id}/submit", func(w http.ResponseWriter, r *http.Request) error {
		return fn.JSON(w, http.StatusAccepted, nil)
	})
	rt.Handle("DELETE /api/v1/apps/{id}/submit", func(w http.ResponseWriter, r *http.Request) error {
		return fn.JSON(w, http.StatusNoContent, nil)
	})
	return rt
}

func TestRouterServesARegisteredRoute(t *testing.T) {
	t.Parallel()
	res := serve(newTestRouter(), httptest.NewRequest(http.MethodGet, "/api/v1/apps/abc", nil))
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || strings.TrimSpace(string(raw)) != `{"id":"abc"}` {
		t.Fatalf("got %d %s", res.StatusCode, raw)
	}
}

func TestRouterAnswersAnUnknownPathWithANotFoundProblem(t *testing.T) {
	t.Parallel()
	h, _ := wrapped(newTestRouter(), 0)
	res := serve(h, httptest.NewRequest(http.MethodGet, "/api/v1/nothing-here", nil))
	p := readProblem(t, res, http.StatusNotFound, fn.CodeNotFound)
	if !strings.Contains(p.Detail, "/api/v1/nothing-here") || p.RequestID == "" {
		t.Fatalf("problem = %+v", p)
	}
	if res.Header.Get("Allow") != "" {
		t.Errorf("Allow on a 404: %q", res.Header.Get("Allow"))
	}
}

func TestRouterAnswersAWrongMethodWith405AndAllow(t *testing.T) {
	t.Parallel()
	res := serve(newTestRouter(), httptest.NewRequest(http.MethodPut, "/api/v1/apps/abc/submit", nil))
	p := readProblem(t, res, http.StatusMethodNotAllowed, fn.CodeMethodNotAllowed)
	allow := res.Header.Get("Allow")
	if !strings.Contains(allow, "POST") || !strings.Contains(allow, "DELETE") || strings.Contains(allow, "PUT") {
		t.Fatalf("Allow = %q, want POST and DELETE", allow)
	}
	if !strings.Contains(p.Detail, "PUT") {
		t.Errorf("detail %q does not name the method", p.Detail)
	}
}

func TestRouterRedirectsAnUncleanPath(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/api/v1/../v1/apps/abc": "/api/v1/apps/abc", // cleaned path has a route
		"/api/v1/../nowhere":     "/api/nowhere",     // cleaned path has none: still redirected
	} {
		res := serve(newTestRouter(), httptest.NewRequest(http.MethodGet, path, nil))
		if res.StatusCode < 300 || res.StatusCode > 399 || res.Header.Get("Location") != want {
			t.Errorf("%s: got %d Location %q, want a redirect to %s", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

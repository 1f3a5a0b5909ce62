package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/fn"
)

// TestBadRequestsGetStableProblemCodes sends each JSON operation bodies it cannot take: each
// is refused with a problem+json of a stable code, and nothing changes.
func TestBadRequestsGetStableProblemCodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	before := h.row(t, s.ID)
	huge := `{"name": "` + strings.Repeat("x", 70<<10) + `"}`

	endpoints := []struct{ method, path string }{
		{"POST", "/api/v1/services"},
		{"PUT", servicePath(s.ID)},
		{"PUT", servicePath(s.ID, "/production-url")},
		{"POST", servicePath(s.ID, "/uploads")},
	}
	cases := []struct {
		name        string
		body        string
		contentType string
		status      int
		code        string
		param       string
	}{
		{"malformed JSON", `{"name": "公积金`, "application/json", 400, fn.CodeMalformed, ""},
		{"not JSON at all", `name=公积金提取`, "application/json", 400, fn.CodeMalformed, ""},
		{"empty body", ``, "application/json", 400, fn.CodeMalformed, ""},
		{"an array", `[{"name": "x"}]`, "application/json", 400, fn.CodeMalformed, ""},
		{"two objects", `{} {}`, "application/json", 400, fn.CodeMalformed, ""},
		{"unknown field", `{"vendor_id": "00000000-0000-4000-8000-000000000000"}`, "application/json", 400, fn.CodeUnknownField, "vendor_id"},
		{"form encoded", `{}`, "application/x-www-form-urlencoded", 415, fn.CodeUnsupportedMedia, ""},
		{"plain text", `{}`, "text/plain", 415, fn.CodeUnsupportedMedia, ""},
		{"no content type", `{}`, "", 415, fn.CodeUnsupportedMedia, ""},
		{"body over 64 KiB", huge, "application/json", 413, fn.CodeTooLarge, ""},
	}
	for _, e := range endpoints {
		for _, c := range cases {
			t.Run(e.method+" "+e.path+" "+c.name, func(t *testing.T) {
				p := h.as(t, h.vendor, e.method, e.path, c.body, withHeader("Content-Type", c.contentType)).wantProblem(t, c.status, c.code)
				if c.param != "" && p.reason(c.param) == "" {
					t.Errorf("the problem does not name %q: %+v", c.param, p)
				}
			})
		}
	}

	// Fields of the wrong JSON type name the field.
	for _, c := range []struct{ path, body, field string }{
		{"/api/v1/services", `{"channels": "app"}`, "channels"},
		{"/api/v1/services", `{"tags": [1, 2]}`, "tags"},
		{"/api/v1/services", `{"name": 42}`, "name"},
		{servicePath(s.ID, "/uploads"), `{"size": "1024"}`, "size"},
		{servicePath(s.ID, "/uploads"), `{"size": 1.5}`, "size"},
	} {
		method := "POST"
		p := h.as(t, h.vendor, method, c.path, c.body).wantProblem(t, http.StatusBadRequest, fn.CodeMalformed)
		if p.reason(c.field) == "" {
			t.Errorf("%s %s: the problem does not name %q: %+v", c.path, c.body, c.field, p)
		}
	}

	h.unchanged(t, s.ID, before)
	if n := scalar[int](t, h, `SELECT count(*) FROM services`); n != 1 {
		t.Errorf("%d services, want 1", n)
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM uploads`); n != 0 {
		t.Errorf("%d uploads recorded from bad requests", n)
	}
}

func TestIdentifiersThatAreNotUUIDsAreNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	tk := h.start(t, h.vendor, s.ID, logoPNG(t).form())
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/services/42"},
		{"GET", "/api/v1/services/" + strings.ToUpper(s.ID)[:35]},
		{"GET", "/api/v1/services/" + s.ID + "0"},
		{"GET", "/api/v1/services/' OR '1'='1"},
		{"PUT", "/api/v1/services/not-a-uuid/production-url"},
		{"POST", "/api/v1/services/not-a-uuid/uploads"},
		{"POST", "/api/v1/services/not-a-uuid/apply"},
		{"POST", "/api/v1/services/not-a-uuid/request-live"},
		{"GET", "/api/v1/services/not-a-uuid/files/logo"},
		{"POST", servicePath(s.ID, "/uploads/not-a-uuid/complete")},
		{"POST", "/api/v1/services/not-a-uuid/uploads/" + tk.UploadID + "/complete"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			var body any
			if c.method != "GET" {
				body = map[string]string{}
			}
			h.as(t, h.vendor, c.method, strings.ReplaceAll(c.path, " ", "%20"), body).wantProblem(t, http.StatusNotFound, fn.CodeNotFound)
		})
	}
	// A UUID in capitals is the same service.
	if got := h.get(t, h.vendor, strings.ToUpper(s.ID)); got.ID != s.ID {
		t.Errorf("GET by the upper-case id: %s, want %s", got.ID, s.ID)
	}
}

func TestUnknownRoutesAndMethodsAnswerInProblemJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.as(t, h.vendor, "GET", "/api/v1/servicez", nil).wantProblem(t, http.StatusNotFound, fn.CodeNotFound)
	h.as(t, h.vendor, "POST", servicePath(s.ID, "/publish"), nil).wantProblem(t, http.StatusNotFound, fn.CodeNotFound)
	r := h.as(t, h.vendor, "DELETE", servicePath(s.ID), nil)
	r.wantProblem(t, http.StatusMethodNotAllowed, fn.CodeMethodNotAllowed)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PUT") {
		t.Errorf("Allow %q, want GET and PUT", allow)
	}
	h.as(t, h.vendor, "GET", servicePath(s.ID, "/apply"), nil).wantProblem(t, http.StatusMethodNotAllowed, fn.CodeMethodNotAllowed)
	if got := h.get(t, h.vendor, s.ID); got.Status != "testing" {
		t.Errorf("status %q", got.Status)
	}
}

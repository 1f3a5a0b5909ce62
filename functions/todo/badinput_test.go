package main

import (
	"net/http"
	"strings"
	"testing"
)

// Every malformed or invalid create or update is refused with a problem naming what is
// wrong, and changes nothing.
func TestRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)
	h.create(a, newTodo(to, "existing"))
	before := h.row(a, "existing")
	good := newTodo(to, "new-1")
	with := func(change func(f *todoForm)) todoForm {
		f := good
		change(&f)
		return f
	}
	// Field checks shared by create and update.
	contentCases := []struct {
		name   string
		change func(f *todoForm)
		field  string
	}{
		{"blank title", func(f *todoForm) { f.Title = " " }, "title"},
		{"41-character title", func(f *todoForm) { f.Title = strings.Repeat("待", 41) }, "title"},
		{"two-line title", func(f *todoForm) { f.Title = "a\nb" }, "title"},
		{"1001-character description", func(f *todoForm) { f.Description = strings.Repeat("述", 1001) }, "description"},
		{"blank description", func(f *todoForm) { f.Description = "  " }, "description"},
		{"control character", func(f *todoForm) { f.Description = "a\x00b" }, "description"},
		{"due without zone", func(f *todoForm) { f.DueAt = "2030-01-02T15:04:05" }, "due_at"},
		{"due as a date", func(f *todoForm) { f.DueAt = "2030-01-02" }, "due_at"},
		{"due as Unix time", func(f *todoForm) { f.DueAt = "1893456000" }, "due_at"},
		{"due in words", func(f *todoForm) { f.DueAt = "tomorrow" }, "due_at"},
		{"due on the 30th of February", func(f *todoForm) { f.DueAt = "2030-02-30T10:00:00+08:00" }, "due_at"},
		{"due in the past", func(f *todoForm) { f.DueAt = "2020-01-02T15:04:05+08:00" }, "due_at"},
		{"http link", func(f *todoForm) { f.Link = "http://gjj.example.cn/" }, "link"},
		{"javascript link", func(f *todoForm) { f.Link = "javascript:alert(1)" }, "link"},
		{"relative link", func(f *todoForm) { f.Link = "/apply/1" }, "link"},
		{"link with fragment", func(f *todoForm) { f.Link = "https://gjj.example.cn/#x" }, "link"},
	}
	for _, tc := range contentCases {
		t.Run("create: "+tc.name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", "/api/v1/todos", with(tc.change))
			if err != nil {
				t.Fatal(err)
			}
			r.wantInvalid(t, tc.field)
		})
		t.Run("update: "+tc.name, func(t *testing.T) {
			r, err := h.trySigned(a, "PUT", path("existing"), with(tc.change).content())
			if err != nil {
				t.Fatal(err)
			}
			r.wantInvalid(t, tc.field)
		})
	}

	createCases := []struct {
		name   string
		body   any
		opts   []option
		status int
		code   string
		fields []string
	}{
		{"all missing", `{}`, nil, 422, "validation-failed", []string{"citizen_id", "external_id", "title"}},
		{"nulls", `{"citizen_id":null,"external_id":null,"title":null,"due_at":null}`, nil, 422, "validation-failed", []string{"citizen_id", "external_id", "title"}},
		{"short citizen id", with(func(f *todoForm) { f.CitizenID = to[:10] }), nil, 422, "validation-failed", []string{"citizen_id"}},
		{"platform uuid as citizen id", with(func(f *todoForm) { f.CitizenID = c.ID }), nil, 422, "validation-failed", []string{"citizen_id"}},
		{"65-character external id", with(func(f *todoForm) { f.ExternalID = strings.Repeat("x", 65) }), nil, 422, "validation-failed", []string{"external_id"}},
		{"external id with a slash", with(func(f *todoForm) { f.ExternalID = "WO/2024/1" }), nil, 422, "validation-failed", []string{"external_id"}},
		{"external id with a space", with(func(f *todoForm) { f.ExternalID = "WO 1" }), nil, 422, "validation-failed", []string{"external_id"}},
		{"external id of dots", with(func(f *todoForm) { f.ExternalID = ".." }), nil, 422, "validation-failed", []string{"external_id"}},
		{"Chinese external id", with(func(f *todoForm) { f.ExternalID = "工单1" }), nil, 422, "validation-failed", []string{"external_id"}},
		{"malformed JSON", `{"citizen_id":"` + to + `","title":`, nil, 400, "malformed-body", nil},
		{"empty body", "", nil, 400, "malformed-body", nil},
		{"array", `[{"title":"x"}]`, nil, 400, "malformed-body", nil},
		{"number due", `{"citizen_id":"` + to + `","external_id":"n","title":"t","due_at":1893456000}`, nil, 400, "malformed-body", []string{"due_at"}},
		{"unknown field", `{"citizen_id":"` + to + `","external_id":"n","title":"t","status":"done"}`, nil, 400, "unknown-field", []string{"status"}},
		{"text/plain", good, []option{contentType("text/plain")}, 415, "unsupported-media-type", nil},
		{"too large", `{"citizen_id":"` + to + `","external_id":"n","title":"t","description":"` + strings.Repeat("长", maxBody/3) + `"}`, nil, 413, "body-too-large", nil},
	}
	for _, tc := range createCases {
		t.Run("create: "+tc.name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", "/api/v1/todos", tc.body, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			p := r.wantProblem(t, tc.status, tc.code)
			if tc.fields != nil && strings.Join(p.paramNames(), ",") != strings.Join(tc.fields, ",") {
				t.Errorf("invalid_params %v, want %v", p.paramNames(), tc.fields)
			}
		})
	}
	for name, body := range map[string]string{
		"malformed JSON":    `{"title":`,
		"empty body":        ``,
		"unknown field":     `{"title":"t","status":"done"}`,
		"missing title":     `{"description":"d"}`,
		"two objects":       `{"title":"a"}{"title":"b"}`,
		"number title":      `{"title":1}`,
		"citizen in update": `{"title":"t","citizen_id":"` + to + `"}`,
	} {
		t.Run("update: "+name, func(t *testing.T) {
			r, err := h.trySigned(a, "PUT", path("existing"), body)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s, want 400 or 422", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	if n := h.todos(a); n != 1 {
		t.Fatalf("%d items stored, want only the existing one", n)
	}
	if after := h.row(a, "existing"); after != before {
		t.Fatalf("refused updates changed the item:\n%s\n%s", before, after)
	}

	// The limits are inclusive and in characters; description, due time and link are optional;
	// external ids may use the documented characters.
	edge := todoForm{CitizenID: to, ExternalID: "A" + strings.Repeat("z._:~-", 10) + "xyz", Title: strings.Repeat("待", 40),
		Description: strings.Repeat("述", 1000)}
	td := h.create(a, edge)
	if td.DueAt != nil || td.Link != "" {
		t.Fatalf("created %+v, want no due time or link", td)
	}
	wantJSON[vendorTodo](t, h.signed(a, "GET", path(edge.ExternalID), nil), http.StatusOK)
	fraction := todoForm{CitizenID: to, ExternalID: "frac", Title: "t", DueAt: "2099-12-31T23:59:59.123456789Z"}
	got := h.create(a, fraction)
	if got.DueAt == nil || got.DueAt.Nanosecond() != 123456000 {
		t.Fatalf("due %v, want microsecond precision", got.DueAt)
	}
	// A retry with the nanoseconds is still the same item.
	h.signed(a, "POST", "/api/v1/todos", fraction).want(t, http.StatusOK)
}

// The development stack may link to http://localhost services; a deployment may not.
func TestLocalLinksOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.AllowHTTPLocalhost = true
	h := newHarnessWith(t, cfg)
	a := h.grantedApp("示例服务")
	c := h.newCitizen()
	f := newTodo(h.pairwise(a, c), "local")
	f.Link = "http://localhost:8300/orders/1"
	h.create(a, f)
	f.ExternalID, f.Link = "remote", "http://gjj.example.cn/orders/1"
	h.signed(a, "POST", "/api/v1/todos", f).wantInvalid(t, "link")
}

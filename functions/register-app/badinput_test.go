package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/apps"
)

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// badDeclarations are request bodies POST and PUT /api/v1/apps must refuse, each with its
// stable code and the fields it names.
var badDeclarations = []struct {
	name        string
	contentType string // "" application/json, "-" none
	body        string
	status      int
	code        string
	params      []string
}{
	{"malformed JSON", "", `{"name": "Parking",`, 400, "malformed-body", nil},
	{"not JSON at all", "", `name=Parking`, 400, "malformed-body", nil},
	{"empty body", "", ``, 400, "malformed-body", nil},
	{"an array, not an object", "", `[]`, 400, "malformed-body", nil},
	{"two objects", "", mustJSON(declaration()) + `{}`, 400, "malformed-body", nil},
	{"trailing garbage", "", mustJSON(declaration()) + `]`, 400, "malformed-body", nil},
	{"needs_user_info as text", "", mustJSON(with(declaration(), "needs_user_info", "yes")), 400, "malformed-body", []string{"needs_user_info"}},
	{"name as number", "", mustJSON(with(declaration(), "name", 42)), 400, "malformed-body", []string{"name"}},
	{"unknown field", "", mustJSON(with(declaration(), "app_code", "0123456789abcdef0123456789abcd")), 400, "unknown-field", []string{"app_code"}},
	{"status is not the vendor's to set", "", mustJSON(with(declaration(), "status", "approved")), 400, "unknown-field", []string{"status"}},
	{"text/plain", "text/plain", mustJSON(declaration()), 415, "unsupported-media-type", nil},
	{"form", "application/x-www-form-urlencoded", `name=Parking`, 415, "unsupported-media-type", nil},
	{"no content type", "-", mustJSON(declaration()), 415, "unsupported-media-type", nil},
	{"body over 64 KiB", "", mustJSON(with(declaration(), "description", strings.Repeat("x", 70<<10))), 413, "body-too-large", nil},
	{"empty object", "", `{}`, 422, "validation-failed",
		[]string{"contact_mobile", "contact_name", "description", "name", "needs_user_info"}},
	{"every text field over-long", "", mustJSON(with(declaration(), "name", strings.Repeat("n", 101), "contact_name", strings.Repeat("c", 51),
		"description", strings.Repeat("长", 2001))), 422, "validation-failed", []string{"contact_name", "description", "name"}},
	{"name too short", "", mustJSON(with(declaration(), "name", "P")), 422, "validation-failed", []string{"name"}},
	{"name blank", "", mustJSON(with(declaration(), "name", "   ")), 422, "validation-failed", []string{"name"}},
	{"name on two lines", "", mustJSON(with(declaration(), "name", "Parking\nDROP")), 422, "validation-failed", []string{"name"}},
	{"name with a control character", "", mustJSON(with(declaration(), "name", "Park\x00ing")), 422, "validation-failed", []string{"name"}},
	{"contact name empty", "", mustJSON(with(declaration(), "contact_name", "")), 422, "validation-failed", []string{"contact_name"}},
	{"description 9 characters", "", mustJSON(with(declaration(), "description", "123456789")), 422, "validation-failed", []string{"description"}},
	{"needs_user_info missing", "", mustJSON(with(declaration(), "needs_user_info", nil)), 422, "validation-failed", []string{"needs_user_info"}},
	{"needs_user_info null", "", strings.Replace(mustJSON(declaration()), `"needs_user_info":true`, `"needs_user_info":null`, 1), 422, "validation-failed", []string{"needs_user_info"}},
	{"user info needed without a level", "", mustJSON(with(declaration(), "user_info_level", nil)), 422, "validation-failed", []string{"user_info_level"}},
	{"user info needed with an empty level", "", mustJSON(with(declaration(), "user_info_level", "")), 422, "validation-failed", []string{"user_info_level"}},
	{"user info not needed but a level", "", mustJSON(with(declaration(), "needs_user_info", false)), 422, "validation-failed", []string{"user_info_level"}},
	{"unknown level", "", mustJSON(with(declaration(), "user_info_level", "everything")), 422, "validation-failed", []string{"user_info_level"}},
	{"level in capitals", "", mustJSON(with(declaration(), "user_info_level", "BASIC")), 422, "validation-failed", []string{"user_info_level"}},
}

var badMobiles = []string{
	"",
	"12812345678",    // 12 is no mobile prefix
	"10012345678",    // nor 10
	"1391234567",     // 10 digits
	"139123456789",   // 12 digits
	"+8613912345678", // with country code
	"139-1234-5678",
	"139 1234 5678",
	" 13912345678",
	"1391234567a",
	"１３９１２３４５６７８", // full-width digits
	"13912345678' OR '1'='1",
}

func init() {
	for _, m := range badMobiles {
		badDeclarations = append(badDeclarations, struct {
			name        string
			contentType string
			body        string
			status      int
			code        string
			params      []string
		}{"mobile " + m, "", mustJSON(with(declaration(), "contact_mobile", m)), 422, "validation-failed", []string{"contact_mobile"}})
	}
}

func TestDeclarationRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("sloppy-co")
	draft := h.declare(vendor, declaration())
	want := h.stored(draft.ID)

	for _, op := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/apps"},
		{http.MethodPut, "/api/v1/apps/" + draft.ID},
	} {
		for _, tc := range badDeclarations {
			t.Run(op.method+" "+tc.name, func(t *testing.T) {
				snap := h.snapshot()
				r := h.request(op.method, op.path, vendor.Token, tc.contentType, tc.body)
				p := wantProblem(t, r, tc.status, tc.code)
				if tc.params != nil {
					if got := p.paramNames(); !slices.Equal(got, tc.params) {
						t.Errorf("invalid_params = %v, want %v", got, tc.params)
					}
				}
				if h.snapshot() != snap {
					t.Error("a refused declaration changed the database")
				}
			})
		}
	}
	if got := h.stored(draft.ID); got.Name != want.Name || got.ContactMobile != want.ContactMobile || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("draft changed by refused edits: %+v", got)
	}
	if n := h.count(`SELECT count(*) FROM applications`); n != 1 {
		t.Errorf("%d applications, want only the first draft", n)
	}
}

func TestDeclarationAcceptsFieldsAtTheirLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("limits-co")
	cases := []struct {
		name string
		d    map[string]any
	}{
		{"shortest", with(declaration(), "name", "PA", "contact_name", "李", "description", "0123456789")},
		{"longest, in Chinese", with(declaration(), "name", strings.Repeat("停", 100), "contact_name", strings.Repeat("李", 50),
			"description", strings.Repeat("车", 2000))},
		{"multi-line description", with(declaration(), "description", "Line one.\nLine two.\r\n\tIndented.")},
	}
	for _, m := range []string{"13000000000", "14700000000", "15900000000", "16600000000", "17700000000", "18800000000", "19999999999"} {
		cases = append(cases, struct {
			name string
			d    map[string]any
		}{"mobile " + m, with(declaration(), "contact_mobile", m)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := h.declare(vendor, tc.d)
			got := h.stored(a.ID)
			if got.Name != tc.d["name"] || got.ContactName != tc.d["contact_name"] || got.Description != tc.d["description"] || got.ContactMobile != tc.d["contact_mobile"] {
				t.Errorf("stored %+v, want %v", got, tc.d)
			}
		})
	}
}

func TestSQLLookingInputIsStoredVerbatimAndHarmless(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("bobby-tables")
	other := h.vendor("bystander")
	h.declare(other, declaration())
	d := with(declaration(),
		"name", `Robert'); DROP TABLE applications;--`,
		"contact_name", `' OR '1'='1`,
		"description", `x'; UPDATE applications SET status = 'approved'; SELECT pg_sleep(5); -- $1 %s \x00 "quoted"`,
	)
	a := h.declare(vendor, d)
	got := wantJSON[apps.Application](t, h.get("/api/v1/apps/"+a.ID, vendor.Token), http.StatusOK)
	for _, f := range []struct{ field, got string }{{"name", got.Name}, {"contact_name", got.ContactName}, {"description", got.Description}} {
		if f.got != d[f.field] {
			t.Errorf("%s = %q, want it verbatim: %q", f.field, f.got, d[f.field])
		}
	}
	var name string
	if err := h.pool.QueryRow(context.Background(), `SELECT name FROM applications WHERE id = $1`, a.ID).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != d["name"] {
		t.Errorf("stored name %q", name)
	}
	if n := h.count(`SELECT count(*) FROM applications WHERE status <> 'draft'`); n != 0 {
		t.Errorf("%d applications left draft", n)
	}
	if n := h.count(`SELECT count(*) FROM applications`); n != 2 {
		t.Errorf("%d applications, want 2", n)
	}
	// SQL in a filter is just an invalid status.
	wantProblem(t, h.get("/api/v1/apps?status="+url.QueryEscape("pending' OR '1'='1"), vendor.Token), http.StatusUnprocessableEntity, "validation-failed")
}

func TestApplicationPathsRefuseNonUUIDsAndWrongMethods(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("path-co")
	a := h.declare(vendor, declaration())

	for _, id := range []string{
		"42",
		"not-a-uuid",
		url.PathEscape("1' OR '1'='1"),
		strings.ToUpper(a.ID)[:35] + "g",
		a.ID + "0",
		a.ID[:35],
		strings.ReplaceAll(a.ID, "-", ""),
		"00000000-0000-0000-0000-000000000000",
	} {
		for _, suffix := range []string{"", "/submit", "/credentials", "/secrets"} {
			method := http.MethodGet
			var body any
			switch suffix {
			case "/submit":
				method = http.MethodPost
			case "/secrets":
				method, body = http.MethodPost, map[string]any{"environment": "test"}
			}
			t.Run(method+" "+id+suffix, func(t *testing.T) {
				t.Parallel()
				wantProblem(t, h.request(method, "/api/v1/apps/"+id+suffix, vendor.Token, "", body), http.StatusNotFound, "not-found")
			})
		}
		t.Run("PUT "+id, func(t *testing.T) {
			t.Parallel()
			wantProblem(t, h.put("/api/v1/apps/"+id, vendor.Token, declaration()), http.StatusNotFound, "not-found")
		})
	}
	// The id is case-insensitive, as UUIDs are.
	wantJSON[apps.Application](t, h.get("/api/v1/apps/"+strings.ToUpper(a.ID), vendor.Token), http.StatusOK)

	for _, tc := range []struct {
		method, path, allow string
	}{
		{http.MethodDelete, "/api/v1/apps/" + a.ID, "PUT"},
		{http.MethodPatch, "/api/v1/apps/" + a.ID, "GET"},
		{http.MethodPut, "/api/v1/apps", "POST"},
		{http.MethodDelete, "/api/v1/apps", "GET"},
		{http.MethodGet, "/api/v1/apps/" + a.ID + "/submit", "POST"},
		{http.MethodPut, "/api/v1/apps/" + a.ID + "/credentials", "GET"},
		{http.MethodGet, "/api/v1/apps/" + a.ID + "/secrets", "POST"},
	} {
		t.Run("wrong method "+tc.method+" "+tc.path, func(t *testing.T) {
			snap := h.snapshot()
			r := h.request(tc.method, tc.path, vendor.Token, "", declaration())
			wantProblem(t, r, http.StatusMethodNotAllowed, "method-not-allowed")
			if !strings.Contains(r.Header.Get("Allow"), tc.allow) {
				t.Errorf("Allow = %q, want it to list %s", r.Header.Get("Allow"), tc.allow)
			}
			if h.snapshot() != snap {
				t.Error("a refused method changed the database")
			}
		})
	}
	wantProblem(t, h.get("/api/v1/apps/"+a.ID+"/nothing-here", vendor.Token), http.StatusNotFound, "not-found")
}

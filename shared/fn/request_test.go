package fn_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jinlaiban/openplatform/shared/fn"
)

func TestPagingDefaultsToTheFirstPageOfTwenty(t *testing.T) {
	t.Parallel()
	page, size, err := fn.Paging(httptest.NewRequest(http.MethodGet, "/api/v1/apps", nil))
	if err != nil || page != 1 || size != 20 {
		t.Fatalf("Paging = %d, %d, %v; want 1, 20, nil", page, size, err)
	}
}

func TestPagingReadsPageAndPageSize(t *testing.T) {
	t.Parallel()
	for query, want := range map[string][2]int{
		"?page=3&page_size=50":       {3, 50},
		"?page=1&page_size=1":        {1, 1},
		"?page=100000&page_size=100": {100000, 100},
		"?page_size=5":               {1, 5},
		"?page=7":                    {7, 20},
	} {
		page, size, err := fn.Paging(httptest.NewRequest(http.MethodGet, "/api/v1/apps"+query, nil))
		if err != nil || page != want[0] || size != want[1] {
			t.Errorf("%s: Paging = %d, %d, %v; want %v", query, page, size, err, want)
		}
	}
}

func TestPagingRejectsOutOfRangeValuesNamingTheParameter(t *testing.T) {
	t.Parallel()
	for query, field := range map[string]string{
		"?page=0":                    "page",
		"?page=-1":                   "page",
		"?page=abc":                  "page",
		"?page=1.5":                  "page",
		"?page=100001":               "page",
		"?page=99999999999999999999": "page",
		"?page_size=0":               "page_size",
		"?page_size=101":             "page_size",
		"?page_size=ten":             "page_size",
		"?page=2&page_size=1000":     "page_size",
	} {
		page, size, err := fn.Paging(httptest.NewRequest(http.MethodGet, "/api/v1/apps"+query, nil))
		p := asProblem(t, err, http.StatusUnprocessableEntity, fn.CodeInvalid)
		if len(p.Params) != 1 || p.Params[0].Name != field {
			t.Errorf("%s: invalid_params = %+v, want %s", query, p.Params, field)
		}
		if page != 0 || size != 0 {
			t.Errorf("%s: returned page %d size %d alongside an error", query, page, size)
		}
	}
}

func TestUUIDParamAcceptsAUUIDAndLowercasesIt(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetPathValue("id", "3F2504E0-4F89-11D3-9A0C-0305E82C3301")
	got, err := fn.UUIDParam(r, "id", "Application")
	if err != nil || got != "3f2504e0-4f89-11d3-9a0c-0305e82c3301" {
		t.Fatalf("UUIDParam = %q, %v", got, err)
	}
}

func TestUUIDParamAnswersNotFoundForAnythingElse(t *testing.T) {
	t.Parallel()
	for _, v := range []string{
		"", "42", "not-a-uuid",
		"3f2504e0-4f89-11d3-9a0c-0305e82c330",   // one short
		"3f2504e0-4f89-11d3-9a0c-0305e82c33011", // one long
		"3f2504e04f8911d39a0c0305e82c3301",      // no dashes
		"3f2504e0_4f89-11d3-9a0c-0305e82c3301",  // wrong separator
		"3g2504e0-4f89-11d3-9a0c-0305e82c3301",  // not hex
		"{3f2504e0-4f89-11d3-9a0c-0305e82c33}",  // braces
		"3f2504e0-4f89-11d3-9a0c-0305e82c330é",  // 36 bytes, not 36 hex digits
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.SetPathValue("id", v)
		got, err := fn.UUIDParam(r, "id", "Application")
		p := asProblem(t, err, http.StatusNotFound, fn.CodeNotFound)
		if got != "" || p.Detail != "Application not found." {
			t.Errorf("%q: UUIDParam = %q, %q", v, got, p.Detail)
		}
	}
}

func TestClientIPTrustsOnlyTheConfiguredProxyHops(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		remote    string
		forwarded []string
		hops      int
		want      string
	}{
		{"no proxy: the socket peer", "203.0.113.7:51234", nil, 0, "203.0.113.7"},
		{"no proxy ignores X-Forwarded-For", "203.0.113.7:51234", []string{"198.51.100.1"}, 0, "203.0.113.7"},
		{"one hop: the rightmost entry", "10.0.0.2:8080", []string{"198.51.100.1"}, 1, "198.51.100.1"},
		{"one hop ignores spoofed left entries", "10.0.0.2:8080", []string{"6.6.6.6, 7.7.7.7, 198.51.100.1"}, 1, "198.51.100.1"},
		{"one hop across repeated headers", "10.0.0.2:8080", []string{"6.6.6.6", "198.51.100.1"}, 1, "198.51.100.1"},
		{"two hops: left of the gateway's", "10.0.0.2:8080", []string{"6.6.6.6, 198.51.100.1, 10.0.0.9"}, 2, "198.51.100.1"},
		{"IPv6 entry is normalised", "10.0.0.2:8080", []string{"2001:DB8::1"}, 1, "2001:db8::1"},
		{"spaces and empty entries", "10.0.0.2:8080", []string{" , 198.51.100.1 ,,"}, 1, "198.51.100.1"},
		{"garbage falls back to the socket", "10.0.0.2:8080", []string{"not-an-ip"}, 1, "10.0.0.2"},
		{"host:port entry is not an IP", "10.0.0.2:8080", []string{"198.51.100.1:443"}, 1, "10.0.0.2"},
		{"missing header falls back", "10.0.0.2:8080", nil, 1, "10.0.0.2"},
		{"fewer entries than hops falls back", "10.0.0.2:8080", []string{"198.51.100.1"}, 2, "10.0.0.2"},
		{"IPv6 socket peer", "[2001:db8::5]:443", nil, 0, "2001:db8::5"},
		{"peer without a port", "unix-socket", nil, 0, "unix-socket"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := fn.ClientIP(r, tc.hops); got != tc.want {
				t.Fatalf("ClientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

package gateway

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLongestPrefixOnSegmentBoundaryWins(t *testing.T) {
	t.Parallel()
	table := Table{Routes: []Route{{"/api/v1/admin/applications", "approve"}, {"/api/v1/apps", "register-app"}, {"/api/v1/admin", "accounts"}}}
	sortTable(&table)
	cases := map[string]string{
		"/api/v1/apps":                   "register-app",
		"/api/v1/apps/42/submit":         "register-app",
		"/api/v1/appsx":                  "",
		"/api/v1/admin/applications/1":   "approve",
		"/api/v1/admin/vendors":          "accounts",
		"/api/v1/admin":                  "accounts",
		"/api/v1":                        "",
		"/api/v1/admin/applicationsevil": "accounts",
	}
	for path, want := range cases {
		if got := table.Match(path); got != want {
			t.Errorf("Match(%q) = %q, want %q", path, got, want)
		}
	}
}

// The root prefix takes only what no other prefix claims: /api/… still goes to the
// functions, and segment boundaries still hold for them.
func TestRootPrefixIsTheFallback(t *testing.T) {
	t.Parallel()
	table := Table{Routes: []Route{{"/", "portal"}, {"/api/v1/apps", "register-app"}, {"/api/v1/sso/open", "sso-ticket"}}}
	sortTable(&table)
	cases := map[string]string{
		"/":                       "portal",
		"/console/apps/42":        "portal",
		"/sdk/jssdk-1.0.0.js":     "portal",
		"/api/v1/apps":            "register-app",
		"/api/v1/apps/42/submit":  "register-app",
		"/api/v1/sso/open":        "sso-ticket",
		"/api/v1/appsx":           "portal",
		"/api/v1/nothing-here/42": "portal",
	}
	for path, want := range cases {
		if got := table.Match(path); got != want {
			t.Errorf("Match(%q) = %q, want %q", path, got, want)
		}
	}
	real, err := LoadTable(filepath.Join("..", "..", "gateway", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/": "portal", "/simulator/": "portal", "/api/v1/sessions": "accounts",
		"/api/v1/citizen/title-check": "sso-ticket", "/api/v1/citizen/messages": "send-message", "/api/v1/admin/audit": "approve"} {
		if got := real.Match(path); got != want {
			t.Errorf("routes.yaml: Match(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestRouteTableFileLoads(t *testing.T) {
	t.Parallel()
	table, err := LoadTable(filepath.Join("..", "..", "gateway", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Functions()) < 4 {
		t.Fatalf("functions: %v", table.Functions())
	}
}

func TestRouteTableRejectsMistakes(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"unknown key":     "routes:\n  - prefix: /a\n    function: x\n    extra: 1\n",
		"trailing slash":  "routes:\n  - prefix: /a/\n    function: x\n",
		"no function":     "routes:\n  - prefix: /a\n",
		"duplicate":       "routes:\n  - prefix: /a\n    function: x\n  - prefix: /a\n    function: y\n",
		"relative prefix": "routes:\n  - prefix: a\n    function: x\n",
	} {
		path := filepath.Join(t.TempDir(), "routes.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTable(path); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

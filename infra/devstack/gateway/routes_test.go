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

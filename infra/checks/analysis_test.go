package checks

import "testing"

// noDatabase lists the server functions that deliberately use no database, with the
// reason; the analysis must then find no database setting in them either.
var noDatabase = map[string]string{
	"portal": "serves static files embedded in the binary; the pages call the other functions' APIs",
}

// The analysis must find what every server demonstrably reads, or the checks built on it
// would pass vacuously.
func TestAnalysisSeesTheRuntimeAndTheDatabase(t *testing.T) {
	f := load(t)
	if len(f.servers()) == 0 {
		t.Fatal("no server function found: the analysis did not reach fn.Main")
	}
	for _, p := range f.servers() {
		want := []string{"PORT", "SHUTDOWN_TIMEOUT", "DATABASE_URL", "DB_POOL_MAX"}
		if _, exempt := noDatabase[p.Name]; exempt {
			for _, v := range want[2:] {
				if _, ok := p.Settings[v]; ok {
					t.Errorf("%s reads %s, yet infra/checks/analysis_test.go lists it in noDatabase: remove it there", p.Name, v)
				}
			}
			want = want[:2]
		}
		for _, v := range want {
			if _, ok := p.Settings[v]; !ok {
				t.Errorf("%s: the analysis did not find %s (read by fn.Main and rt.DB)", p.Name, v)
			}
		}
		if _, exempt := noDatabase[p.Name]; exempt {
			continue
		}
		if s := p.Settings["DATABASE_URL"]; s.Secret != "database-url" || !s.Required {
			t.Errorf("%s: DATABASE_URL = %+v, want the required secret database-url", p.Name, s)
		}
	}
	for _, p := range f.jobs() {
		if _, ok := p.Settings["PORT"]; ok {
			t.Errorf("%s: a one-shot program, yet the analysis says it reads PORT", p.Name)
		}
	}
}

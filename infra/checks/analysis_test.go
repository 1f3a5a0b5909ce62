package checks

import "testing"

// The analysis must find what every server demonstrably reads, or the checks built on it
// would pass vacuously.
func TestAnalysisSeesTheRuntimeAndTheDatabase(t *testing.T) {
	f := load(t)
	if len(f.servers()) == 0 {
		t.Fatal("no server function found: the analysis did not reach fn.Main")
	}
	for _, p := range f.servers() {
		for _, v := range []string{"PORT", "SHUTDOWN_TIMEOUT", "DATABASE_URL", "DB_POOL_MAX"} {
			if _, ok := p.Settings[v]; !ok {
				t.Errorf("%s: the analysis did not find %s (read by fn.Main and rt.DB)", p.Name, v)
			}
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

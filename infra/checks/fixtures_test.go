package checks

import (
	"path/filepath"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/jinlaiban/openplatform/infra/devstack/gateway"
)

// The repository's deployment files, loaded once for all the tests.
type fixtures struct {
	root     string
	fns      []Function
	programs map[string]*Program
	knative  *Knative
	secrets  map[string]*corev1.Secret
	stack    *Stack
	table    gateway.Table
}

var (
	loadOnce sync.Once
	loaded   *fixtures
	loadErr  error
)

func (f *fixtures) path(rel ...string) string {
	return filepath.Join(append([]string{f.root}, rel...)...)
}

func load(t *testing.T) *fixtures {
	t.Helper()
	loadOnce.Do(func() {
		f := &fixtures{}
		if f.root, loadErr = RepoRoot(); loadErr != nil {
			return
		}
		if f.fns, loadErr = Functions(f.root); loadErr != nil {
			return
		}
		if f.programs, loadErr = AnalyzePrograms(f.root, f.fns); loadErr != nil {
			return
		}
		if f.knative, loadErr = LoadKnative(f.path("infra", "knative")); loadErr != nil {
			return
		}
		if f.secrets, loadErr = LoadSecrets(f.path("infra", "knative", "secrets.example.yaml")); loadErr != nil {
			return
		}
		if f.stack, loadErr = LoadStack(f.path("stack.yml"), func(string) string { return "" }); loadErr != nil {
			return
		}
		if f.table, loadErr = gateway.LoadTable(f.path("infra", "gateway", "routes.yaml")); loadErr != nil {
			return
		}
		loaded = f
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

// servers and jobs split the functions by what their code is.
func (f *fixtures) servers() []*Program { return f.kind(true) }
func (f *fixtures) jobs() []*Program    { return f.kind(false) }

func (f *fixtures) kind(server bool) []*Program {
	var out []*Program
	for _, fn := range f.fns {
		if p := f.programs[fn.Name]; p.Server == server {
			out = append(out, p)
		}
	}
	return out
}

func (f *fixtures) hasSecret(name, key string) bool {
	s, ok := f.secrets[name]
	if !ok {
		return false
	}
	_, inData := s.Data[key]
	_, inString := s.StringData[key]
	return inData || inString
}

// report fails the test with every problem found, each prefixed by where it is.
func report(t *testing.T, where string, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Errorf("%s: %s", where, p)
	}
}

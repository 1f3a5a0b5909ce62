// Package checks holds the tests that keep the deployment wiring honest: the Knative
// manifests (infra/knative), the OpenFaaS stack (stack.yml), the gateway's route table
// (infra/gateway/routes.yaml) and the HTTPRoutes generated from it must agree with the code
// in functions/ and shared/ and with each other. Only this module imports the Kubernetes,
// Knative and Gateway API libraries; the functions never do.
package checks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/mod/modfile"
)

// ModulePath is the import path every module of the repository lives under.
const ModulePath = "github.com/jinlaiban/openplatform"

// Function is a directory under functions/ that holds a Go module: one program.
type Function struct {
	Name       string // the directory's name, which is also the deployed name
	Dir        string
	ImportPath string // the module path, e.g. github.com/jinlaiban/openplatform/functions/accounts
}

// KoImage is the image reference the Knative manifests use for the function; ko replaces
// it with the built image.
func (f Function) KoImage() string { return "ko://" + f.ImportPath }

// RepoRoot finds the repository root: the nearest directory upwards holding go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work in this directory or any parent")
		}
		dir = parent
	}
}

// Functions lists functions/*/ directories that hold a go.mod, by name.
func Functions(root string) ([]Function, error) {
	mods, err := filepath.Glob(filepath.Join(root, "functions", "*", "go.mod"))
	if err != nil {
		return nil, err
	}
	var out []Function
	for _, m := range mods {
		b, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		path := modfile.ModulePath(b)
		dir := filepath.Dir(m)
		name := filepath.Base(dir)
		if want := ModulePath + "/functions/" + name; path != want {
			return nil, fmt.Errorf("%s: module path %q, want %q", m, path, want)
		}
		out = append(out, Function{Name: name, Dir: dir, ImportPath: path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) == 0 {
		return nil, fmt.Errorf("no functions/*/go.mod under %s", root)
	}
	return out, inWorkspace(root, out)
}

// inWorkspace checks that go.work uses every function's module (the code analysis loads
// them through the workspace).
func inWorkspace(root string, fns []Function) error {
	b, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return err
	}
	wf, err := modfile.ParseWork("go.work", b, nil)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, u := range wf.Use {
		used[filepath.Clean(filepath.Join(root, u.Path))] = true
	}
	var missing []error
	for _, f := range fns {
		if !used[filepath.Clean(f.Dir)] {
			missing = append(missing, fmt.Errorf("functions/%s has a go.mod but go.work does not use it: run `go work use ./functions/%s`", f.Name, f.Name))
		}
	}
	return errors.Join(missing...)
}

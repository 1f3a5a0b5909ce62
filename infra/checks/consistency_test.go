package checks

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// notRouted lists the server functions that deliberately have no public route in
// infra/gateway/routes.yaml (e.g. event consumers reached only through the Broker), with
// the reason. Every other server function must be routed.
var notRouted = map[string]string{
	"relay-outbox": "triggered by its PingSource (the cron connector on OpenFaaS) and nudged by approve inside the cluster; never called from outside",
	"notify":       "an event consumer: the Broker's Triggers and its PingSource (on OpenFaaS relay-outbox and the cron connector) call it inside the cluster",
}

// The same set of functions everywhere: functions/ (discovered: every directory with a
// go.mod; a server runs on fn.Main, a one-shot program does not), the Knative Services and
// Jobs, stack.yml and the route table. Each message says what to add or remove.
func TestSameFunctionsEverywhere(t *testing.T) {
	f := load(t)
	servers := map[string]bool{}
	for _, p := range f.servers() {
		servers[p.Name] = true
		if _, ok := f.knative.Services[p.Name]; !ok {
			t.Errorf("functions/%s is a server (its main runs fn.Main), but infra/knative has no Knative Service %s: add infra/knative/services/%s.yaml (start from a similar function's) and list it in infra/knative/kustomization.yaml", p.Name, p.Name, p.Name)
		}
		if _, ok := f.stack.Functions[p.Name]; !ok {
			t.Errorf("functions/%s is a server, but stack.yml has no function %s: add it (same image, settings, secrets and scaling as its Knative Service)", p.Name, p.Name)
		}
	}
	for _, p := range f.jobs() {
		if _, ok := f.knative.Jobs[p.Name]; !ok {
			t.Errorf("functions/%s is a one-shot program (its main does not run fn.Main), but infra/knative has no Job %s: add one (see migrate-job.yaml) and list it in infra/knative/kustomization.yaml", p.Name, p.Name)
		}
		if _, ok := f.stack.Functions[p.Name]; ok {
			t.Errorf("functions/%s is a one-shot program, not a server: remove it from stack.yml (run it as a Job; see the comment at the top of stack.yml)", p.Name)
		}
		if _, ok := f.knative.Services[p.Name]; ok {
			t.Errorf("functions/%s is a one-shot program, not a server: it cannot be a Knative Service; make it a Job", p.Name)
		}
	}
	for _, name := range sortedKeys(f.knative.Services) {
		s := f.knative.Services[name]
		switch s.Labels[ComponentLabel] {
		case "function":
			if !servers[name] {
				t.Errorf("infra/knative Service %s is labelled a function, but functions/%s is not a server function: remove the Service or fix the name", name, name)
			}
		case "infrastructure":
			for _, c := range s.Spec.Template.Spec.Containers {
				if strings.HasPrefix(c.Image, "ko://") {
					t.Errorf("infra/knative Service %s is infrastructure but runs %s, built from this repository: label it %s=function and give it a functions/ directory", name, c.Image, ComponentLabel)
				}
			}
		default:
			t.Errorf("infra/knative Service %s: label %s is %q, want function or infrastructure", name, ComponentLabel, s.Labels[ComponentLabel])
		}
	}
	for _, name := range sortedKeys(f.knative.Jobs) {
		if p, ok := f.programs[name]; !ok || p.Server {
			t.Errorf("infra/knative Job %s has no one-shot program functions/%s", name, name)
		}
	}
	for _, name := range sortedKeys(f.stack.Functions) {
		if _, ok := f.programs[name]; !ok {
			t.Errorf("stack.yml function %s has no functions/%s", name, name)
		}
	}
	routed := map[string]bool{}
	for _, name := range f.table.Functions() {
		routed[name] = true
		if !servers[name] {
			t.Errorf("infra/gateway/routes.yaml routes to %s, which is not a server function under functions/", name)
		}
	}
	for _, p := range f.servers() {
		reason, exempt := notRouted[p.Name]
		switch {
		case !routed[p.Name] && !exempt:
			t.Errorf("functions/%s is a server, but infra/gateway/routes.yaml routes nothing to it: add its prefixes there and run make httproutes (or, if it has no public route on purpose, add it to notRouted in infra/checks/consistency_test.go with the reason)", p.Name)
		case routed[p.Name] && exempt:
			t.Errorf("functions/%s is routed now, but infra/checks/consistency_test.go still lists it in notRouted (%q): remove it there", p.Name, reason)
		}
	}
	for name := range notRouted {
		if !servers[name] {
			t.Errorf("notRouted in infra/checks/consistency_test.go names %s, which is not a server function", name)
		}
	}
}

// The same images: ko builds each function from its import path; Knative names it
// ko://<import path>, OpenFaaS names the image ko pushes with -B (base import paths):
// <registry>/<last element of the import path>:<tag>.
func TestImagesAreTheKoImages(t *testing.T) {
	f := load(t)
	const registry, tag = "registry.example/team", "v1.2.3"
	custom, err := LoadStack(f.path("stack.yml"), func(k string) string {
		return map[string]string{"REGISTRY": registry, "TAG": tag}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.programs {
		want := p.KoImage()
		if s, ok := f.knative.Services[p.Name]; ok {
			for _, c := range s.Spec.Template.Spec.Containers {
				if c.Image != want {
					t.Errorf("infra/knative Service %s: image %q, want %q", p.Name, c.Image, want)
				}
			}
		}
		if j, ok := f.knative.Jobs[p.Name]; ok {
			for _, c := range j.Spec.Template.Spec.Containers {
				if c.Image != want {
					t.Errorf("infra/knative Job %s: image %q, want %q", p.Name, c.Image, want)
				}
			}
		}
		if fn, ok := custom.Functions[p.Name]; ok {
			wantImage := fmt.Sprintf("%s/%s:%s", registry, path.Base(p.ImportPath), tag)
			if fn.Image != wantImage {
				t.Errorf("stack.yml %s: with REGISTRY=%s TAG=%s the image is %q, want %q (write it as ${REGISTRY:-…}/%s:${TAG:-latest})", p.Name, registry, tag, fn.Image, wantImage, p.Name)
			}
			if !fn.SkipBuild {
				t.Errorf("stack.yml %s: skip_build must be true (ko builds the images)", p.Name)
			}
		}
	}
	for name, fn := range f.stack.Functions {
		if !strings.HasPrefix(fn.Image, "ghcr.io/jinlaiban/") {
			t.Errorf("stack.yml %s: without REGISTRY set the image is %q, want the default registry ghcr.io/jinlaiban", name, fn.Image)
		}
	}
}

// What OpenFaaS needs from each function besides its settings.
func TestStackFunctionsAreDeliberate(t *testing.T) {
	f := load(t)
	for _, name := range sortedKeys(f.stack.Functions) {
		fn := f.stack.Functions[name]
		var problems []string
		for _, l := range []string{"com.openfaas.scale.min", "com.openfaas.scale.max", "com.openfaas.scale.target", "com.openfaas.scale.type", "com.openfaas.scale.zero"} {
			if _, ok := fn.Labels[l]; !ok {
				problems = append(problems, fmt.Sprintf("label %s is not set: choose it", l))
			}
		}
		if _, err := PositiveInt("com.openfaas.scale.max", fn.Labels["com.openfaas.scale.max"]); err != nil {
			problems = append(problems, err.Error())
		}
		if !slices.Contains([]string{"true", "false"}, fn.Labels["com.openfaas.scale.zero"]) {
			problems = append(problems, "com.openfaas.scale.zero must be true or false")
		}
		for a, want := range map[string]string{"com.openfaas.health.http.path": "/_/health", "com.openfaas.ready.http.path": "/_/ready"} {
			if fn.Annotations[a] != want {
				problems = append(problems, fmt.Sprintf("annotation %s is %q, want %s", a, fn.Annotations[a], want))
			}
		}
		if fn.Limits == nil || fn.Requests == nil || fn.Limits.CPU == "" || fn.Limits.Memory == "" || fn.Requests.CPU == "" || fn.Requests.Memory == "" {
			problems = append(problems, "requests and limits (cpu and memory) must be set")
		}
		if !fn.ReadOnlyRootFilesystem {
			problems = append(problems, "readonly_root_filesystem must be true (the functions write no files)")
		}
		report(t, "stack.yml "+name, problems)
	}
}

// Every endpoint a server function registers under /api/ is routed to that function by the
// route table (longest prefix wins), so no operation is unreachable through the gateway or
// sent to another function.
func TestRouteTableReachesEveryEndpoint(t *testing.T) {
	f := load(t)
	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	for _, p := range f.servers() {
		if _, exempt := notRouted[p.Name]; exempt {
			continue
		}
		if len(p.Endpoints) == 0 {
			t.Errorf("functions/%s: found no endpoints (Handle on a fn.Router or http.ServeMux): the analysis lost them", p.Name)
		}
		for _, pattern := range p.Endpoints {
			path := pattern
			if _, rest, hasMethod := strings.Cut(pattern, " "); hasMethod {
				path = strings.TrimSpace(rest)
			}
			if !strings.HasPrefix(path, "/api/") {
				continue
			}
			sample := wildcard.ReplaceAllString(path, "x")
			if sample == "" || strings.HasSuffix(sample, "/") {
				sample += "x"
			}
			if got := f.table.Match(sample); got != p.Name {
				to := "nowhere"
				if got != "" {
					to = "to " + got
				}
				t.Errorf("functions/%s serves %q, but infra/gateway/routes.yaml sends %s %s: add a prefix for it (then make httproutes)", p.Name, pattern, sample, to)
			}
		}
	}
}

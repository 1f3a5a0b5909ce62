package checks

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayvalidation "sigs.k8s.io/gateway-api/apis/v1/validation"

	"github.com/jinlaiban/openplatform/infra/checks/httproutes"
)

var generated = map[string]string{
	"knative":  "infra/knative/httproutes.yaml",
	"openfaas": "infra/gateway/httproutes-openfaas.yaml",
}

// The committed HTTPRoutes are exactly what the generator makes from the route table now,
// so the table and the routes cannot drift apart.
func TestHTTPRoutesAreGeneratedFromTheRouteTable(t *testing.T) {
	f := load(t)
	for target, file := range generated {
		want, err := httproutes.Generate(f.path("infra", "gateway", "routes.yaml"), httproutes.Defaults[target])
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.path(file))
		if err != nil {
			t.Errorf("%s: %v (run make httproutes)", file, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what infra/gateway/routes.yaml generates now: run make httproutes (and do not edit the file by hand)", file)
		}
	}
}

// Every route of the table is a PathPrefix match that reaches its function, on both
// targets, and the routes pass the Gateway API's validation.
func TestHTTPRoutesReachTheFunctions(t *testing.T) {
	f := load(t)
	b, err := os.ReadFile(f.path(generated["openfaas"]))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := Documents(b)
	if err != nil {
		t.Fatal(err)
	}
	openfaas := map[string]*gatewayv1.HTTPRoute{}
	for _, d := range docs {
		var r gatewayv1.HTTPRoute
		if err := yaml.UnmarshalStrict(d, &r); err != nil {
			t.Fatal(err)
		}
		for _, e := range gatewayvalidation.ValidateHTTPRoute(&r) {
			t.Errorf("%s HTTPRoute %s: %v", generated["openfaas"], r.Name, e)
		}
		openfaas[r.Name] = &r
	}
	for _, route := range f.table.Routes {
		kn := f.knative.HTTPRoutes[route.Function]
		if !routes(kn, route.Prefix, "Service", route.Function) {
			t.Errorf("infra/knative/httproutes.yaml: no rule sends PathPrefix %s to Service %s", route.Prefix, route.Function)
		}
		of := openfaas["openfaas-"+route.Function]
		if !routes(of, route.Prefix, "Service", "gateway") || !rewritesTo(of, route.Prefix, "/function/"+route.Function+route.Prefix) {
			t.Errorf("%s: no rule sends PathPrefix %s to the OpenFaaS gateway as /function/%s%s", generated["openfaas"], route.Prefix, route.Function, route.Prefix)
		}
	}
	for name, r := range f.knative.HTTPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, be := range rule.BackendRefs {
				if s, ok := f.knative.Services[string(be.Name)]; !ok || s.Labels[ComponentLabel] != "function" {
					t.Errorf("infra/knative HTTPRoute %s sends traffic to %s, which is not a function's Knative Service", name, be.Name)
				}
			}
		}
	}
}

func routes(r *gatewayv1.HTTPRoute, prefix, kind, backend string) bool {
	if r == nil {
		return false
	}
	for _, rule := range r.Spec.Rules {
		matches := false
		for _, m := range rule.Matches {
			matches = matches || m.Path != nil && m.Path.Type != nil && *m.Path.Type == gatewayv1.PathMatchPathPrefix && m.Path.Value != nil && *m.Path.Value == prefix
		}
		if !matches {
			continue
		}
		for _, be := range rule.BackendRefs {
			if be.Kind != nil && string(*be.Kind) == kind && string(be.Name) == backend {
				return true
			}
		}
	}
	return false
}

func rewritesTo(r *gatewayv1.HTTPRoute, prefix, path string) bool {
	for _, rule := range r.Spec.Rules {
		for _, m := range rule.Matches {
			if m.Path == nil || m.Path.Value == nil || *m.Path.Value != prefix {
				continue
			}
			for _, fl := range rule.Filters {
				if fl.URLRewrite != nil && fl.URLRewrite.Path != nil && fl.URLRewrite.Path.ReplacePrefixMatch != nil &&
					strings.EqualFold(*fl.URLRewrite.Path.ReplacePrefixMatch, path) {
					return true
				}
			}
		}
	}
	return false
}

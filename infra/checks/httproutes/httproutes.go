// Package httproutes turns the gateway's route table (infra/gateway/routes.yaml, read with
// the local gateway's own loader) into Gateway API HTTPRoutes: one HTTPRoute per function,
// one rule per path prefix. A PathPrefix match in the Gateway API matches whole path
// segments and the longest prefix wins, exactly as the route table's prefixes do.
package httproutes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/jinlaiban/openplatform/infra/devstack/gateway"
)

// Options say where the routes attach and where they send traffic.
type Options struct {
	// Target is "knative" (each prefix goes to the function's Knative Service) or
	// "openfaas" (each prefix goes to the OpenFaaS gateway under /function/<name>).
	Target string
	// Namespace is the functions' namespace (knative) or OpenFaaS's (openfaas).
	Namespace string
	// GatewayName and GatewayNamespace name the Gateway the routes attach to.
	GatewayName      string
	GatewayNamespace string
	// ClusterDomain is the cluster's DNS domain (knative: the Host the Knative ingress
	// knows a cluster-local Service by is <name>.<namespace>.svc.<domain>).
	ClusterDomain string
}

// Defaults are what the committed files are generated with.
var Defaults = map[string]Options{
	"knative":  {Target: "knative", Namespace: "jinlaiban-open", GatewayName: "public", GatewayNamespace: "gateway-system", ClusterDomain: "cluster.local"},
	"openfaas": {Target: "openfaas", Namespace: "openfaas", GatewayName: "public", GatewayNamespace: "gateway-system", ClusterDomain: "cluster.local"},
}

// maxRules is the Gateway API's limit on rules per HTTPRoute.
const maxRules = 16

// Build makes the HTTPRoutes for the table.
func Build(t gateway.Table, o Options) ([]*gatewayv1.HTTPRoute, error) {
	if o.Target != "knative" && o.Target != "openfaas" {
		return nil, fmt.Errorf("target %q: want knative or openfaas", o.Target)
	}
	prefixes := map[string][]string{}
	for _, r := range t.Routes {
		prefixes[r.Function] = append(prefixes[r.Function], r.Prefix)
	}
	var out []*gatewayv1.HTTPRoute
	for _, fn := range t.Functions() {
		ps := prefixes[fn]
		sort.Strings(ps)
		if len(ps) > maxRules {
			return nil, fmt.Errorf("function %s has %d prefixes; an HTTPRoute holds at most %d rules", fn, len(ps), maxRules)
		}
		route := &gatewayv1.HTTPRoute{
			TypeMeta: metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
			ObjectMeta: metav1.ObjectMeta{
				Name: fn,
				Labels: map[string]string{
					"app.kubernetes.io/name":             fn,
					"app.kubernetes.io/managed-by":       "infra-checks-httproutes",
					"openplatform.jinlaiban/deploy-step": "serve",
				},
			},
			Spec: gatewayv1.HTTPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{
				ParentRefs: []gatewayv1.ParentReference{{
					Name:      gatewayv1.ObjectName(o.GatewayName),
					Namespace: ptr(gatewayv1.Namespace(o.GatewayNamespace)),
				}},
			}},
		}
		if o.Target == "openfaas" {
			route.Name = "openfaas-" + fn
			route.Namespace = o.Namespace
		}
		for _, p := range ps {
			route.Spec.Rules = append(route.Spec.Rules, rule(fn, p, o))
		}
		out = append(out, route)
	}
	return out, nil
}

func rule(fn, prefix string, o Options) gatewayv1.HTTPRouteRule {
	r := gatewayv1.HTTPRouteRule{
		Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{
			Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr(prefix),
		}}},
	}
	rewrite := &gatewayv1.HTTPURLRewriteFilter{}
	var backend gatewayv1.BackendObjectReference
	switch o.Target {
	case "knative":
		// The function's Knative Service (the Service Knative makes for it, port 80). The
		// Knative ingress behind it routes by Host, so the Host becomes the Service's
		// cluster-local name.
		rewrite.Hostname = ptr(gatewayv1.PreciseHostname(fmt.Sprintf("%s.%s.svc.%s", fn, o.Namespace, o.ClusterDomain)))
		backend = gatewayv1.BackendObjectReference{Kind: ptr(gatewayv1.Kind("Service")), Name: gatewayv1.ObjectName(fn), Port: ptr(gatewayv1.PortNumber(80))}
	case "openfaas":
		// The OpenFaaS gateway serves a function under /function/<name>/ and hands it the rest
		// of the path, so the function sees the public path unchanged.
		rewrite.Path = &gatewayv1.HTTPPathModifier{Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr("/function/" + fn + prefix)}
		backend = gatewayv1.BackendObjectReference{Kind: ptr(gatewayv1.Kind("Service")), Name: "gateway", Port: ptr(gatewayv1.PortNumber(8080))}
	}
	r.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: rewrite}}
	r.BackendRefs = []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: backend}}}
	return r
}

func ptr[T any](v T) *T { return &v }

// Render writes the routes as a multi-document YAML file under a header naming the source.
func Render(routes []*gatewayv1.HTTPRoute, o Options) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Code generated by infra/checks/cmd/httproutes (make httproutes) from\n")
	fmt.Fprintf(&buf, "# infra/gateway/routes.yaml. DO NOT EDIT: change the route table and regenerate.\n")
	fmt.Fprintf(&buf, "# Target %s; Gateway %s/%s.\n", o.Target, o.GatewayNamespace, o.GatewayName)
	for _, r := range routes {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		delete(m, "status")
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		y, err := yaml.Marshal(m)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	return buf.Bytes(), nil
}

// Generate loads the route table and renders its HTTPRoutes.
func Generate(routesFile string, o Options) ([]byte, error) {
	t, err := gateway.LoadTable(routesFile)
	if err != nil {
		return nil, err
	}
	routes, err := Build(t, o)
	if err != nil {
		return nil, err
	}
	return Render(routes, o)
}

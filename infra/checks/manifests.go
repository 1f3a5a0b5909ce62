package checks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	kusttypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Labels and annotations the manifests carry for the deployment and for these checks.
const (
	DeployStepLabel   = "openplatform.jinlaiban/deploy-step" // prepare | migrate | serve
	ComponentLabel    = "app.kubernetes.io/component"        // function | job | infrastructure
	BudgetAnnotation  = "openplatform.jinlaiban/db-connection-budget"
	MaxScaleKey       = "autoscaling.knative.dev/max-scale"
	MinScaleKey       = "autoscaling.knative.dev/min-scale"
	VisibilityLabel   = "networking.knative.dev/visibility"
	SecretPlaceholder = "REPLACE_ME"
)

// Object is one manifest as kustomize renders it.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	YAML []byte `json:"-"`
}

// ID names the object in messages.
func (o Object) ID() string { return o.Kind + " " + o.Metadata.Name }

// Knative is the rendered infra/knative kustomization, decoded into the platforms' types.
type Knative struct {
	Objects      []Object
	Namespaces   map[string]*corev1.Namespace
	ConfigMaps   map[string]*corev1.ConfigMap
	Services     map[string]*servingv1.Service
	Jobs         map[string]*batchv1.Job
	Brokers      map[string]*eventingv1.Broker
	Triggers     map[string]*eventingv1.Trigger
	PingSources  map[string]*sourcesv1.PingSource
	SinkBindings map[string]*sourcesv1.SinkBinding
	HTTPRoutes   map[string]*gatewayv1.HTTPRoute
}

// LoadKnative renders the kustomization in dir (as `kubectl kustomize` does) and decodes
// every object strictly (an unknown field is an error) into its Go type.
func LoadKnative(dir string) (*Knative, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out := &Knative{
		Namespaces: map[string]*corev1.Namespace{}, ConfigMaps: map[string]*corev1.ConfigMap{},
		Services: map[string]*servingv1.Service{}, Jobs: map[string]*batchv1.Job{},
		Brokers: map[string]*eventingv1.Broker{}, Triggers: map[string]*eventingv1.Trigger{},
		PingSources: map[string]*sourcesv1.PingSource{}, SinkBindings: map[string]*sourcesv1.SinkBinding{},
		HTTPRoutes: map[string]*gatewayv1.HTTPRoute{},
	}
	var errs []error
	for _, r := range rm.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		var o Object
		if err := yaml.Unmarshal(b, &o); err != nil {
			return nil, err
		}
		o.YAML = b
		out.Objects = append(out.Objects, o)
		if err := out.decode(o); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.ID(), err))
		}
	}
	return out, errors.Join(errs...)
}

func decodeInto[T any](o Object, m map[string]*T) error {
	if _, dup := m[o.Metadata.Name]; dup {
		return errors.New("defined twice")
	}
	v := new(T)
	if err := yaml.UnmarshalStrict(o.YAML, v); err != nil {
		return err
	}
	m[o.Metadata.Name] = v
	return nil
}

func (k *Knative) decode(o Object) error {
	switch o.APIVersion + " " + o.Kind {
	case "v1 Namespace":
		return decodeInto(o, k.Namespaces)
	case "v1 ConfigMap":
		return decodeInto(o, k.ConfigMaps)
	case "v1 Secret":
		return errors.New("Secrets are not part of the kustomization: they hold real keys; see secrets.example.yaml")
	case "serving.knative.dev/v1 Service":
		return decodeInto(o, k.Services)
	case "batch/v1 Job":
		return decodeInto(o, k.Jobs)
	case "eventing.knative.dev/v1 Broker":
		return decodeInto(o, k.Brokers)
	case "eventing.knative.dev/v1 Trigger":
		return decodeInto(o, k.Triggers)
	case "sources.knative.dev/v1 PingSource":
		return decodeInto(o, k.PingSources)
	case "sources.knative.dev/v1 SinkBinding":
		return decodeInto(o, k.SinkBindings)
	case "gateway.networking.k8s.io/v1 HTTPRoute":
		return decodeInto(o, k.HTTPRoutes)
	}
	return fmt.Errorf("apiVersion %q kind %q is not known to infra/checks: add it to Knative.decode (and validate it)", o.APIVersion, o.Kind)
}

// Documents splits a multi-document YAML file.
func Documents(b []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var out [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			out = append(out, doc)
		}
	}
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

// LoadSecrets decodes the example Secrets.
func LoadSecrets(path string) (map[string]*corev1.Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	docs, err := Documents(b)
	if err != nil {
		return nil, err
	}
	out := map[string]*corev1.Secret{}
	for _, d := range docs {
		var s corev1.Secret
		if err := yaml.UnmarshalStrict(d, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if s.Kind != "Secret" || s.APIVersion != "v1" {
			return nil, fmt.Errorf("%s: %s %s %q is not a v1 Secret", path, s.APIVersion, s.Kind, s.Name)
		}
		if _, dup := out[s.Name]; dup {
			return nil, fmt.Errorf("%s: Secret %q is defined twice", path, s.Name)
		}
		out[s.Name] = &s
	}
	return out, nil
}

// KustomizationFiles returns the files kustomization.yaml in dir lists as resources (as
// paths relative to dir), and the YAML files present under dir that it does not list,
// leaving out the ones named in notResources.
func KustomizationFiles(dir string, notResources ...string) (listed, unlisted []string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var k kusttypes.Kustomization
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		return nil, nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	seen := map[string]bool{"kustomization.yaml": true}
	for _, n := range notResources {
		seen[n] = true
	}
	for _, r := range k.Resources {
		p := filepath.Clean(r)
		listed = append(listed, p)
		seen[p] = true
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if (strings.HasSuffix(rel, ".yaml") || strings.HasSuffix(rel, ".yml")) && !seen[rel] {
			unlisted = append(unlisted, rel)
		}
		return nil
	})
	sort.Strings(unlisted)
	return listed, unlisted, err
}

// SinkBindingVars are what a SinkBinding injects into its subject's containers.
var SinkBindingVars = []string{"K_SINK", "K_CE_OVERRIDES"}

// SinkBound reports whether a SinkBinding of the kustomization binds the Knative Service
// name (so its containers get K_SINK from the binding).
func (k *Knative) SinkBound(name string) bool {
	for _, sb := range k.SinkBindings {
		s := sb.Spec.Subject
		if s.Kind == "Service" && strings.HasPrefix(s.APIVersion, "serving.knative.dev/") && s.Name == name {
			return true
		}
	}
	return false
}

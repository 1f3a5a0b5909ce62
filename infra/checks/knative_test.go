package checks

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventingconfig "knative.dev/eventing/pkg/apis/config"
	"knative.dev/eventing/pkg/apis/feature"
	"knative.dev/pkg/apis"
	servingconfig "knative.dev/serving/pkg/apis/config"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	asconfig "knative.dev/serving/pkg/autoscaler/config"
	gatewayvalidation "sigs.k8s.io/gateway-api/apis/v1/validation"
)

// createContext is the context Knative's admission webhooks validate a new object in: the
// clusters' default config-defaults, config-features and config-autoscaler (Serving), and
// config-br-defaults and config-features (Eventing), within a create.
func createContext(t *testing.T) context.Context {
	t.Helper()
	defaults, err := servingconfig.NewDefaultsConfigFromMap(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	features, err := servingconfig.NewFeaturesConfigFromMap(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	autoscaler, err := asconfig.NewConfigFromMap(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	// Knative Eventing's config-br-defaults as installed.
	brDefaults, err := eventingconfig.NewDefaultsConfigFromMap(map[string]string{"default-br-config": `
clusterDefault:
  brokerClass: MTChannelBasedBroker
  apiVersion: v1
  kind: ConfigMap
  name: config-br-default-channel
  namespace: knative-eventing
  delivery:
    retry: 10
    backoffPolicy: exponential
    backoffDelay: PT0.2S
`})
	if err != nil {
		t.Fatal(err)
	}
	flags, err := feature.NewFlagsConfigFromMap(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := servingconfig.ToContext(context.Background(), &servingconfig.Config{Defaults: defaults, Features: features, Autoscaler: autoscaler})
	ctx = eventingconfig.ToContext(ctx, &eventingconfig.Config{Defaults: brDefaults})
	ctx = feature.ToContext(ctx, flags)
	return apis.WithinCreate(ctx)
}

// knativeObject is what every Knative type offers its webhook.
type knativeObject interface {
	apis.Defaultable
	apis.Validatable
}

// validate does what the webhooks do on create: default, then validate.
func validate(ctx context.Context, o knativeObject) error {
	o.SetDefaults(ctx)
	if err := o.Validate(ctx); err != nil {
		return err
	}
	return nil
}

func TestKnativeObjectsValidate(t *testing.T) {
	f := load(t)
	ctx := createContext(t)
	k := f.knative
	check := func(kind, name string, o knativeObject) {
		if err := validate(ctx, o); err != nil {
			t.Errorf("%s %s: %v", kind, name, err)
		}
	}
	for name, s := range k.Services {
		check("Service", name, s.DeepCopy())
	}
	for name, b := range k.Brokers {
		check("Broker", name, b.DeepCopy())
	}
	for name, tr := range k.Triggers {
		check("Trigger", name, tr.DeepCopy())
	}
	for name, ps := range k.PingSources {
		check("PingSource", name, ps.DeepCopy())
	}
	for name, sb := range k.SinkBindings {
		check("SinkBinding", name, sb.DeepCopy())
	}
	for name, r := range k.HTTPRoutes {
		for _, err := range gatewayvalidation.ValidateHTTPRoute(r) {
			t.Errorf("HTTPRoute %s: %v", name, err)
		}
	}
	if len(k.Services) == 0 || len(k.Brokers) == 0 {
		t.Fatalf("rendered %d Services and %d Brokers: the kustomization lost its resources", len(k.Services), len(k.Brokers))
	}
}

// The validation above must be able to fail: break a copy of a real Service in ways the
// webhook rejects and see each rejected.
func TestKnativeValidationCatchesMistakes(t *testing.T) {
	f := load(t)
	ctx := createContext(t)
	var svc *servingv1.Service
	for _, name := range sortedKeys(f.knative.Services) {
		svc = f.knative.Services[name]
		break
	}
	for what, breakIt := range map[string]func(s *servingv1.Service){
		"negative max-scale":    func(s *servingv1.Service) { s.Spec.Template.Annotations[MaxScaleKey] = "-1" },
		"min-scale over max":    func(s *servingv1.Service) { s.Spec.Template.Annotations[MinScaleKey] = "99" },
		"concurrency over 1000": func(s *servingv1.Service) { c := int64(5000); s.Spec.Template.Spec.ContainerConcurrency = &c },
		"timeout over the max":  func(s *servingv1.Service) { tm := int64(3600); s.Spec.Template.Spec.TimeoutSeconds = &tm },
		"reserved PORT variable": func(s *servingv1.Service) {
			c := &s.Spec.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "PORT", Value: "9"})
		},
		"metric KPA cannot use": func(s *servingv1.Service) { s.Spec.Template.Annotations["autoscaling.knative.dev/metric"] = "cpu" },
		"utilization over 100%": func(s *servingv1.Service) {
			s.Spec.Template.Annotations["autoscaling.knative.dev/target-utilization-percentage"] = "150"
		},
	} {
		s := svc.DeepCopy()
		breakIt(s)
		if err := validate(ctx, s); err == nil {
			t.Errorf("Service %s with a %s: validation passed, want an error", s.Name, what)
		}
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	f := load(t)
	_, unlisted, err := KustomizationFiles(f.path("infra", "knative"), "secrets.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unlisted {
		t.Errorf("infra/knative/%s is not listed under resources in infra/knative/kustomization.yaml", u)
	}
}

func TestEveryObjectHasADeployStep(t *testing.T) {
	f := load(t)
	// make deploy-knative applies by this label: prepare, then migrate (waited for), then serve.
	want := map[string]string{"Namespace": "prepare", "ConfigMap": "prepare", "Job": "migrate"}
	for _, o := range f.knative.Objects {
		step, wantStep := o.Metadata.Labels[DeployStepLabel], want[o.Kind]
		if wantStep == "" {
			wantStep = "serve"
		}
		if step != wantStep {
			t.Errorf("%s: label %s is %q, want %q", o.ID(), DeployStepLabel, step, wantStep)
		}
	}
}

// The shape every function's Service must have, beyond what Knative itself demands.
func TestFunctionServicesAreDeliberate(t *testing.T) {
	f := load(t)
	for _, p := range f.servers() {
		s, found := f.knative.Services[p.Name]
		if !found {
			continue // TestSameFunctionsEverywhere names it
		}
		var problems []string
		spec := s.Spec.Template.Spec
		ann := s.Spec.Template.Annotations
		for _, key := range []string{MinScaleKey, MaxScaleKey} {
			if _, set := ann[key]; !set {
				problems = append(problems, fmt.Sprintf("spec.template annotation %s is not set: choose it", key))
			}
		}
		if _, err := PositiveInt(MaxScaleKey, ann[MaxScaleKey]); err != nil {
			problems = append(problems, err.Error()+" (0 would mean unbounded, which no connection budget survives)")
		}
		if spec.ContainerConcurrency == nil || *spec.ContainerConcurrency == 0 {
			problems = append(problems, "containerConcurrency is not set (0 is unlimited): choose it")
		}
		if spec.TimeoutSeconds == nil {
			problems = append(problems, "timeoutSeconds is not set: choose it")
		}
		if s.Labels[VisibilityLabel] != "cluster-local" {
			problems = append(problems, fmt.Sprintf("label %s is not cluster-local: functions are reached through the gateway's HTTPRoutes only", VisibilityLabel))
		}
		if s.Labels[ComponentLabel] != "function" {
			problems = append(problems, fmt.Sprintf("label %s is %q, want function", ComponentLabel, s.Labels[ComponentLabel]))
		}
		if len(spec.Containers) != 1 {
			problems = append(problems, fmt.Sprintf("%d containers, want 1", len(spec.Containers)))
		} else {
			c := spec.Containers[0]
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/_/health" {
				problems = append(problems, "livenessProbe must be httpGet /_/health")
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/_/ready" {
				problems = append(problems, "readinessProbe must be httpGet /_/ready")
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, set := c.Resources.Requests[r]; !set {
					problems = append(problems, fmt.Sprintf("resources.requests.%s is not set", r))
				}
				if _, set := c.Resources.Limits[r]; !set {
					problems = append(problems, fmt.Sprintf("resources.limits.%s is not set", r))
				}
			}
		}
		report(t, "infra/knative Service "+p.Name, problems)
	}
}

func TestMigrateJobs(t *testing.T) {
	f := load(t)
	for _, p := range f.jobs() {
		j, found := f.knative.Jobs[p.Name]
		if !found {
			continue // TestSameFunctionsEverywhere names it
		}
		var problems []string
		spec := j.Spec.Template.Spec
		if spec.RestartPolicy != corev1.RestartPolicyNever && spec.RestartPolicy != corev1.RestartPolicyOnFailure {
			problems = append(problems, fmt.Sprintf("restartPolicy %q, want Never or OnFailure", spec.RestartPolicy))
		}
		if j.Spec.BackoffLimit == nil || j.Spec.ActiveDeadlineSeconds == nil {
			problems = append(problems, "backoffLimit and activeDeadlineSeconds must be set: a stuck job must end")
		}
		if len(spec.Containers) != 1 {
			problems = append(problems, fmt.Sprintf("%d containers, want 1", len(spec.Containers)))
		}
		report(t, "infra/knative Job "+p.Name, problems)
	}
}

func TestBrokerDeliveryHasRetriesAndADeadLetterSink(t *testing.T) {
	f := load(t)
	if _, found := f.knative.Brokers["default"]; !found {
		t.Error("no Broker named default")
	}
	for name, b := range f.knative.Brokers {
		d := b.Spec.Delivery
		switch {
		case d == nil:
			t.Errorf("Broker %s: no delivery spec", name)
			continue
		case d.Retry == nil || *d.Retry < 1 || d.BackoffPolicy == nil || d.BackoffDelay == nil:
			t.Errorf("Broker %s: delivery must set retry, backoffPolicy and backoffDelay", name)
		case d.DeadLetterSink == nil:
			t.Errorf("Broker %s: delivery has no deadLetterSink", name)
		}
		if d.DeadLetterSink != nil && d.DeadLetterSink.Ref != nil {
			ref := d.DeadLetterSink.Ref
			if ref.Kind == "Service" && strings.HasPrefix(ref.APIVersion, "serving.knative.dev/") {
				if _, found := f.knative.Services[ref.Name]; !found {
					t.Errorf("Broker %s: deadLetterSink is Service %s, which the kustomization does not define", name, ref.Name)
				}
			}
		}
	}
}

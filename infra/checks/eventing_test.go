package checks

import (
	"strings"
	"testing"

	duckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/jinlaiban/openplatform/shared/events"
)

// eventConsumer is the function every review decision is delivered to.
const eventConsumer = "notify"

// Every decision event type the code defines (shared/events.DecisionTypes) has a Trigger on
// the Broker that delivers it to notify, with retries and the dead-letter sink; no Trigger
// filters on a type the code does not emit.
func TestEveryDecisionReachesNotify(t *testing.T) {
	f := load(t)
	byType := map[string][]string{}
	for _, name := range sortedKeys(f.knative.Triggers) {
		tr := f.knative.Triggers[name]
		if _, ok := f.knative.Brokers[tr.Spec.Broker]; !ok {
			t.Errorf("Trigger %s: Broker %q is not defined by the kustomization", name, tr.Spec.Broker)
		}
		typ := ""
		if tr.Spec.Filter != nil {
			typ = tr.Spec.Filter.Attributes["type"]
		}
		if !events.IsDecision(typ) {
			t.Errorf("Trigger %s filters on type %q, which is not one of shared/events.DecisionTypes", name, typ)
			continue
		}
		if ref := tr.Spec.Subscriber.Ref; ref == nil || ref.Kind != "Service" || ref.Name != eventConsumer {
			t.Errorf("Trigger %s: subscriber is not the Service %s", name, eventConsumer)
		}
		d := tr.Spec.Delivery
		if d == nil || d.Retry == nil || *d.Retry < 1 || d.BackoffPolicy == nil || d.BackoffDelay == nil || d.DeadLetterSink == nil {
			t.Errorf("Trigger %s: delivery must set retry, backoffPolicy, backoffDelay and a deadLetterSink", name)
		} else {
			checkRef(t, f, "Trigger "+name+" deadLetterSink", d.DeadLetterSink)
		}
		byType[typ] = append(byType[typ], name)
	}
	for _, typ := range events.DecisionTypes {
		switch n := len(byType[typ]); {
		case n == 0:
			t.Errorf("no Trigger delivers %s to %s: add one to infra/knative/eventing.yaml", typ, eventConsumer)
		case n > 1:
			t.Errorf("%s is delivered by %d Triggers (%s): notify would get it more than once", typ, n, strings.Join(byType[typ], ", "))
		}
	}
}

// The PingSources and SinkBindings point at objects the kustomization defines, and every
// Knative Service whose program needs K_SINK has a SinkBinding.
func TestSourcesAndBindingsResolve(t *testing.T) {
	f := load(t)
	for _, name := range sortedKeys(f.knative.PingSources) {
		ps := f.knative.PingSources[name]
		if ps.Spec.Schedule == "" {
			t.Errorf("PingSource %s has no schedule", name)
		}
		checkRef(t, f, "PingSource "+name+" sink", &ps.Spec.Sink)
	}
	for _, name := range sortedKeys(f.knative.SinkBindings) {
		sb := f.knative.SinkBindings[name]
		if _, ok := f.knative.Services[sb.Spec.Subject.Name]; !ok || sb.Spec.Subject.Kind != "Service" {
			t.Errorf("SinkBinding %s: subject %s %s is not a Service of the kustomization", name, sb.Spec.Subject.Kind, sb.Spec.Subject.Name)
		}
		checkRef(t, f, "SinkBinding "+name+" sink", &sb.Spec.Sink)
	}
	for _, p := range f.servers() {
		if s, ok := p.Settings["K_SINK"]; ok && s.Required && !f.knative.SinkBound(p.Name) {
			t.Errorf("functions/%s needs K_SINK, but no SinkBinding binds its Knative Service", p.Name)
		}
	}
}

func checkRef(t *testing.T, f *fixtures, what string, d *duckv1.Destination) {
	t.Helper()
	if d.Ref == nil {
		if d.URI == nil {
			t.Errorf("%s: neither ref nor uri", what)
		}
		return
	}
	switch {
	case d.Ref.Kind == "Service" && strings.HasPrefix(d.Ref.APIVersion, "serving.knative.dev/"):
		if _, ok := f.knative.Services[d.Ref.Name]; !ok {
			t.Errorf("%s: Service %s is not defined by the kustomization", what, d.Ref.Name)
		}
	case d.Ref.Kind == "Broker":
		if _, ok := f.knative.Brokers[d.Ref.Name]; !ok {
			t.Errorf("%s: Broker %s is not defined by the kustomization", what, d.Ref.Name)
		}
	default:
		t.Errorf("%s: refers to %s %s, which these checks cannot resolve", what, d.Ref.APIVersion, d.Ref.Kind)
	}
}

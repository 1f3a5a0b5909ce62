package checks

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// notNeeded lists required settings a function's code can reach but that this deployment
// leaves unset on purpose, per function, with the reason. Every entry must still name a
// setting the function reads.
var notNeeded = map[string]map[string]string{
	"sso-ticket": {
		"SMS_PROVIDER": "read only when CITIZEN_SIGNIN_ENABLED=true: the super-app simulator's SMS sign-in, test environments only",
	},
}

// platformDifferences lists settings whose value may differ between the Knative and the
// OpenFaaS deployment of a function, with the reason; every other setting given on both must
// have the same value.
var platformDifferences = map[string]string{
	"TRUSTED_PROXY_HOPS": "the proxies in front of a function differ (Knative: gateway, ingress, queue-proxy; OpenFaaS: gateway, OpenFaaS gateway)",
	"K_SINK":             "relay-outbox's event sink: on Knative the Broker, injected by a SinkBinding (not in the Service); on OpenFaaS, which has no Broker, notify's address",
	"RELAY_OUTBOX_URL":   "functions reach each other by platform-specific addresses (Knative: <name>.<namespace>.svc.cluster.local; OpenFaaS: the gateway's /function/<name>)",
	"NOTIFY_URL":         "functions reach each other by platform-specific addresses (Knative: <name>.<namespace>.svc.cluster.local; OpenFaaS: the gateway's /function/<name>)",
}

// Every setting a function reads that must be set is given, secrets come from Secrets
// (Knative) or OpenFaaS secrets by the names in the code's secret tags, and nothing is set
// that the function does not read (a misspelt variable, or a secret it has no business
// holding).
func TestKnativeGivesEachProgramItsSettings(t *testing.T) {
	f := load(t)
	for _, p := range f.programs {
		var (
			where string
			env   map[string]Source
			probs []string
		)
		if s, ok := f.knative.Services[p.Name]; ok && len(s.Spec.Template.Spec.Containers) == 1 {
			where = "infra/knative Service " + p.Name
			env, probs = ContainerEnv(s.Spec.Template.Spec.Containers[0], f.knative.ConfigMaps)
			for _, v := range SinkBindingVars {
				if _, set := env[v]; set && f.knative.SinkBound(p.Name) {
					probs = append(probs, fmt.Sprintf("sets %s, which its SinkBinding injects: remove it here", v))
				}
			}
			if f.knative.SinkBound(p.Name) {
				env["K_SINK"] = Source{Kind: "sinkbinding"} // what a program does not read is reported below
			}
		} else if j, ok := f.knative.Jobs[p.Name]; ok && len(j.Spec.Template.Spec.Containers) == 1 {
			where = "infra/knative Job " + p.Name
			env, probs = ContainerEnv(j.Spec.Template.Spec.Containers[0], f.knative.ConfigMaps)
		} else {
			continue // TestSameFunctionsEverywhere names it
		}
		probs = append(probs, CheckKnativeEnv(p, env, f.hasSecret, notNeeded[p.Name])...)
		report(t, where, probs)
	}
}

func TestOpenFaaSGivesEachFunctionItsSettings(t *testing.T) {
	f := load(t)
	for _, name := range sortedKeys(f.stack.Functions) {
		p, ok := f.programs[name]
		if !ok {
			continue // TestSameFunctionsEverywhere names it
		}
		report(t, "stack.yml "+name, CheckOpenFaaSEnv(p, f.stack.Functions[name], notNeeded[name]))
	}
}

func TestNotNeededIsCurrent(t *testing.T) {
	f := load(t)
	for fn, vars := range notNeeded {
		p, ok := f.programs[fn]
		if !ok {
			t.Errorf("notNeeded in infra/checks/settings_test.go names function %s, which does not exist: remove it", fn)
			continue
		}
		for v := range vars {
			if s, ok := p.Settings[v]; !ok || !s.Required {
				t.Errorf("notNeeded in infra/checks/settings_test.go exempts %s from %s, which it no longer reads as required: remove the entry", fn, v)
			}
		}
	}
}

// A function runs the same way on both platforms: same non-secret settings with the same
// values (but for platformDifferences), same secrets, same max scale and pool size (so the
// same connection budget holds), and scale to zero on one exactly when on the other.
func TestPlatformsAgree(t *testing.T) {
	f := load(t)
	for _, p := range f.servers() {
		s, inKnative := f.knative.Services[p.Name]
		fn, inStack := f.stack.Functions[p.Name]
		if !inKnative || !inStack || len(s.Spec.Template.Spec.Containers) != 1 {
			continue // named elsewhere
		}
		var problems []string
		env, _ := ContainerEnv(s.Spec.Template.Spec.Containers[0], f.knative.ConfigMaps)
		knSecrets := map[string]bool{}
		for _, v := range sortedKeys(env) {
			src := env[v]
			if src.Kind == "secret" {
				if !src.Optional {
					knSecrets[src.Key] = true
				}
				continue
			}
			ofValue, inOF := fn.Environment[v]
			if _, differs := platformDifferences[v]; differs {
				continue
			}
			switch {
			case !inOF:
				problems = append(problems, fmt.Sprintf("Knative sets %s=%q, stack.yml does not", v, src.Value))
			case ofValue != src.Value:
				problems = append(problems, fmt.Sprintf("%s is %q on Knative, %q in stack.yml", v, src.Value, ofValue))
			}
		}
		for _, v := range sortedKeys(fn.Environment) {
			if _, inKn := env[v]; !inKn {
				if _, differs := platformDifferences[v]; !differs {
					problems = append(problems, fmt.Sprintf("stack.yml sets %s=%q, Knative does not", v, fn.Environment[v]))
				}
			}
		}
		ofSecrets := map[string]bool{}
		for _, name := range fn.Secrets {
			ofSecrets[name] = true
		}
		if a, b := strings.Join(sortedKeys(knSecrets), ","), strings.Join(sortedKeys(ofSecrets), ","); a != b {
			problems = append(problems, fmt.Sprintf("required secrets differ: Knative [%s], stack.yml [%s]", a, b))
		}
		ann := s.Spec.Template.Annotations
		if ann[MaxScaleKey] != fn.Labels["com.openfaas.scale.max"] {
			problems = append(problems, fmt.Sprintf("max scale differs: Knative %s=%q, stack.yml com.openfaas.scale.max=%q", MaxScaleKey, ann[MaxScaleKey], fn.Labels["com.openfaas.scale.max"]))
		}
		toZero := ann[MinScaleKey] == "0"
		if toZero != (fn.Labels["com.openfaas.scale.zero"] == "true") {
			problems = append(problems, fmt.Sprintf("scale to zero differs: Knative %s=%q, stack.yml com.openfaas.scale.zero=%q", MinScaleKey, ann[MinScaleKey], fn.Labels["com.openfaas.scale.zero"]))
		}
		report(t, "function "+p.Name, problems)
	}
}

// The example Secrets hold placeholders only, and document every secret the code reads.
func TestSecretsExampleHoldsPlaceholdersOnly(t *testing.T) {
	f := load(t)
	for _, name := range sortedKeys(f.secrets) {
		s := f.secrets[name]
		if len(s.Data) > 0 {
			t.Errorf("secrets.example.yaml Secret %s: use stringData with %s… placeholders, not data", name, SecretPlaceholder)
		}
		for _, k := range sortedKeys(s.StringData) {
			if !strings.HasPrefix(s.StringData[k], SecretPlaceholder) {
				t.Errorf("secrets.example.yaml Secret %s key %s: the value must be a placeholder starting with %s, never a real key", name, k, SecretPlaceholder)
			}
		}
	}
	var undocumented []string
	for _, p := range f.programs {
		for secret, s := range p.Secrets() {
			if !f.hasSecret(secret, secret) {
				undocumented = append(undocumented, fmt.Sprintf("%s (%s, read by %s)", secret, s.Var, p.Name))
			}
		}
	}
	sort.Strings(undocumented)
	for _, u := range undocumented {
		t.Errorf("infra/knative/secrets.example.yaml has no Secret holding secret %s: add one (Secret and key named after it)", u)
	}
}

package checks

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// GoRuntimeVars are read by the Go runtime itself, not by the code's settings structs, and
// may be set on any workload.
var GoRuntimeVars = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true, "GODEBUG": true}

// Source says where a workload's environment variable comes from.
type Source struct {
	Kind     string // "literal", "configmap", "secret" or "other"
	Value    string // literal and configmap values
	Name     string // the ConfigMap's or Secret's name
	Key      string // the key in it
	Optional bool   // a reference that may be missing
}

func (s Source) String() string {
	switch s.Kind {
	case "literal":
		return fmt.Sprintf("value %q", s.Value)
	case "configmap":
		return fmt.Sprintf("ConfigMap %s key %s (%q)", s.Name, s.Key, s.Value)
	case "secret":
		return fmt.Sprintf("Secret %s key %s", s.Name, s.Key)
	}
	return s.Kind
}

// ContainerEnv resolves a container's environment: envFrom ConfigMaps (resolved against the
// rendered ConfigMaps), then env, which wins, as in Kubernetes.
func ContainerEnv(c corev1.Container, cms map[string]*corev1.ConfigMap) (map[string]Source, []string) {
	out := map[string]Source{}
	var problems []string
	for _, ef := range c.EnvFrom {
		switch {
		case ef.Prefix != "":
			problems = append(problems, fmt.Sprintf("envFrom with a prefix (%q) is not supported here", ef.Prefix))
		case ef.SecretRef != nil:
			problems = append(problems, fmt.Sprintf("envFrom Secret %s: take each secret with env valueFrom secretKeyRef, so that what a function gets is explicit", ef.SecretRef.Name))
		case ef.ConfigMapRef != nil:
			cm, ok := cms[ef.ConfigMapRef.Name]
			if !ok {
				if ef.ConfigMapRef.Optional == nil || !*ef.ConfigMapRef.Optional {
					problems = append(problems, fmt.Sprintf("envFrom ConfigMap %s, which the kustomization does not define", ef.ConfigMapRef.Name))
				}
				continue
			}
			for k, v := range cm.Data {
				out[k] = Source{Kind: "configmap", Value: v, Name: cm.Name, Key: k}
			}
		}
	}
	seen := map[string]bool{}
	for _, e := range c.Env {
		if seen[e.Name] {
			problems = append(problems, fmt.Sprintf("env %s is listed twice", e.Name))
		}
		seen[e.Name] = true
		switch {
		case e.ValueFrom == nil:
			out[e.Name] = Source{Kind: "literal", Value: e.Value}
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			out[e.Name] = Source{Kind: "secret", Name: r.Name, Key: r.Key, Optional: r.Optional != nil && *r.Optional}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			src := Source{Kind: "configmap", Name: r.Name, Key: r.Key, Optional: r.Optional != nil && *r.Optional}
			if cm, ok := cms[r.Name]; ok {
				v, ok := cm.Data[r.Key]
				if !ok && !src.Optional {
					problems = append(problems, fmt.Sprintf("env %s: ConfigMap %s has no key %s", e.Name, r.Name, r.Key))
				}
				src.Value = v
			} else if !src.Optional {
				problems = append(problems, fmt.Sprintf("env %s: ConfigMap %s is not defined by the kustomization", e.Name, r.Name))
			}
			out[e.Name] = src
		default:
			out[e.Name] = Source{Kind: "other"}
		}
	}
	return out, problems
}

// CheckKnativeEnv compares what a workload's container is given with what the program
// reads. hasSecret reports whether the example Secrets define name/key. notNeeded lists
// required settings this deployment leaves out on purpose (with the reason).
func CheckKnativeEnv(prog *Program, env map[string]Source, hasSecret func(name, key string) bool, notNeeded map[string]string) []string {
	var problems []string
	for _, v := range sortedKeys(env) {
		src := env[v]
		s, reads := prog.Settings[v]
		if !reads {
			if !GoRuntimeVars[v] {
				problems = append(problems, fmt.Sprintf("sets %s (%s), which %s does not read: no settings struct its main reaches declares it", v, src, prog.Name))
			}
			continue
		}
		if s.Secret != "" {
			if src.Kind != "secret" || src.Key != s.Secret {
				problems = append(problems, fmt.Sprintf("%s is a secret (secret:%q in %s): take it from a Secret with env valueFrom secretKeyRef, key %s; it comes from %s", v, s.Secret, s.Struct, s.Secret, src))
			}
		}
		if src.Kind == "secret" && !hasSecret(src.Name, src.Key) {
			problems = append(problems, fmt.Sprintf("%s comes from Secret %s key %s, which infra/knative/secrets.example.yaml does not define: document it there", v, src.Name, src.Key))
		}
	}
	for _, v := range prog.SettingNames() {
		s := prog.Settings[v]
		src, given := env[v]
		if _, ok := notNeeded[v]; ok {
			continue
		}
		if s.Required && (!given || src.Optional) {
			how := "set it (a ConfigMap or env value)"
			if s.Secret != "" {
				how = fmt.Sprintf("take it from Secret %s key %s (secretKeyRef, not optional)", s.Secret, s.Secret)
			}
			problems = append(problems, fmt.Sprintf("%s reads %s (required, %s) but is not given it: %s", prog.Name, v, s.Struct, how))
		}
		if v == "DB_POOL_MAX" && !given {
			problems = append(problems, "DB_POOL_MAX must be set explicitly: it spends the database connection budget with max-scale")
		}
	}
	return problems
}

// CheckOpenFaaSEnv does the same for a function in stack.yml: settings in environment,
// secrets (by their OpenFaaS names) in secrets.
func CheckOpenFaaSEnv(prog *Program, fn StackFunction, notNeeded map[string]string) []string {
	var problems []string
	if len(fn.EnvironmentFile) > 0 {
		problems = append(problems, "environment_file is not supported by infra/checks: put the variables in environment")
	}
	for _, v := range sortedKeys(fn.Environment) {
		s, reads := prog.Settings[v]
		switch {
		case !reads && !GoRuntimeVars[v]:
			problems = append(problems, fmt.Sprintf("environment sets %s, which %s does not read", v, prog.Name))
		case reads && s.Secret != "":
			problems = append(problems, fmt.Sprintf("environment sets %s, a secret: list %q under secrets instead (never a value in stack.yml)", v, s.Secret))
		}
	}
	readsSecret := prog.Secrets()
	listed := map[string]bool{}
	for _, name := range fn.Secrets {
		if listed[name] {
			problems = append(problems, fmt.Sprintf("secret %s is listed twice", name))
		}
		listed[name] = true
		if _, ok := readsSecret[name]; !ok {
			problems = append(problems, fmt.Sprintf("is given secret %s, which %s does not read (least privilege: remove it)", name, prog.Name))
		}
	}
	for _, v := range prog.SettingNames() {
		s := prog.Settings[v]
		if _, ok := notNeeded[v]; ok {
			continue
		}
		_, inEnv := fn.Environment[v]
		switch {
		case s.Required && s.Secret != "" && !listed[s.Secret]:
			problems = append(problems, fmt.Sprintf("%s reads %s (required) from secret %s: add %s to its secrets", prog.Name, v, s.Secret, s.Secret))
		case s.Required && s.Secret == "" && !inEnv:
			problems = append(problems, fmt.Sprintf("%s reads %s (required, %s): add it to environment", prog.Name, v, s.Struct))
		}
		if v == "DB_POOL_MAX" && !inEnv {
			problems = append(problems, "DB_POOL_MAX must be set explicitly in environment: it spends the database connection budget with com.openfaas.scale.max")
		}
	}
	return problems
}

// PositiveInt parses a scale or pool number.
func PositiveInt(what, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s is %q, want a whole number of at least 1", what, s)
	}
	return n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package checks

import (
	"bytes"
	"fmt"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Stack is an OpenFaaS stack file. The OpenFaaS Go modules (faas-cli's stack package) do
// not resolve through the module proxy here, so these types mirror faas-cli's
// stack/schema.go field for field (the subset of fields a deployment of prebuilt images
// uses); decoding is strict, so a misspelt or unsupported field is an error.
type Stack struct {
	Version   string                   `yaml:"version"`
	Provider  StackProvider            `yaml:"provider"`
	Functions map[string]StackFunction `yaml:"functions"`
}

// StackProvider is faas-cli's stack.Provider.
type StackProvider struct {
	Name       string `yaml:"name"`
	GatewayURL string `yaml:"gateway"`
}

// StackFunction is faas-cli's stack.Function.
type StackFunction struct {
	Language               string            `yaml:"lang"`
	Handler                string            `yaml:"handler"`
	Image                  string            `yaml:"image"`
	SkipBuild              bool              `yaml:"skip_build"`
	Environment            map[string]string `yaml:"environment"`
	EnvironmentFile        []string          `yaml:"environment_file"`
	Secrets                []string          `yaml:"secrets"`
	Labels                 map[string]string `yaml:"labels"`
	Annotations            map[string]string `yaml:"annotations"`
	Limits                 *StackResources   `yaml:"limits"`
	Requests               *StackResources   `yaml:"requests"`
	ReadOnlyRootFilesystem bool              `yaml:"readonly_root_filesystem"`
	Constraints            []string          `yaml:"constraints"`
	Namespace              string            `yaml:"namespace"`
	BuildArgs              map[string]string `yaml:"build_args"`
	Platforms              string            `yaml:"platforms"`
	RegistryAuth           string            `yaml:"registry_auth"`
	FProcess               string            `yaml:"fprocess"`
	BuildOptions           []string          `yaml:"build_options"`
}

// StackResources is faas-cli's stack.FunctionResources.
type StackResources struct {
	Memory string `yaml:"memory"`
	CPU    string `yaml:"cpu"`
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// ExpandEnv substitutes ${NAME} and ${NAME:-default} as faas-cli does before parsing
// (getenv returns "" for an unset variable).
func ExpandEnv(b []byte, getenv func(string) string) []byte {
	return envRef.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := envRef.FindSubmatch(m)
		if v := getenv(string(sub[1])); v != "" {
			return []byte(v)
		}
		return sub[3]
	})
}

// LoadStack reads an OpenFaaS stack file, substituting variables with getenv.
func LoadStack(path string, getenv func(string) string) (*Stack, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(ExpandEnv(raw, getenv)))
	dec.KnownFields(true)
	var s Stack
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Provider.Name != "openfaas" {
		return nil, fmt.Errorf("%s: provider.name is %q, want openfaas", path, s.Provider.Name)
	}
	return &s, nil
}

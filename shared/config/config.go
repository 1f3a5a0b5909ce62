// Package config loads a program's settings from the environment (envconfig) and its
// secrets from files, so that a bad or missing setting stops the program with one line
// naming the variable.
//
// A field tagged `secret:"name"` may be given in three ways, first match wins:
// the variable itself (FOO), a file named by FOO_FILE, or the OpenFaaS secret mount
// /var/openfaas/secrets/<name>. Add ",required" to the secret tag when it must be set.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// SecretsDir is where OpenFaaS mounts secrets; a variable so tests can point elsewhere.
var SecretsDir = "/var/openfaas/secrets"

// Load fills spec (a pointer to a struct with envconfig tags) and resolves its secrets.
func Load(spec any) error {
	if err := envconfig.Process("", spec); err != nil {
		return describe(err)
	}
	return resolveSecrets(reflect.ValueOf(spec).Elem())
}

func describe(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: invalid value %q (want %s)", pe.KeyName, pe.Value, pe.TypeName)
	}
	// envconfig's own wording for a missing variable is "required key X missing value".
	msg := err.Error()
	if strings.HasPrefix(msg, "required key ") {
		key := strings.TrimSuffix(strings.TrimPrefix(msg, "required key "), " missing value")
		return fmt.Errorf("%s: required, not set", key)
	}
	return err
}

func resolveSecrets(v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Anonymous {
			if err := resolveSecrets(fv); err != nil {
				return err
			}
			continue
		}
		tag, ok := f.Tag.Lookup("secret")
		if !ok {
			continue
		}
		if f.Type.Kind() != reflect.String {
			return fmt.Errorf("config: secret field %s must be a string", f.Name)
		}
		name, required := strings.CutSuffix(tag, ",required")
		key := f.Tag.Get("envconfig")
		if key == "" {
			key = strings.ToUpper(f.Name)
		}
		if fv.String() != "" {
			continue
		}
		val, err := readSecret(key, name)
		if err != nil {
			return err
		}
		if val == "" && required {
			return fmt.Errorf("%s: required, not set (set %s, %s_FILE, or mount secret %q)", key, key, key, name)
		}
		fv.SetString(val)
	}
	return nil
}

func readSecret(key, name string) (string, error) {
	if path := os.Getenv(key + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: cannot read %s: %v", key, path, errors.Unwrap(err))
		}
		return strings.TrimSpace(string(b)), nil
	}
	b, err := os.ReadFile(SecretsDir + "/" + name)
	if err != nil {
		return "", nil // not mounted: not an error, the caller decides whether it was required
	}
	return strings.TrimSpace(string(b)), nil
}

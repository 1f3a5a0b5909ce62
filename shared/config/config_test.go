package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/config"
)

// Most tests here set variables with t.Setenv or point config.SecretsDir elsewhere, so they
// do not run in parallel.

// mountSecrets points the OpenFaaS secret mount at a fresh directory holding files.
func mountSecrets(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := config.SecretsDir
	config.SecretsDir = dir
	t.Cleanup(func() { config.SecretsDir = old })
	return dir
}

// unset makes sure variables are absent for the test (t.Setenv restores them afterwards).
func unset(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		t.Setenv(n, "")
		os.Unsetenv(n)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type smsSettings struct {
	Gateway  string        `envconfig:"CFGT_SMS_GATEWAY" required:"true"`
	Retries  int           `envconfig:"CFGT_SMS_RETRIES" default:"3"`
	Timeout  time.Duration `envconfig:"CFGT_SMS_TIMEOUT" default:"5s"`
	Sandbox  bool          `envconfig:"CFGT_SMS_SANDBOX"`
	APIKey   string        `envconfig:"CFGT_SMS_API_KEY" secret:"sms-api-key,required"`
	Callback string        `envconfig:"CFGT_SMS_CALLBACK_SECRET" secret:"sms-callback-secret"`
}

var smsVars = []string{
	"CFGT_SMS_GATEWAY", "CFGT_SMS_RETRIES", "CFGT_SMS_TIMEOUT", "CFGT_SMS_SANDBOX",
	"CFGT_SMS_API_KEY", "CFGT_SMS_API_KEY_FILE", "CFGT_SMS_CALLBACK_SECRET", "CFGT_SMS_CALLBACK_SECRET_FILE",
}

func TestLoadReadsSettingsAndDefaults(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, nil)
	t.Setenv("CFGT_SMS_GATEWAY", "https://sms.example.gov.cn")
	t.Setenv("CFGT_SMS_TIMEOUT", "1500ms")
	t.Setenv("CFGT_SMS_SANDBOX", "true")
	t.Setenv("CFGT_SMS_API_KEY", "key-from-env")
	var s smsSettings
	if err := config.Load(&s); err != nil {
		t.Fatal(err)
	}
	want := smsSettings{Gateway: "https://sms.example.gov.cn", Retries: 3, Timeout: 1500 * time.Millisecond, Sandbox: true, APIKey: "key-from-env"}
	if s != want {
		t.Fatalf("Load = %+v, want %+v", s, want)
	}
}

func TestLoadNamesAMissingRequiredSetting(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, nil)
	var s smsSettings
	err := config.Load(&s)
	if err == nil || err.Error() != "CFGT_SMS_GATEWAY: required, not set" {
		t.Fatalf("Load = %v, want %q", err, "CFGT_SMS_GATEWAY: required, not set")
	}
}

func TestLoadNamesAMalformedSettingAndItsValue(t *testing.T) {
	for name, value := range map[string]string{
		"CFGT_SMS_RETRIES": "three",
		"CFGT_SMS_TIMEOUT": "5 parsecs",
		"CFGT_SMS_SANDBOX": "maybe",
	} {
		t.Run(name, func(t *testing.T) {
			unset(t, smsVars...)
			mountSecrets(t, nil)
			t.Setenv("CFGT_SMS_GATEWAY", "https://sms.example.gov.cn")
			t.Setenv("CFGT_SMS_API_KEY", "k")
			t.Setenv(name, value)
			var s smsSettings
			err := config.Load(&s)
			if err == nil || !strings.HasPrefix(err.Error(), name+": ") || !strings.Contains(err.Error(), `"`+value+`"`) {
				t.Fatalf("Load = %v, want an error naming %s and %q", err, name, value)
			}
		})
	}
}

func TestSecretComesFromTheVariableFirst(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, map[string]string{"sms-api-key": "from-mount"})
	t.Setenv("CFGT_SMS_GATEWAY", "g")
	t.Setenv("CFGT_SMS_API_KEY", "from-env")
	t.Setenv("CFGT_SMS_API_KEY_FILE", writeFile(t, "from-file"))
	var s smsSettings
	if err := config.Load(&s); err != nil {
		t.Fatal(err)
	}
	if s.APIKey != "from-env" {
		t.Fatalf("APIKey = %q, want the variable's value", s.APIKey)
	}
}

func TestSecretComesFromTheFileNamedByFILENext(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, map[string]string{"sms-api-key": "from-mount"})
	t.Setenv("CFGT_SMS_GATEWAY", "g")
	t.Setenv("CFGT_SMS_API_KEY_FILE", writeFile(t, "  from-file\n\n"))
	var s smsSettings
	if err := config.Load(&s); err != nil {
		t.Fatal(err)
	}
	if s.APIKey != "from-file" {
		t.Fatalf("APIKey = %q, want the file's trimmed contents", s.APIKey)
	}
}

func TestSecretComesFromTheOpenFaaSMountLast(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, map[string]string{"sms-api-key": "from-mount\n", "sms-callback-secret": "\tcb\n"})
	t.Setenv("CFGT_SMS_GATEWAY", "g")
	var s smsSettings
	if err := config.Load(&s); err != nil {
		t.Fatal(err)
	}
	if s.APIKey != "from-mount" || s.Callback != "cb" {
		t.Fatalf("APIKey, Callback = %q, %q; want the mounted secrets, trimmed", s.APIKey, s.Callback)
	}
}

func TestRequiredSecretMissingEverywhereNamesTheVariable(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, nil)
	t.Setenv("CFGT_SMS_GATEWAY", "g")
	var s smsSettings
	err := config.Load(&s)
	if err == nil || !strings.HasPrefix(err.Error(), "CFGT_SMS_API_KEY: required, not set") ||
		!strings.Contains(err.Error(), "CFGT_SMS_API_KEY_FILE") || !strings.Contains(err.Error(), "sms-api-key") {
		t.Fatalf("Load = %v, want an error naming CFGT_SMS_API_KEY, its _FILE and the secret", err)
	}
}

func TestRequiredSecretInAnEmptyFileCountsAsMissing(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, map[string]string{"sms-api-key": " \n"})
	t.Setenv("CFGT_SMS_GATEWAY", "g")
	var s smsSettings
	if err := config.Load(&s); err == nil || !strings.Contains(err.Error(), "CFGT_SMS_API_KEY") {
		t.Fatalf("Load = %v, want CFGT_SMS_API_KEY required", err)
	}
}

func TestOptionalSecretMayBeAbsent(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, nil)
	t.Setenv("CFGT_SMS_GATEWAY", "g")
	t.Setenv("CFGT_SMS_API_KEY", "k")
	var s smsSettings
	if err := config.Load(&s); err != nil || s.Callback != "" {
		t.Fatalf("Load = %+v, %v; want no callback secret and no error", s, err)
	}
}

func TestUnreadableSecretFileNamesTheFILEVariable(t *testing.T) {
	unset(t, smsVars...)
	mountSecrets(t, map[string]string{"sms-api-key": "from-mount"})
	t.Setenv("CFGT_SMS_GATEWAY", "g")
	missing := filepath.Join(t.TempDir(), "no-such-secret")
	t.Setenv("CFGT_SMS_API_KEY_FILE", missing)
	var s smsSettings
	err := config.Load(&s)
	if err == nil || !strings.HasPrefix(err.Error(), "CFGT_SMS_API_KEY_FILE: ") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Load = %v, want an error naming CFGT_SMS_API_KEY_FILE and the path", err)
	}
	if s.APIKey == "from-mount" {
		t.Fatal("fell back to the mount although _FILE was set")
	}
}

type embeddedSecrets struct {
	DB
	Name string `envconfig:"CFGT_NAME" default:"reports"`
}

type DB struct {
	URL string `envconfig:"CFGT_DATABASE_URL" secret:"cfgt-database-url,required"`
}

func TestSecretsInEmbeddedStructsAreResolved(t *testing.T) {
	unset(t, "CFGT_DATABASE_URL", "CFGT_DATABASE_URL_FILE", "CFGT_NAME")
	mountSecrets(t, map[string]string{"cfgt-database-url": "postgres://db/reports\n"})
	var s embeddedSecrets
	if err := config.Load(&s); err != nil {
		t.Fatal(err)
	}
	if s.URL != "postgres://db/reports" || s.Name != "reports" {
		t.Fatalf("Load = %+v", s)
	}
}

func TestSecretWithoutAnEnvconfigTagUsesTheFieldName(t *testing.T) {
	unset(t, "CFGTTOKEN", "CFGTTOKEN_FILE")
	mountSecrets(t, nil)
	t.Setenv("CFGTTOKEN_FILE", writeFile(t, "tok"))
	var s struct {
		Cfgttoken string `secret:"cfgt-token,required"`
	}
	if err := config.Load(&s); err != nil || s.Cfgttoken != "tok" {
		t.Fatalf("Load = %+v, %v", s, err)
	}
}

func TestSecretMustBeAStringField(t *testing.T) {
	t.Parallel() // fails before any variable or mount is read
	var s struct {
		Pin int `envconfig:"CFGT_UNSET_PIN" secret:"pin"`
	}
	err := config.Load(&s)
	if err == nil || !strings.Contains(err.Error(), "Pin") {
		t.Fatalf("Load = %v, want an error naming the field", err)
	}
}

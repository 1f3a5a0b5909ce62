package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// The function starts from its environment, and stops at start on a bad setting, among them
// one that would refuse every send. (Not parallel: it sets environment variables.)
func TestSetup(t *testing.T) {
	t.Setenv("DATABASE_URL", testenv.DatabaseURL(t))
	t.Setenv("SEAL_KEY", seal.NewKey())
	t.Setenv("SMS_PROVIDER", "")
	_, err := setup(context.Background(), &fn.Runtime{Name: "send-sms"})
	if err == nil || !strings.Contains(err.Error(), "SMS_PROVIDER") {
		t.Fatalf("setup without SMS_PROVIDER: %v, want it named", err)
	}
	t.Setenv("SMS_PROVIDER", "dev")
	for _, tc := range []struct{ name, value, wantErr string }{
		{"SMS_PROVIDER", "carrier-pigeon", "SMS_PROVIDER: invalid value"},
		{"SMS_PROVIDER", "aliyun", "ALIYUN_"},
		{"CAPABILITY_RATE_PER_MINUTE", "0", "CAPABILITY_RATE_PER_MINUTE: must be at least 1"},
		{"SIGNATURE_WINDOW", "0s", "SIGNATURE_WINDOW: must be more than 0"},
		{"SIGNATURE_WINDOW", "1h", "SIGNATURE_WINDOW: must be more than 0 and at most 15m"},
		{"SMS_LIMIT_PER_MINUTE", "0", "SMS_LIMIT_PER_MINUTE: must be at least 1"},
		{"SMS_LIMIT_PER_MINUTE", "often", "SMS_LIMIT_PER_MINUTE"},
		{"SMS_LIMIT_PER_HOUR", "0", "SMS_LIMIT_PER_HOUR: must be at least SMS_LIMIT_PER_MINUTE"},
		{"SMS_LIMIT_PER_DAY", "4", "SMS_LIMIT_PER_DAY: must be at least SMS_LIMIT_PER_HOUR"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			_, err := setup(context.Background(), &fn.Runtime{Name: "send-sms"})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("setup: %v, want %q", err, tc.wantErr)
			}
		})
	}

	// With the defaults and the development provider it serves: a send needs a signature,
	// and the development inbox answers.
	handler, err := setup(context.Background(), &fn.Runtime{Name: "send-sms"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sms/send", strings.NewReader(`{}`)))
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "signature-missing") {
		t.Fatalf("unsigned send: %d %s, want 401 signature-missing", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/dev/sms?mobile=13800138000", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"items":[]`) {
		t.Fatalf("development inbox: %d %s, want 200 and no items", rec.Code, rec.Body)
	}
}

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

// The function starts from its environment, and stops at start on a bad setting. (Not
// parallel: it sets environment variables.)
func TestSetup(t *testing.T) {
	t.Setenv("DATABASE_URL", testenv.DatabaseURL(t))
	t.Setenv("SEAL_KEY", seal.NewKey())
	for _, tc := range []struct{ name, value, wantErr string }{
		{"CAPABILITY_RATE_PER_MINUTE", "0", "CAPABILITY_RATE_PER_MINUTE: must be at least 1"},
		{"CAPABILITY_RATE_PER_MINUTE", "many", "CAPABILITY_RATE_PER_MINUTE: invalid value"},
		{"SIGNATURE_WINDOW", "0s", "SIGNATURE_WINDOW: must be more than 0"},
		{"SIGNATURE_WINDOW", "1h", "SIGNATURE_WINDOW: must be more than 0 and at most 15m"},
		{"ALLOW_HTTP_LOCALHOST", "maybe", "ALLOW_HTTP_LOCALHOST: invalid value"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			_, err := setup(context.Background(), &fn.Runtime{Name: "send-message"})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("setup: %v, want %q", err, tc.wantErr)
			}
		})
	}

	// With the defaults it serves: a vendor's call needs a signature.
	handler, err := setup(context.Background(), &fn.Runtime{Name: "send-message"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/messages", strings.NewReader(`{}`)))
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "signature-missing") {
		t.Fatalf("unsigned send: %d %s, want 401 signature-missing", rec.Code, rec.Body)
	}
}

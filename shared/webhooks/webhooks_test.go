package webhooks_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/webhooks"
)

// The Standard Webhooks specification's published example: this secret, id, timestamp and
// body must give exactly this signature.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignReproducesTheSpecificationsExample(t *testing.T) {
	got, err := webhooks.Sign(specID, time.Unix(specTimestamp, 0), []byte(specBody), specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got != specSignature {
		t.Fatalf("signature %q, want the specification's %q", got, specSignature)
	}
}

func TestHeadersVerifyAndTamperingIsCaught(t *testing.T) {
	secret := webhooks.NewSecret()
	body := []byte(`{"type":"cn.jinlaiban.openplatform.application.approved.v1"}`)
	h := http.Header{}
	if err := webhooks.SetHeaders(h, "evt-1", time.Now(), body, secret); err != nil {
		t.Fatal(err)
	}
	if h.Get("webhook-id") != "evt-1" || h.Get("webhook-timestamp") == "" || !strings.HasPrefix(h.Get("webhook-signature"), "v1,") {
		t.Fatalf("headers %v", h)
	}
	if err := webhooks.Verify(secret, body, h); err != nil {
		t.Fatalf("a fresh delivery does not verify: %v", err)
	}
	if err := webhooks.Verify(secret, append(body, ' '), h); err == nil {
		t.Error("a changed body verified")
	}
	if err := webhooks.Verify(webhooks.NewSecret(), body, h); err == nil {
		t.Error("another secret verified")
	}
	old := http.Header{}
	_ = webhooks.SetHeaders(old, "evt-1", time.Now().Add(-10*time.Minute), body, secret)
	if err := webhooks.Verify(secret, body, old); err == nil {
		t.Error("a ten-minute-old delivery verified (replay window is five minutes)")
	}
}

// During a rotation both the new and the previous secret sign: a receiver holding either
// verifies.
func TestTwoSecretsGiveTwoSignatures(t *testing.T) {
	a, b := webhooks.NewSecret(), webhooks.NewSecret()
	body := []byte(`{}`)
	h := http.Header{}
	if err := webhooks.SetHeaders(h, "evt-2", time.Now(), body, a, b); err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures, want 2: %q", n, h.Get("webhook-signature"))
	}
	for _, s := range []string{a, b} {
		if err := webhooks.Verify(s, body, h); err != nil {
			t.Errorf("secret does not verify: %v", err)
		}
	}
}

func TestSecretsAreWhsecAndRandom(t *testing.T) {
	a, b := webhooks.NewSecret(), webhooks.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q %q", a, b)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret body: %d bytes, %v", len(raw), err)
	}
}

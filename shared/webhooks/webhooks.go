// Package webhooks signs the platform's webhook deliveries as the Standard Webhooks
// specification (https://www.standardwebhooks.com) says, so a vendor verifies them with any
// of that specification's libraries: the headers webhook-id (the event id, the same on every
// attempt), webhook-timestamp (Unix seconds of this attempt) and webhook-signature
// ("v1,<base64 HMAC-SHA256 of id.timestamp.body>", space-separated when several secrets sign,
// as during a rotation); secrets are "whsec_" followed by base64 of random bytes.
package webhooks

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// SecretPurpose is the seal purpose of stored signing secrets.
const SecretPurpose = "webhook-secret"

// The Standard Webhooks headers.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ and 32 random bytes in base64.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature header value for one attempt: one "v1,<signature>"
// per secret, space-separated.
func Sign(id string, at time.Time, body []byte, secrets ...string) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("webhooks: no secret to sign with")
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return "", err
		}
		sig, err := wh.Sign(id, at, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// SetHeaders signs body and sets the three headers on h.
func SetHeaders(h http.Header, id string, at time.Time, body []byte, secrets ...string) error {
	sig, err := Sign(id, at, body, secrets...)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Verify checks a delivery as a receiver does (the signature, and a timestamp within five
// minutes of now).
func Verify(secret string, body []byte, h http.Header) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.Verify(body, h)
}

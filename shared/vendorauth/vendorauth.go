// Package vendorauth authenticates calls from a vendor's backend: it checks the signed
// request (package signature) against the application's appSecrets, the clock window and the
// nonce store, and tells the caller which application and environment signed. Every 401
// says which step failed, so a vendor can debug it, and never reveals a secret.
package vendorauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/signature"
)

// Caller is the application (and environment) that signed a request.
type Caller struct {
	AppID         string
	AppCode       string
	VendorID      string
	Environment   string // "test" or "production": the environment of the secret that signed
	SecretID      string
	UserInfoLevel string
}

// Verifier checks signed requests.
type Verifier struct {
	Pool   *pgxpool.Pool
	Sealer *seal.Sealer
	Window time.Duration // accepted clock difference, each way
	Now    func() time.Time
}

// Handler is an operation called by a vendor's backend.
type Handler func(w http.ResponseWriter, r *http.Request, c Caller) error

// Guard reads the body, verifies the signature, and calls h with the body still readable.
func (v *Verifier) Guard(h Handler) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := io.ReadAll(r.Body)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fn.Errorf(http.StatusRequestEntityTooLarge, fn.CodeTooLarge, "The body is larger than the limit.")
		}
		if err != nil {
			return fn.Errorf(http.StatusBadRequest, fn.CodeMalformed, "The body could not be read.")
		}
		c, err := v.Verify(r.Context(), r, body)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return h(w, r, c)
	}
}

func unauthorized(code, detail string, extra map[string]any) *fn.Problem {
	p := fn.Errorf(http.StatusUnauthorized, code, detail)
	p.Extra = extra
	return p
}

// Verify checks a request whose body is body.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (Caller, error) {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	h, err := signature.Parse(r.Header)
	if err != nil {
		var he *signature.HeaderError
		errors.As(err, &he)
		code := "signature-malformed"
		if he.Reason == "missing" {
			code = "signature-missing"
		}
		return Caller{}, unauthorized(code, "Header "+he.Header+" "+he.Reason+"; see the signed-request guide.",
			map[string]any{"header": he.Header})
	}
	if skew := now.Sub(h.Time); skew > v.Window || skew < -v.Window {
		return Caller{}, unauthorized("clock-skew", "The timestamp is "+skew.Round(time.Second).String()+
			" away from the server's clock; keep within "+v.Window.String()+" (sync with NTP).",
			map[string]any{"server_time": now.Unix()})
	}
	secrets, err := v.secrets(ctx, h.AppCode)
	if err != nil {
		return Caller{}, err
	}
	if len(secrets) == 0 {
		return Caller{}, unauthorized("unknown-app-code", "No approved application has that appCode.", nil)
	}
	sts := signature.StringToSign(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, h.AppCode, h.Timestamp, h.Nonce, body)
	c := match(secrets, sts, h.Signature)
	if c == nil {
		sum := sha256.Sum256([]byte(sts))
		return Caller{}, unauthorized("signature-mismatch", "The signature does not match. Compare your string to sign "+
			"with string_to_sign (its SHA-256 is string_to_sign_sha256), and check that you used the appSecret of this appCode.",
			map[string]any{"string_to_sign": sts, "string_to_sign_sha256": hex.EncodeToString(sum[:])})
	}
	fresh, err := v.useNonce(ctx, *c, h.Nonce, now)
	if err != nil {
		return Caller{}, err
	}
	if !fresh {
		return Caller{}, unauthorized("nonce-reused", "This nonce was used already; send a new random nonce with every request.", nil)
	}
	return *c, nil
}

type candidate struct {
	Caller
	secret string
}

// match returns the caller whose secret signed sts with sig, or nil.
func match(candidates []candidate, sts, sig string) *Caller {
	for i := range candidates {
		if signature.Equal(signature.Sign(candidates[i].secret, sts), sig) {
			return &candidates[i].Caller
		}
	}
	return nil
}

func (v *Verifier) secrets(ctx context.Context, appCode string) ([]candidate, error) {
	rows, err := v.Pool.Query(ctx, `SELECT a.id, a.vendor_id, coalesce(a.user_info_level, ''), s.id, s.environment, s.secret
		FROM applications a JOIN app_secrets s ON s.application_id = a.id
		WHERE a.app_code = $1 AND a.status = 'approved' AND (s.expires_at IS NULL OR s.expires_at > now())`, appCode)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		c := candidate{Caller: Caller{AppCode: appCode}}
		var sealed []byte
		if err := rows.Scan(&c.AppID, &c.VendorID, &c.UserInfoLevel, &c.SecretID, &c.Environment, &sealed); err != nil {
			return nil, err
		}
		if c.secret, err = apps.OpenSecret(v.Sealer, sealed); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// useNonce records the nonce (refusing a reused one) and, at most once a minute, the
// secret's last use, in one round trip.
func (v *Verifier) useNonce(ctx context.Context, c Caller, nonce string, now time.Time) (bool, error) {
	var fresh bool
	err := v.Pool.QueryRow(ctx, `WITH n AS (
			INSERT INTO request_nonces (application_id, nonce, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING RETURNING 1),
		u AS (UPDATE app_secrets SET last_used_at = now()
			WHERE id = $4 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AND EXISTS (SELECT 1 FROM n))
		SELECT EXISTS (SELECT 1 FROM n)`, c.AppID, nonce, now.Add(2*v.Window), c.SecretID).Scan(&fresh)
	if err == nil && rand.IntN(1000) == 0 {
		_, _ = v.Pool.Exec(ctx, `DELETE FROM request_nonces WHERE expires_at < now()`)
	}
	return fresh, err
}

// Config is the accepted clock difference of signed requests.
type Config struct {
	Window time.Duration `envconfig:"SIGNATURE_WINDOW" default:"5m"`
}

// Load builds a vendor-backend function's Verifier from its settings.
func Load(rt *fn.Runtime, pool *pgxpool.Pool, sealer *seal.Sealer) (*Verifier, error) {
	var c Config
	if err := rt.Load(&c); err != nil {
		return nil, err
	}
	if c.Window <= 0 || c.Window > 15*time.Minute {
		return nil, errors.New("SIGNATURE_WINDOW: must be more than 0 and at most 15m")
	}
	return &Verifier{Pool: pool, Sealer: sealer, Window: c.Window}, nil
}

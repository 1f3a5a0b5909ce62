package apps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Environments of a secret. The secret issued at approval is a test secret; a production
// secret comes when the application's first service goes live.
const (
	EnvTest       = "test"
	EnvProduction = "production"
)

// TestPrefix marks test secrets, so a vendor's logs show which environment they are in.
const TestPrefix = "test_"

const secretPurpose = "app-secret"

// Secret is one appSecret with its lifecycle.
type Secret struct {
	ID          string     `json:"id"`
	Environment string     `json:"environment"`
	Secret      string     `json:"secret,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

// NewSecret returns a fresh appSecret: 128 random bits as 32 hex digits (the seed's form),
// with the test prefix for the test environment.
func NewSecret(env string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	if env == EnvTest {
		return TestPrefix + hex.EncodeToString(b)
	}
	return hex.EncodeToString(b)
}

// IssueSecret stores a new sealed secret for an application and returns it in the clear,
// for the caller to show.
func IssueSecret(ctx context.Context, q db.Querier, s *seal.Sealer, appID, env string) (Secret, error) {
	plain := NewSecret(env)
	out := Secret{Environment: env, Secret: plain}
	err := q.QueryRow(ctx, `INSERT INTO app_secrets (application_id, environment, secret) VALUES ($1, $2, $3) RETURNING id, created_at`,
		appID, env, s.SealString(secretPurpose, plain)).Scan(&out.ID, &out.CreatedAt)
	return out, err
}

// Rotate issues a new secret for an environment; the ones in use keep working for overlap
// (or until their earlier expiry), so a vendor can deploy the new one without downtime.
func Rotate(ctx context.Context, tx db.Querier, s *seal.Sealer, appID, env string, overlap time.Duration) (Secret, error) {
	_, err := tx.Exec(ctx, `UPDATE app_secrets SET expires_at = LEAST(coalesce(expires_at, 'infinity'), now() + $3::interval)
		WHERE application_id = $1 AND environment = $2 AND (expires_at IS NULL OR expires_at > now())`, appID, env, overlap)
	if err != nil {
		return Secret{}, err
	}
	return IssueSecret(ctx, tx, s, appID, env)
}

// Secrets lists an application's secrets that still work, opened, newest first.
func Secrets(ctx context.Context, q db.Querier, s *seal.Sealer, appID string) ([]Secret, error) {
	rows, err := q.Query(ctx, `SELECT id, environment, secret, created_at, last_used_at, expires_at FROM app_secrets
		WHERE application_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, id`, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Secret{}
	for rows.Next() {
		var sec Secret
		var sealed []byte
		if err := rows.Scan(&sec.ID, &sec.Environment, &sealed, &sec.CreatedAt, &sec.LastUsedAt, &sec.ExpiresAt); err != nil {
			return nil, err
		}
		if sec.Secret, err = s.OpenString(secretPurpose, sealed); err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, rows.Err()
}

// OpenSecret opens a sealed appSecret read by a query of another package.
func OpenSecret(s *seal.Sealer, sealed []byte) (string, error) {
	return s.OpenString(secretPurpose, sealed)
}

package citizens

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Citizens sign in to the super-app simulator (test environment only) with their mobile
// number and a one-time code sent by SMS; the session is a cookie or a bearer token.
const (
	SessionCookie = "jlb_citizen"
	sessionPrefix = "jlbc_"
	codeTTL       = 5 * time.Minute
	codeAttempts  = 5
	codeInterval  = time.Minute
)

// NewLoginCode stores a fresh six-digit code for a citizen's mobile and returns it, to be
// sent by SMS. One code a minute per number.
func NewLoginCode(ctx context.Context, q db.Querier, s *seal.Sealer, mobile string) (string, error) {
	n, _ := rand.Int(rand.Reader, big.NewInt(1000000))
	code := fmt.Sprintf("%06d", n.Int64())
	tag, err := q.Exec(ctx, `INSERT INTO citizen_login_codes AS c (mobile_index, code_hash, expires_at) VALUES ($1, $2, now() + $3::interval)
		ON CONFLICT (mobile_index) DO UPDATE SET code_hash = $2, attempts = 0, created_at = now(), expires_at = now() + $3::interval
		WHERE c.created_at < now() - $4::interval`, s.Index(mobilePurpose, mobile), auth.HashToken(code), codeTTL, codeInterval)
	if err != nil {
		return "", err
	}
	if tag.RowsAffected() == 0 {
		p := fn.Errorf(http.StatusTooManyRequests, fn.CodeRateLimited, "A code was sent less than a minute ago; wait before asking again.")
		p.RetryAfter = codeInterval
		return "", p
	}
	return code, nil
}

var errBadCode = fn.Errorf(http.StatusUnauthorized, "invalid-code", "The code is wrong or expired; ask for a new one.")

// CheckLoginCode consumes a correct code (five tries per code) and returns the citizen's id.
func CheckLoginCode(ctx context.Context, pool *pgxpool.Pool, s *seal.Sealer, mobile, code string) (string, error) {
	idx := s.Index(mobilePurpose, mobile)
	var citizenID string
	err := db.Tx(ctx, pool, func(tx pgx.Tx) error {
		var hash []byte
		err := tx.QueryRow(ctx, `UPDATE citizen_login_codes SET attempts = attempts + 1
			WHERE mobile_index = $1 AND expires_at > now() AND attempts < $2 RETURNING code_hash`, idx, codeAttempts).Scan(&hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return errBadCode
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(hash, auth.HashToken(code)) != 1 {
			return nil // the attempt counts; the refusal follows the commit
		}
		if _, err := tx.Exec(ctx, `DELETE FROM citizen_login_codes WHERE mobile_index = $1`, idx); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM citizens WHERE mobile_index = $1`, idx).Scan(&citizenID)
	})
	if err == nil && citizenID == "" {
		err = errBadCode
	}
	return citizenID, err
}

// NewSession signs a citizen in.
func NewSession(ctx context.Context, q db.Querier, citizenID string, ttl time.Duration) (string, time.Time, error) {
	token := auth.NewToken(sessionPrefix)
	expires := time.Now().Add(ttl).UTC().Truncate(time.Second)
	_, err := q.Exec(ctx, `INSERT INTO citizen_sessions (token_hash, citizen_id, expires_at) VALUES ($1, $2, $3)`,
		auth.HashToken(token), citizenID, expires)
	return token, expires, err
}

// SessionCitizen returns the citizen signed in by the request's session (bearer or cookie).
func SessionCitizen(ctx context.Context, q db.Querier, r *http.Request) (string, error) {
	token := ""
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = h
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		token = c.Value
	}
	if !strings.HasPrefix(token, sessionPrefix) {
		return "", fn.Errorf(http.StatusUnauthorized, fn.CodeUnauthenticated, "Sign in as a citizen first.")
	}
	var id string
	err := q.QueryRow(ctx, `SELECT citizen_id FROM citizen_sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()`,
		auth.HashToken(token)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fn.Errorf(http.StatusUnauthorized, fn.CodeUnauthenticated, "The citizen session has ended; sign in again.")
	}
	return id, err
}

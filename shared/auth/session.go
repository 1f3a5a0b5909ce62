package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// Roles of back-office accounts.
const (
	RoleAdmin  = "admin"
	RoleVendor = "vendor"
)

// Cookie and header names. A browser signs in once and sends the session cookie; it must
// echo the CSRF token (readable from the CSRF cookie) in the X-CSRF-Token header on every
// write. API clients send "Authorization: Bearer <token>" instead and need no CSRF token.
const (
	SessionCookie = "jlb_session"
	CSRFCookie    = "jlb_csrf"
	CSRFHeader    = "X-CSRF-Token"
	sessionPrefix = "jlbs_"
)

// Principal is the signed-in account behind a request.
type Principal struct {
	AccountID          string
	Role               string
	Login              string
	MustChangePassword bool
	TokenHash          []byte
}

// NewSession is what a sign-in hands back, once.
type NewSession struct {
	Token     string
	CSRFToken string
	ExpiresAt time.Time
}

// Sessions creates, checks and revokes sessions.
type Sessions struct {
	Pool         *pgxpool.Pool
	TTL          time.Duration
	SecureCookie bool
}

// Create starts a session for an account.
func (s *Sessions) Create(ctx context.Context, q db.Querier, accountID string) (NewSession, error) {
	ns := NewSession{Token: NewToken(sessionPrefix), CSRFToken: NewToken(""), ExpiresAt: time.Now().Add(s.TTL).UTC().Truncate(time.Second)}
	_, err := q.Exec(ctx, `INSERT INTO sessions (token_hash, csrf_hash, account_id, expires_at) VALUES ($1, $2, $3, $4)`,
		HashToken(ns.Token), HashToken(ns.CSRFToken), accountID, ns.ExpiresAt)
	return ns, err
}

// SetCookies puts a new session into the browser.
func (s *Sessions) SetCookies(w http.ResponseWriter, ns NewSession) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: ns.Token, Path: "/", Expires: ns.ExpiresAt,
		HttpOnly: true, Secure: s.SecureCookie, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: ns.CSRFToken, Path: "/", Expires: ns.ExpiresAt,
		Secure: s.SecureCookie, SameSite: http.SameSiteStrictMode})
}

// ClearCookies removes the session from the browser.
func (s *Sessions) ClearCookies(w http.ResponseWriter) {
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: s.SecureCookie, HttpOnly: name == SessionCookie})
	}
}

// Revoke ends one session.
func (s *Sessions) Revoke(ctx context.Context, q db.Querier, tokenHash []byte) error {
	_, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash)
	return err
}

// RevokeAll ends every session of an account (disabling it, changing its password).
func RevokeAll(ctx context.Context, q db.Querier, accountID string, except []byte) error {
	_, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = now()
		WHERE account_id = $1 AND revoked_at IS NULL AND ($2::bytea IS NULL OR token_hash <> $2)`, accountID, except)
	return err
}

// PrincipalHandler is an operation that needs a signed-in account.
type PrincipalHandler func(w http.ResponseWriter, r *http.Request, p Principal) error

// Admin guards an operation for administrators.
func (s *Sessions) Admin(h PrincipalHandler) fn.HandlerFunc { return s.guard(RoleAdmin, false, h) }

// Vendor guards an operation for vendors.
func (s *Sessions) Vendor(h PrincipalHandler) fn.HandlerFunc { return s.guard(RoleVendor, false, h) }

// Anyone guards an operation open to every signed-in account, including one that still has
// to change its initial password (to let it do so, see itself, and sign out).
func (s *Sessions) Anyone(h PrincipalHandler) fn.HandlerFunc { return s.guard("", true, h) }

func (s *Sessions) guard(role string, allowPending bool, h PrincipalHandler) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if p.MustChangePassword && !allowPending {
			return fn.Errorf(http.StatusForbidden, "password-change-required",
				"Change the initial password first (POST /api/v1/me/password).")
		}
		if role != "" && p.Role != role {
			return fn.Errorf(http.StatusForbidden, fn.CodeForbidden, "This operation is for "+role+" accounts.")
		}
		return h(w, r, p)
	}
}

var errUnauthenticated = fn.Errorf(http.StatusUnauthorized, fn.CodeUnauthenticated,
	"Sign in first: send the session cookie or an Authorization: Bearer token.")

func (s *Sessions) authenticate(r *http.Request) (Principal, error) {
	token, viaCookie := sessionToken(r)
	if token == "" {
		return Principal{}, errUnauthenticated
	}
	var p Principal
	var csrfHash []byte
	p.TokenHash = HashToken(token)
	err := s.Pool.QueryRow(r.Context(), `
		SELECT a.id, a.role, a.login, a.must_change_password, s.csrf_hash
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND a.status = 'active'`,
		p.TokenHash).Scan(&p.AccountID, &p.Role, &p.Login, &p.MustChangePassword, &csrfHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, fn.Errorf(http.StatusUnauthorized, fn.CodeUnauthenticated,
			"The session has ended (signed out, expired, or the account was disabled); sign in again.")
	}
	if err != nil {
		return Principal{}, err
	}
	if viaCookie && !safeMethod(r.Method) {
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare(HashToken(got), csrfHash) != 1 {
			return Principal{}, fn.Errorf(http.StatusForbidden, "csrf-token-invalid",
				"Send the value of the "+CSRFCookie+" cookie in the "+CSRFHeader+" header with every change.")
		}
	}
	return p, nil
}

func sessionToken(r *http.Request) (token string, viaCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok && strings.HasPrefix(t, sessionPrefix) {
			return strings.TrimSpace(t), false
		}
		return "", false
	}
	if c, err := r.Cookie(SessionCookie); err == nil && strings.HasPrefix(c.Value, sessionPrefix) {
		return c.Value, true
	}
	return "", false
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

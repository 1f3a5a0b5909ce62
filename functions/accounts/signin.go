package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/accounts"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/valid"
)

type signInRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (r *signInRequest) Valid() map[string]string {
	m := valid.Collect("login", valid.Line(r.Login, 1, 64))
	if r.Password == "" {
		m["password"] = "is required"
	} else if len(r.Password) > 4*auth.MaxPasswordLen {
		m["password"] = "is too long"
	}
	return m
}

type signInResponse struct {
	Token              string           `json:"token,omitempty"`
	CSRFToken          string           `json:"csrf_token"`
	ExpiresAt          time.Time        `json:"expires_at"`
	MustChangePassword bool             `json:"must_change_password"`
	Account            accounts.Account `json:"account"`
}

var errBadCredentials = fn.Errorf(http.StatusUnauthorized, "invalid-credentials", "The login name or password is wrong.")

// signIn checks a password, slowing down and then locking repeated failures per login name
// and per client address, and starts a session (cookie for browsers, token for API clients).
func (s *server) signIn(w http.ResponseWriter, r *http.Request) error {
	req, err := fn.Decode[signInRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	keys := []string{s.loginKey(req.Login), "addr:" + fn.ClientIP(r, s.hops)}
	if wait, err := s.throttle.reserve(ctx, s.pool, keys); err != nil {
		return err
	} else if wait > 0 {
		p := fn.Errorf(http.StatusTooManyRequests, "sign-in-locked",
			"Too many failed sign-ins; wait before trying again, or ask a platform administrator to reset the password.")
		p.RetryAfter = wait
		return p
	}
	cred, found, err := accounts.ByLogin(ctx, s.pool, req.Login)
	if err != nil {
		return err
	}
	if !auth.CheckPassword(req.Password, cred.PasswordHash) || !found {
		return errBadCredentials // counted as a failure by reserve
	}
	if cred.Status != accounts.Active {
		if err := s.throttle.release(ctx, s.pool, keys); err != nil {
			return err
		}
		return fn.Errorf(http.StatusForbidden, "account-disabled", "This account is disabled; contact a platform administrator.")
	}
	var resp signInResponse
	var ns auth.NewSession
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.throttle.succeeded(ctx, tx, keys); err != nil {
			return err
		}
		if ns, err = s.sessions.Create(ctx, tx, cred.ID); err != nil {
			return err
		}
		acct, err := accounts.Get(ctx, tx, s.sealer, cred.ID)
		if err != nil {
			return err
		}
		resp = signInResponse{Token: ns.Token, CSRFToken: ns.CSRFToken, ExpiresAt: ns.ExpiresAt,
			MustChangePassword: acct.MustChangePassword, Account: acct}
		return nil
	})
	if err != nil {
		return err
	}
	s.sessions.SetCookies(w, ns) // only once the session is committed
	if r.Header.Get("X-Session-Transport") == "cookie" {
		resp.Token = "" // a browser keeps the session in the HttpOnly cookie; its scripts never see it
	}
	return fn.JSON(w, http.StatusCreated, resp)
}

// loginKey is a login name's throttle key: a keyed hash of it, not the name itself, since
// people sometimes type their password into the login box and it must not be stored.
func (s *server) loginKey(login string) string {
	return "login:" + base64.RawURLEncoding.EncodeToString(s.sealer.Index("login-throttle", strings.ToLower(login)))
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := s.sessions.Revoke(r.Context(), s.pool, p.TokenHash); err != nil {
		return err
	}
	s.sessions.ClearCookies(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) me(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := accounts.Get(r.Context(), s.pool, s.sealer, p.AccountID)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, a)
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (r *changePasswordRequest) Valid() map[string]string {
	m := map[string]string{}
	if r.CurrentPassword == "" {
		m["current_password"] = "is required"
	}
	if reason := auth.PasswordProblem(r.NewPassword, ""); reason != "" {
		m["new_password"] = reason
	} else if r.NewPassword == r.CurrentPassword {
		m["new_password"] = "must differ from the current password"
	}
	return m
}

// changePassword replaces the password (also the forced change after the first sign-in) and
// ends every other session of the account.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := fn.Decode[changePasswordRequest](r)
	if err != nil {
		return err
	}
	if reason := auth.PasswordProblem(req.NewPassword, p.Login); reason != "" {
		return fn.Invalid(map[string]string{"new_password": reason})
	}
	ctx := r.Context()
	hash, err := accounts.PasswordHash(ctx, s.pool, p.AccountID)
	if err != nil {
		return err
	}
	if !auth.CheckPassword(req.CurrentPassword, hash) {
		return fn.Errorf(http.StatusForbidden, "invalid-credentials", "The current password is wrong.")
	}
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := accounts.SetPassword(ctx, tx, p.AccountID, req.NewPassword, false); err != nil {
			return err
		}
		return auth.RevokeAll(ctx, tx, p.AccountID, p.TokenHash)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package main

import (
	"net/http"

	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/valid"
)

func (s *server) signInEnabled(h fn.HandlerFunc) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !s.cfg.CitizenSignIn {
			return fn.NotFound("Route " + r.Method + " " + r.URL.Path)
		}
		return h(w, r)
	}
}

type loginCodeRequest struct {
	Mobile string `json:"mobile"`
}

func (l *loginCodeRequest) Valid() map[string]string {
	return valid.Collect("mobile", valid.Mobile(l.Mobile))
}

// sendLoginCode texts a one-time code to a citizen of the directory.
func (s *server) sendLoginCode(w http.ResponseWriter, r *http.Request) error {
	req, err := fn.Decode[loginCodeRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := citizens.IDByMobile(ctx, s.pool, s.sealer, req.Mobile); err != nil {
		return err
	}
	code, err := citizens.NewLoginCode(ctx, s.pool, s.sealer, req.Mobile)
	if err != nil {
		return err
	}
	if _, err := s.sms.Send(ctx, sms.Message{To: req.Mobile, SignName: "晋来办", TemplateCode: "LOGIN_CODE",
		Params: map[string]string{"code": code}}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

type signInRequest struct {
	Mobile string `json:"mobile"`
	Code   string `json:"code"`
}

func (l *signInRequest) Valid() map[string]string {
	m := valid.Collect("mobile", valid.Mobile(l.Mobile))
	if len(l.Code) != 6 {
		m["code"] = "must be the 6-digit code sent by SMS"
	}
	return m
}

// signIn starts a citizen session from a correct code.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) error {
	req, err := fn.Decode[signInRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	id, err := citizens.CheckLoginCode(ctx, s.pool, s.sealer, req.Mobile, req.Code)
	if err != nil {
		return err
	}
	token, expires, err := citizens.NewSession(ctx, s.pool, id, s.cfg.CitizenSessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: citizens.SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
	return fn.JSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": expires, "citizen_id": id})
}

// catalog lists what the citizen can open: live services, and the services in testing of
// applications that whitelisted the citizen.
func (s *server) catalog(w http.ResponseWriter, r *http.Request, citizenID string) error {
	list, err := services.Catalog(r.Context(), s.pool, citizenID)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": list})
}

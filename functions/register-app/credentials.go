package main

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
)

type credentialsResponse struct {
	AppCode string        `json:"app_code"`
	Secrets []apps.Secret `json:"secrets"`
}

func (s *server) approvedApp(r *http.Request, p auth.Principal) (apps.Application, error) {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return apps.Application{}, err
	}
	a, err := apps.GetOwned(r.Context(), s.pool, s.sealer, p.AccountID, id)
	if err == nil && a.Status != apps.Approved {
		err = fn.Errorf(http.StatusConflict, fn.CodeInvalidState,
			"Credentials are issued when the application is approved; it is "+a.Status+".")
	}
	return a, err
}

// credentials shows the appCode and every working appSecret. Each view is audit-logged.
func (s *server) credentials(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.approvedApp(r, p)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var resp credentialsResponse
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		secrets, err := apps.Secrets(ctx, tx, s.sealer, a.ID)
		if err != nil {
			return err
		}
		resp = credentialsResponse{AppCode: a.AppCode, Secrets: secrets}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "credentials.view",
			SubjectType: "application", SubjectID: a.ID})
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, resp)
}

type rotateRequest struct {
	Environment  string `json:"environment"`
	OverlapHours *int   `json:"overlap_hours"`
}

func (r *rotateRequest) Valid() map[string]string {
	m := map[string]string{}
	if r.Environment != apps.EnvTest && r.Environment != apps.EnvProduction {
		m["environment"] = "must be test or production"
	}
	if r.OverlapHours != nil && (*r.OverlapHours < 0 || *r.OverlapHours > 720) {
		m["overlap_hours"] = "must be from 0 to 720 (30 days)"
	}
	return m
}

type rotateResponse struct {
	New     apps.Secret   `json:"new"`
	Secrets []apps.Secret `json:"secrets"`
}

// rotateSecret issues a new secret for an environment; the old one keeps working for the
// overlap (24 hours unless said otherwise), so the vendor can switch without downtime.
func (s *server) rotateSecret(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.approvedApp(r, p)
	if err != nil {
		return err
	}
	req, err := fn.Decode[rotateRequest](r)
	if err != nil {
		return err
	}
	overlap := 24 * time.Hour
	if req.OverlapHours != nil {
		overlap = time.Duration(*req.OverlapHours) * time.Hour
	}
	ctx := r.Context()
	var resp rotateResponse
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		current, err := apps.Secrets(ctx, tx, s.sealer, a.ID)
		if err != nil {
			return err
		}
		if !hasEnvironment(current, req.Environment) {
			return fn.Errorf(http.StatusConflict, fn.CodeInvalidState,
				"The application has no "+req.Environment+" secret yet; a production secret is issued when its first service goes live.")
		}
		if resp.New, err = apps.Rotate(ctx, tx, s.sealer, a.ID, req.Environment, overlap); err != nil {
			return err
		}
		if resp.Secrets, err = apps.Secrets(ctx, tx, s.sealer, a.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "credentials.rotate",
			SubjectType: "application", SubjectID: a.ID,
			Detail: map[string]any{"environment": req.Environment, "overlap_hours": overlap.Hours(), "new_secret_id": resp.New.ID}})
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusCreated, resp)
}

func hasEnvironment(secrets []apps.Secret, env string) bool {
	for _, s := range secrets {
		if s.Environment == env {
			return true
		}
	}
	return false
}

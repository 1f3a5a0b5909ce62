package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// capabilityView is a capability as the vendor's portal shows it, applied for or not.
type capabilityView struct {
	Capability string              `json:"capability"`
	Name       string              `json:"name"`
	Status     string              `json:"status"` // "none" before applying
	Grant      *capabilities.Grant `json:"grant,omitempty"`
}

// capabilities lists the platform's capabilities with the application's grant of each.
func (s *server) capabilities(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.approvedApp(r, p)
	if err != nil {
		return err
	}
	grants, err := capabilities.GrantsOf(r.Context(), s.pool, a.ID)
	if err != nil {
		return err
	}
	var out []capabilityView
	for _, c := range []string{capabilities.SMS, capabilities.Message, capabilities.Todo} {
		v := capabilityView{Capability: c, Name: capabilities.Names[c], Status: "none"}
		for i := range grants {
			if grants[i].Capability == c {
				v.Grant, v.Status = &grants[i], grants[i].Status
			}
		}
		out = append(out, v)
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": out})
}

// applyCapability asks an administrator for a capability. SMS names the sign and the
// templates, and needs the city's SMS application form uploaded first.
func (s *server) applyCapability(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.approvedApp(r, p)
	if err != nil {
		return err
	}
	req, err := fn.Decode[capabilities.Application](r)
	if err != nil {
		return err
	}
	var g capabilities.Grant
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		g, err = capabilities.Apply(r.Context(), tx, a.ID, req)
		return err
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, g)
}

// startSMSForm returns a presigned PUT for the SMS application form.
func (s *server) startSMSForm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.approvedApp(r, p)
	if err != nil {
		return err
	}
	req, err := fn.Decode[capabilities.FormUpload](r)
	if err != nil {
		return err
	}
	const ttl = 15 * time.Minute
	var key string
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		key, err = capabilities.StartFormUpload(r.Context(), tx, a.ID, req, ttl)
		return err
	})
	if err != nil {
		return err
	}
	put, err := s.store.PresignPut(r.Context(), key, req.ContentType, req.Size, ttl)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusCreated, map[string]any{"url": put.URL, "method": put.Method, "headers": put.Headers,
		"expires_at": put.ExpiresAt, "complete_url": "/api/v1/apps/" + a.ID + "/capabilities/sms/form/complete"})
}

// completeSMSForm checks the uploaded form and attaches it to the SMS application.
func (s *server) completeSMSForm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.approvedApp(r, p)
	if err != nil {
		return err
	}
	var g capabilities.Grant
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		g, err = capabilities.CompleteFormUpload(r.Context(), tx, s.store, a.ID)
		return err
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, g)
}

// usage gives the application's capability calls per day (?days=, 1-90, default 30).
func (s *server) usage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.approvedApp(r, p)
	if err != nil {
		return err
	}
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil || days < 1 || days > 90 {
			return fn.Invalid(map[string]string{"days": "must be a whole number from 1 to 90"})
		}
	}
	u, err := capabilities.UsageOf(r.Context(), s.pool, a.ID, days)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"days": days, "items": u})
}

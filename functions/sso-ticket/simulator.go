package main

import (
	"context"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/services"
)

// The super-app simulator's side of the page-side JS-SDK (functions/portal): a service page
// reports its title when it is ready, and may ask for a fresh ticket. Citizen sign-in being
// for test environments, both are routed only with it on, like the rest of the simulator.

type titleCheckRequest struct {
	ModuleCode string `json:"module_code"`
	Title      string `json:"title"`
}

func (t *titleCheckRequest) Valid() map[string]string {
	m := map[string]string{}
	if t.ModuleCode == "" || len(t.ModuleCode) > 32 {
		m["module_code"] = "must be the service's module_code"
	}
	switch {
	case utf8.RuneCountInString(t.Title) > 200:
		m["title"] = "must be at most 200 characters"
	case strings.IndexFunc(t.Title, unicode.IsControl) >= 0:
		m["title"] = "must be one line without control characters"
	}
	return m
}

// titleCheck records the title a service's page reported in the simulator (seed §7.4: the
// page title must equal the service's listed name); the reviewers see the latest one among
// the service's machine pre-checks ("page-title-matches").
func (s *server) titleCheck(w http.ResponseWriter, r *http.Request, citizenID string) error {
	req, err := fn.Decode[titleCheckRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	svc, err := services.ByModuleCode(ctx, s.pool, req.ModuleCode)
	if err != nil {
		return err
	}
	if err := s.mayOpen(ctx, svc, citizenID); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO page_titles (service_id, title) VALUES ($1, $2)
		ON CONFLICT (service_id) DO UPDATE SET title = EXCLUDED.title, observed_at = now()`, svc.ID, req.Title); err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"module_code": svc.ModuleCode, "service_name": svc.Name,
		"title": req.Title, "matches": req.Title == svc.Name})
}

// mayOpen is the rule ticket applies: an approved application's live service admits every
// citizen; before going live, only the application's test citizens; offline, no one.
func (s *server) mayOpen(ctx context.Context, svc services.Service, citizenID string) error {
	if svc.Application.Status != apps.Approved || svc.Status == services.Offline {
		return fn.Errorf(http.StatusForbidden, "service-unavailable", "This service cannot be opened now.")
	}
	if svc.Status == services.Live {
		return nil
	}
	ok, err := apps.IsTestCitizen(ctx, s.pool, svc.Application.ID, citizenID)
	if err != nil {
		return err
	}
	if !ok {
		return fn.Errorf(http.StatusForbidden, "not-a-test-citizen",
			"This service is still being tested; only the application's test citizens can open it until it goes live.")
	}
	return nil
}

type shellTicketRequest struct {
	ModuleCode string `json:"module_code"`
}

func (t *shellTicketRequest) Valid() map[string]string {
	if t.ModuleCode == "" || len(t.ModuleCode) > 32 {
		return map[string]string{"module_code": "must be the service's module_code"}
	}
	return nil
}

// shellTicket is the JS-SDK's getTicket in the simulator: a fresh ticket for the service the
// signed-in citizen has open, handed to the page by the shell instead of by a redirect.
func (s *server) shellTicket(w http.ResponseWriter, r *http.Request, citizenID string) error {
	req, err := fn.Decode[shellTicketRequest](r)
	if err != nil {
		return err
	}
	t, err := s.ticket(r, citizenID, req.ModuleCode)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return fn.JSON(w, http.StatusCreated, t)
}

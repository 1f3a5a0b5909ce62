package main

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/sso"
)

// superApp guards the super-app backend's calls: "Authorization: Bearer <SUPERAPP_TOKEN>".
func (s *server) superApp(h fn.HandlerFunc) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.SuperAppToken)) != 1 {
			return fn.Errorf(http.StatusUnauthorized, fn.CodeUnauthenticated, "This call is for the super-app's backend and needs its server credential.")
		}
		return h(w, r)
	}
}

// citizenHandler is an operation for a signed-in citizen.
type citizenHandler func(w http.ResponseWriter, r *http.Request, citizenID string) error

func (s *server) citizen(h citizenHandler) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := citizens.SessionCitizen(r.Context(), s.pool, r)
		if err != nil {
			return err
		}
		return h(w, r, id)
	}
}

type ticketRequest struct {
	CitizenID  string `json:"citizen_id"`
	ModuleCode string `json:"module_code"`
}

func (t *ticketRequest) Valid() map[string]string {
	m := map[string]string{}
	if !isUUID(t.CitizenID) {
		m["citizen_id"] = "must be the citizen's id in the platform directory"
	}
	if t.ModuleCode == "" || len(t.ModuleCode) > 32 {
		m["module_code"] = "must be the service's module_code"
	}
	return m
}

// issueTicket is the super-app backend's call: a ticket for a citizen opening a service.
func (s *server) issueTicket(w http.ResponseWriter, r *http.Request) error {
	req, err := fn.Decode[ticketRequest](r)
	if err != nil {
		return err
	}
	var known bool
	if err := s.pool.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM citizens WHERE id = $1)`, req.CitizenID).Scan(&known); err != nil {
		return err
	}
	if !known {
		return fn.NotFound("Citizen")
	}
	t, err := s.ticket(r, req.CitizenID, req.ModuleCode)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusCreated, t)
}

// isUUID reports whether s is a UUID in its 36-character text form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			return false
		}
	}
	return true
}

// open is the simulator's: the signed-in citizen's browser is sent to the service.
func (s *server) open(w http.ResponseWriter, r *http.Request, citizenID string) error {
	t, err := s.ticket(r, citizenID, r.URL.Query().Get("module_code"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, t.RedirectURL, http.StatusFound)
	return nil
}

// ticket checks that the citizen may open the service now and issues the ticket: a live
// service admits every citizen; before that, only the application's test citizens.
func (s *server) ticket(r *http.Request, citizenID, moduleCode string) (sso.Ticket, error) {
	ctx := r.Context()
	svc, err := services.ByModuleCode(ctx, s.pool, moduleCode)
	if err != nil {
		return sso.Ticket{}, err
	}
	if svc.Application.Status != apps.Approved {
		return sso.Ticket{}, fn.Errorf(http.StatusForbidden, "service-unavailable", "This service's application is not approved.")
	}
	switch svc.Status {
	case services.Live:
	case services.Offline:
		return sso.Ticket{}, fn.Errorf(http.StatusForbidden, "service-unavailable", "This service is offline for now.")
	default:
		ok, err := apps.IsTestCitizen(ctx, s.pool, svc.Application.ID, citizenID)
		if err != nil {
			return sso.Ticket{}, err
		}
		if !ok {
			return sso.Ticket{}, fn.Errorf(http.StatusForbidden, "not-a-test-citizen",
				"This service is still being tested; only the application's test citizens can open it until it goes live.")
		}
	}
	return sso.IssueTicket(ctx, s.pool, s.sealer, citizenID, svc, s.cfg.TicketTTL)
}

package main

import (
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/tags"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// list is the service list of seed §4.1, filtered by ?application_id= and ?status=.
func (s *server) list(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := services.Filter{VendorID: p.AccountID, ApplicationID: q.Get("application_id")}
	if st := q.Get("status"); st != "" {
		if !services.ValidStatus(st) {
			return fn.Invalid(map[string]string{"status": "must be one of testing, applied, approved, live_requested, live, offline"})
		}
		f.Statuses = []string{st}
	}
	list, err := services.List(r.Context(), s.pool, f, false, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, list)
}

// declaration decodes and checks a service declaration, tags against the managed list.
func (s *server) declaration(r *http.Request) (services.Declaration, error) {
	d, err := fn.Decode[services.Declaration](r)
	if err != nil {
		return d, err
	}
	fields := d.Check(s.cfg.AllowHTTPLocalhost)
	if _, bad := fields["tags"]; !bad && len(d.Tags) > 0 {
		unknown, err := tags.Unknown(r.Context(), s.pool, d.Tags)
		if err != nil {
			return d, err
		}
		if unknown != "" {
			fields["tags"] = "\"" + unknown + "\" is not a tag of the platform's list (GET /api/v1/tags)"
		}
	}
	if len(fields) > 0 {
		return d, fn.Invalid(fields)
	}
	return d, nil
}

func (s *server) create(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	d, err := s.declaration(r)
	if err != nil {
		return err
	}
	var svc services.Service
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		svc, err = services.Create(r.Context(), tx, p.AccountID, d)
		return err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/services/"+svc.ID)
	return fn.JSON(w, http.StatusCreated, svc)
}

func (s *server) get(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Service")
	if err != nil {
		return err
	}
	svc, err := services.GetOwned(r.Context(), s.pool, p.AccountID, id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, svc)
}

// update replaces the declaration while the service is in testing.
func (s *server) update(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := s.ownedID(r, p)
	if err != nil {
		return err
	}
	d, err := s.declaration(r)
	if err != nil {
		return err
	}
	var svc services.Service
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		svc, err = services.Update(r.Context(), tx, p.AccountID, id, d)
		return err
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, svc)
}

type productionURLRequest struct {
	ProductionURL string `json:"production_url"`
}

// setProductionURL sets the address used once live (seed §4.3.6: it may change until then).
func (s *server) setProductionURL(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := s.ownedID(r, p)
	if err != nil {
		return err
	}
	req, err := fn.Decode[productionURLRequest](r)
	if err != nil {
		return err
	}
	if reason := valid.URL(req.ProductionURL, s.cfg.AllowHTTPLocalhost); reason != "" {
		return fn.Invalid(map[string]string{"production_url": reason})
	}
	var svc services.Service
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		svc, err = services.SetProductionURL(r.Context(), tx, p.AccountID, id, req.ProductionURL)
		return err
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, svc)
}

func (s *server) suggestCallbackCode(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	name := r.URL.Query().Get("name")
	if reason := valid.Line(name, 1, 60); reason != "" {
		return fn.Invalid(map[string]string{"name": reason})
	}
	return fn.JSON(w, http.StatusOK, map[string]string{"name": name, "module_callback_code": services.SuggestCallbackCode(name)})
}

func (s *server) tags(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	list, err := tags.List(r.Context(), s.pool)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": list})
}

// apply asks for listing (申请). Both reports must be attached; an empty one is accepted and
// flagged "to be completed" before going live (seed §4.3.7).
func (s *server) apply(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return s.move(w, r, p, "apply", func(svc services.Service) error {
		if !svc.Reports.Functional.Attached || !svc.Reports.Security.Attached {
			return fn.Errorf(http.StatusConflict, "reports-missing",
				"Attach the functional and the security test report first (an empty file is accepted until going live).")
		}
		return nil
	})
}

// requestLive asks to go live: the production address must be set and both reports complete.
func (s *server) requestLive(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return s.move(w, r, p, "request-live", func(svc services.Service) error {
		if reason := services.LiveReady(svc, s.cfg.AllowHTTPLocalhost); reason != "" {
			return fn.Errorf(http.StatusConflict, "not-ready-for-live", reason)
		}
		return nil
	})
}

func (s *server) move(w http.ResponseWriter, r *http.Request, p auth.Principal, transition string, guard func(services.Service) error) error {
	id, err := fn.UUIDParam(r, "id", "Service")
	if err != nil {
		return err
	}
	var svc services.Service
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		svc, err = services.Move(r.Context(), tx, p.AccountID, id, transition, "", guard)
		return err
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, svc)
}

// ownedID is the path's service id once the service is known to be the vendor's: another
// vendor's service is "not found" before its request body is even read.
func (s *server) ownedID(r *http.Request, p auth.Principal) (string, error) {
	id, err := fn.UUIDParam(r, "id", "Service")
	if err != nil {
		return "", err
	}
	_, err = services.GetOwned(r.Context(), s.pool, p.AccountID, id)
	return id, err
}

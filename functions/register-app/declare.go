package main

import (
	"net/http"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
)

func (s *server) list(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if !apps.ValidStatus(status) {
		return fn.Invalid(map[string]string{"status": "must be draft, pending, approved or rejected"})
	}
	list, err := apps.List(r.Context(), s.pool, s.sealer, apps.Filter{VendorID: p.AccountID, Status: status}, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, list)
}

// create declares an application as a draft; submitting it is a separate step, so a vendor
// can save and come back.
func (s *server) create(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	d, err := fn.Decode[apps.Declaration](r)
	if err != nil {
		return err
	}
	a, err := apps.Create(r.Context(), s.pool, s.sealer, p.AccountID, d)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/apps/"+a.ID)
	return fn.JSON(w, http.StatusCreated, a)
}

func (s *server) get(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	a, err := apps.GetOwned(r.Context(), s.pool, s.sealer, p.AccountID, id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, a)
}

// update replaces the declaration while it is a draft, pending or rejected.
func (s *server) update(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	if _, err := apps.GetOwned(r.Context(), s.pool, s.sealer, p.AccountID, id); err != nil {
		return err // another vendor's application is "not found" before its body is read
	}
	d, err := fn.Decode[apps.Declaration](r)
	if err != nil {
		return err
	}
	a, err := apps.Update(r.Context(), s.pool, s.sealer, p.AccountID, id, d)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, a)
}

// submit sends a draft, or a rejected application after editing, into the review queue.
func (s *server) submit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	a, err := apps.Submit(r.Context(), s.pool, s.sealer, p.AccountID, id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, a)
}

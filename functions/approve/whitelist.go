package main

import (
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/valid"
)

func (s *server) testCitizens(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	if _, err := apps.Get(r.Context(), s.pool, s.sealer, id); err != nil {
		return err
	}
	list, err := apps.TestCitizens(r.Context(), s.pool, s.sealer, id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": list})
}

type addTestCitizenRequest struct {
	Mobile string `json:"mobile"`
}

func (r *addTestCitizenRequest) Valid() map[string]string {
	return valid.Collect("mobile", valid.Mobile(r.Mobile))
}

// addTestCitizen whitelists the citizen registered in the super-app with a mobile number
// (seed §5.1: the vendor gives the admin that number and the appCode).
func (s *server) addTestCitizen(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	req, err := fn.Decode[addTestCitizenRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := apps.Get(ctx, s.pool, s.sealer, id)
	if err != nil {
		return err
	}
	if a.Status != apps.Approved {
		return fn.Errorf(http.StatusConflict, fn.CodeInvalidState, "Test citizens can be added to approved applications; this one is "+a.Status+".")
	}
	citizenID, err := citizens.IDByMobile(ctx, s.pool, s.sealer, req.Mobile)
	if err != nil {
		return err
	}
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := apps.AddTestCitizen(ctx, tx, id, citizenID, p.AccountID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "test-citizen.add",
			SubjectType: "application", SubjectID: id, Detail: map[string]any{"citizen_id": citizenID}})
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusCreated, map[string]string{"citizen_id": citizenID, "mobile": valid.MaskMobile(req.Mobile)})
}

func (s *server) removeTestCitizen(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	citizenID, err := fn.UUIDParam(r, "citizen", "Test citizen")
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := apps.RemoveTestCitizen(ctx, tx, id, citizenID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "test-citizen.remove",
			SubjectType: "application", SubjectID: id, Detail: map[string]any{"citizen_id": citizenID}})
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

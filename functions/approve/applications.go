package main

import (
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/reviews"
	"github.com/jinlaiban/openplatform/shared/valid"
)

var source = events.Source("approve")

// listApplications is the review queue (?status=pending, the default: oldest submission
// first) or, with another status, the applications in it, newest first.
func (s *server) listApplications(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if !r.URL.Query().Has("status") {
		status = apps.Pending
	}
	if !apps.ValidStatus(status) {
		return fn.Invalid(map[string]string{"status": "must be draft, pending, approved or rejected (empty for all)"})
	}
	list, err := apps.List(r.Context(), s.pool, s.sealer, apps.Filter{Status: status}, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, list)
}

type applicationDetail struct {
	apps.Application
	Decisions []reviews.Decision `json:"decisions"`
}

func (s *server) getApplication(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	a, err := apps.Get(r.Context(), s.pool, s.sealer, id)
	if err != nil {
		return err
	}
	ds, err := reviews.History(r.Context(), s.pool, "application", id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, applicationDetail{Application: a, Decisions: ds})
}

// approveApplication issues the appCode and test appSecret; the decision, its audit entry
// and the vendor's notification event commit together.
func (s *server) approveApplication(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var a apps.Application
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if a, _, err = apps.Approve(ctx, tx, s.sealer, id, p.AccountID); err != nil {
			return err
		}
		return decided(r, tx, p, a, events.ApplicationApproved, "")
	})
	if err != nil {
		return err
	}
	s.nudger.Nudge()
	return fn.JSON(w, http.StatusOK, a)
}

type rejectRequest struct {
	Reason string `json:"reason"`
}

func (r *rejectRequest) Valid() map[string]string {
	return valid.Collect("reason", valid.Text(r.Reason, 2, 1000))
}

// rejectApplication sends the application back to its vendor with a reason.
func (s *server) rejectApplication(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Application")
	if err != nil {
		return err
	}
	req, err := fn.Decode[rejectRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var a apps.Application
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if a, err = apps.Reject(ctx, tx, s.sealer, id, p.AccountID, req.Reason); err != nil {
			return err
		}
		return decided(r, tx, p, a, events.ApplicationRejected, req.Reason)
	})
	if err != nil {
		return err
	}
	s.nudger.Nudge()
	return fn.JSON(w, http.StatusOK, a)
}

func decided(r *http.Request, tx pgx.Tx, p auth.Principal, a apps.Application, eventType, reason string) error {
	ctx := r.Context()
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "application." + a.Status,
		SubjectType: "application", SubjectID: a.ID, Detail: map[string]any{"reason": reason}}); err != nil {
		return err
	}
	_, err := events.Write(ctx, tx, events.Event{Source: source, Type: eventType, Subject: "applications/" + a.ID,
		Data: events.ApplicationDecision{ApplicationID: a.ID, Name: a.Name, VendorID: a.Vendor.ID, Decision: a.Status, Reason: reason,
			AppCode: a.AppCode, DecidedAt: a.DecidedAt.UTC().Format("2006-01-02T15:04:05Z")}})
	return err
}

package main

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/reviews"
)

// listGrants is the capability review queue (?status=pending by default, oldest first).
func (s *server) listGrants(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if status == "" {
		status = capabilities.Pending
	}
	if !capabilities.ValidStatus(status) {
		return fn.Invalid(map[string]string{"status": "must be draft, pending, granted, rejected or revoked"})
	}
	items, total, err := capabilities.Queue(r.Context(), s.pool, status, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
}

type grantDetail struct {
	capabilities.Grant
	Form      *fileLink          `json:"form,omitempty"`
	Decisions []reviews.Decision `json:"decisions"`
}

// getGrant shows a capability request with a short-lived link to its SMS form.
func (s *server) getGrant(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Capability grant")
	if err != nil {
		return err
	}
	ctx := r.Context()
	g, err := capabilities.GetGrant(ctx, s.pool, id)
	if err != nil {
		return err
	}
	d := grantDetail{Grant: g}
	if d.Decisions, err = reviews.History(ctx, s.pool, "capability", id); err != nil {
		return err
	}
	if key := g.FormKey(); key != "" {
		url, err := s.store.PresignGet(ctx, key, "sms-application-form-"+g.ApplicationID[:8], s.cfg.DownloadTTL)
		if err != nil {
			return err
		}
		d.Form = &fileLink{URL: url, Filename: "sms-application-form", ExpiresAt: time.Now().Add(s.cfg.DownloadTTL).UTC().Truncate(time.Second)}
	}
	return fn.JSON(w, http.StatusOK, d)
}

var grantEvents = map[string]string{
	"grant":  events.CapabilityGranted,
	"reject": events.CapabilityRejected,
	"revoke": events.CapabilityRevoked,
}

// decideGrant grants or rejects a pending request, or revokes a grant (a revoked grant
// stops the application's calls at once); rejecting and revoking need a reason.
func (s *server) decideGrant(name string) auth.PrincipalHandler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		id, err := fn.UUIDParam(r, "id", "Capability grant")
		if err != nil {
			return err
		}
		var reason string
		if name != "grant" {
			req, err := fn.Decode[reasonRequest](r)
			if err != nil {
				return err
			}
			reason = req.Reason
		}
		ctx := r.Context()
		var g capabilities.Grant
		err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
			if g, err = capabilities.Decide(ctx, tx, id, name, reason); err != nil {
				return err
			}
			if err := reviews.Record(ctx, tx, "capability", id, name, reason, p.AccountID); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "capability." + name,
				SubjectType: "capability", SubjectID: id, Detail: map[string]any{"reason": reason, "capability": g.Capability}}); err != nil {
				return err
			}
			_, err := events.Write(ctx, tx, events.Event{Source: source, Type: grantEvents[name], Subject: "capabilities/" + id,
				Data: events.CapabilityDecision{GrantID: id, Capability: g.Capability, ApplicationID: g.ApplicationID, Name: g.AppName,
					VendorID: g.VendorID, Decision: name, Status: g.Status, Reason: reason, DecidedAt: time.Now().UTC().Format(time.RFC3339)}})
			return err
		})
		if err != nil {
			return err
		}
		s.nudger.Nudge()
		return fn.JSON(w, http.StatusOK, g)
	}
}

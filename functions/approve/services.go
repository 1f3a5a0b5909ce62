package main

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/reviews"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// listServices is the listing and go-live review queue (?status=applied or live_requested;
// both by default, oldest first), or the services in any other status.
func (s *server) listServices(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := services.Filter{ApplicationID: q.Get("application_id"), Statuses: []string{services.Applied, services.LiveRequested}}
	queue := true
	if q.Has("status") {
		st := q.Get("status")
		if !services.ValidStatus(st) {
			return fn.Invalid(map[string]string{"status": "must be one of testing, applied, approved, live_requested, live, offline (empty for all)"})
		}
		f.Statuses, queue = nil, st == services.Applied || st == services.LiveRequested
		if st != "" {
			f.Statuses = []string{st}
		}
	}
	list, err := services.List(r.Context(), s.pool, f, queue, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, list)
}

type serviceDetail struct {
	services.Service
	PreChecks []services.Check    `json:"pre_checks"`
	Decisions []reviews.Decision  `json:"decisions"`
	Files     map[string]fileLink `json:"files"`
}

type fileLink struct {
	URL       string    `json:"url"`
	Filename  string    `json:"filename"`
	ExpiresAt time.Time `json:"expires_at"`
}

// getService shows a service with the machine pre-checks, its review history, and
// short-lived links to its files.
func (s *server) getService(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Service")
	if err != nil {
		return err
	}
	ctx := r.Context()
	svc, err := services.Get(ctx, s.pool, id)
	if err != nil {
		return err
	}
	d := serviceDetail{Service: svc, Files: map[string]fileLink{}}
	if d.PreChecks, err = services.PreChecks(ctx, s.pool, svc, s.cfg.AllowHTTPLocalhost); err != nil {
		return err
	}
	if d.Decisions, err = reviews.History(ctx, s.pool, "service", id); err != nil {
		return err
	}
	for _, kind := range []string{services.KindLogo, services.KindFunctionalReport, services.KindSecurityReport} {
		if svc.Key(kind) == "" {
			continue
		}
		f, err := services.AttachedFile(ctx, s.pool, svc, kind)
		if err != nil {
			return err
		}
		url, err := s.store.PresignGet(ctx, f.Key, f.Filename, s.cfg.DownloadTTL)
		if err != nil {
			return err
		}
		d.Files[kind] = fileLink{URL: url, Filename: f.Filename, ExpiresAt: time.Now().Add(s.cfg.DownloadTTL).UTC().Truncate(time.Second)}
	}
	return fn.JSON(w, http.StatusOK, d)
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (r *reasonRequest) Valid() map[string]string {
	return valid.Collect("reason", valid.Text(r.Reason, 2, 1000))
}

// serviceDecision is one of the admin's service transitions: its event type, whether it needs
// a reason, and a guard on the service beyond its status.
type serviceDecision struct {
	transition string
	eventType  string
	needReason bool
	guard      func(s *server) func(services.Service) error
}

var serviceDecisions = map[string]serviceDecision{
	"approve-listing": {transition: "approve-listing", eventType: events.ListingApproved},
	"reject-listing":  {transition: "reject-listing", eventType: events.ListingRejected, needReason: true},
	"approve-live":    {transition: "approve-live", eventType: events.ServiceLive, guard: liveGuard},
	"reject-live":     {transition: "reject-live", eventType: events.LiveRejected, needReason: true},
	"take-offline":    {transition: "take-offline", eventType: events.ServiceOffline, needReason: true},
	"bring-online":    {transition: "bring-online", eventType: events.ServiceLive, needReason: true, guard: liveGuard},
}

// liveGuard: a service goes live only with both reports complete, an acceptable production
// address, and its application still approved.
func liveGuard(s *server) func(services.Service) error {
	return func(svc services.Service) error {
		if reason := services.LiveReady(svc, s.cfg.AllowHTTPLocalhost); reason != "" {
			return fn.Errorf(http.StatusConflict, "not-ready-for-live", reason)
		}
		return nil
	}
}

// decideService makes the decision named by the route, recording it, auditing it, and
// writing its event in one transaction. Going live issues the application's production
// secret if it has none yet.
func (s *server) decideService(name string) auth.PrincipalHandler {
	dec := serviceDecisions[name]
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		id, err := fn.UUIDParam(r, "id", "Service")
		if err != nil {
			return err
		}
		var reason string
		if dec.needReason {
			req, err := fn.Decode[reasonRequest](r)
			if err != nil {
				return err
			}
			reason = req.Reason
		}
		var guard func(services.Service) error
		if dec.guard != nil {
			guard = dec.guard(s)
		}
		ctx := r.Context()
		var svc services.Service
		err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
			if svc, err = services.Move(ctx, tx, "", id, dec.transition, reason, guard); err != nil {
				return err
			}
			if svc.Status == services.Live {
				if err := s.ensureProductionSecret(r, tx, svc.Application.ID); err != nil {
					return err
				}
			}
			if err := reviews.Record(ctx, tx, "service", id, name, reason, p.AccountID); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "service." + name,
				SubjectType: "service", SubjectID: id, Detail: map[string]any{"reason": reason}}); err != nil {
				return err
			}
			_, err := events.Write(ctx, tx, events.Event{Source: source, Type: dec.eventType, Subject: "services/" + id,
				Data: events.ServiceDecision{ServiceID: id, Name: svc.Name, ModuleCode: svc.ModuleCode, ApplicationID: svc.Application.ID,
					VendorID: svc.VendorID, Decision: name, Status: svc.Status, Reason: reason, DecidedAt: time.Now().UTC().Format(time.RFC3339)}})
			return err
		})
		if err != nil {
			return err
		}
		s.nudger.Nudge()
		return fn.JSON(w, http.StatusOK, svc)
	}
}

func (s *server) ensureProductionSecret(r *http.Request, tx pgx.Tx, appID string) error {
	var has bool
	if err := tx.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM app_secrets WHERE application_id = $1 AND environment = 'production')`,
		appID).Scan(&has); err != nil || has {
		return err
	}
	_, err := apps.IssueSecret(r.Context(), tx, s.sealer, appID, apps.EnvProduction)
	return err
}

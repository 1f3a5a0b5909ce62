package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/seal"
)

type deps struct {
	pool     *pgxpool.Pool
	sealer   *seal.Sealer
	store    *objstore.Presigner
	sessions *auth.Sessions
	cfg      config
	nudger   *events.Nudger // tells relay-outbox after a decision committed (nil: never)
}

type server struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	store  *objstore.Presigner
	cfg    config
	nudger *events.Nudger
}

func newServer(d deps) http.Handler {
	s := &server{pool: d.pool, sealer: d.sealer, store: d.store, cfg: d.cfg, nudger: d.nudger}
	admin := d.sessions.Admin
	r := fn.NewRouter()
	r.Handle("GET /api/v1/admin/applications", admin(s.listApplications))
	r.Handle("GET /api/v1/admin/applications/{id}", admin(s.getApplication))
	r.Handle("POST /api/v1/admin/applications/{id}/approve", admin(s.approveApplication))
	r.Handle("POST /api/v1/admin/applications/{id}/reject", admin(s.rejectApplication))
	r.Handle("GET /api/v1/admin/applications/{id}/test-citizens", admin(s.testCitizens))
	r.Handle("POST /api/v1/admin/applications/{id}/test-citizens", admin(s.addTestCitizen))
	r.Handle("DELETE /api/v1/admin/applications/{id}/test-citizens/{citizen}", admin(s.removeTestCitizen))

	r.Handle("GET /api/v1/admin/services", admin(s.listServices))
	r.Handle("GET /api/v1/admin/services/{id}", admin(s.getService))
	for name := range serviceDecisions {
		r.Handle("POST /api/v1/admin/services/{id}/"+name, admin(s.decideService(name)))
	}

	r.Handle("GET /api/v1/admin/capabilities", admin(s.listGrants))
	r.Handle("GET /api/v1/admin/capabilities/{id}", admin(s.getGrant))
	for name := range capabilities.Decisions {
		r.Handle("POST /api/v1/admin/capabilities/{id}/"+name, admin(s.decideGrant(name)))
	}

	r.Handle("GET /api/v1/admin/audit", admin(s.searchAudit))

	r.Handle("GET /api/v1/admin/tags", admin(s.listTags))
	r.Handle("POST /api/v1/admin/tags", admin(s.createTag))
	r.Handle("DELETE /api/v1/admin/tags/{slug}", admin(s.deleteTag))
	return r
}

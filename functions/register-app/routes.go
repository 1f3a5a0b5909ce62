package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
	"github.com/jinlaiban/openplatform/shared/seal"
)

type deps struct {
	pool     *pgxpool.Pool
	sealer   *seal.Sealer
	store    *bucket.Store
	sessions *auth.Sessions
}

type server struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	store  *bucket.Store
}

func newServer(d deps) http.Handler {
	s := &server{pool: d.pool, sealer: d.sealer, store: d.store}
	sessions := d.sessions
	r := fn.NewRouter()
	r.Handle("GET /api/v1/apps", sessions.Vendor(s.list))
	r.Handle("POST /api/v1/apps", sessions.Vendor(s.create))
	r.Handle("GET /api/v1/apps/{id}", sessions.Vendor(s.get))
	r.Handle("PUT /api/v1/apps/{id}", sessions.Vendor(s.update))
	r.Handle("POST /api/v1/apps/{id}/submit", sessions.Vendor(s.submit))
	r.Handle("GET /api/v1/apps/{id}/credentials", sessions.Vendor(s.credentials))
	r.Handle("POST /api/v1/apps/{id}/secrets", sessions.Vendor(s.rotateSecret))
	r.Handle("GET /api/v1/apps/{id}/capabilities", sessions.Vendor(s.capabilities))
	r.Handle("POST /api/v1/apps/{id}/capabilities", sessions.Vendor(s.applyCapability))
	r.Handle("POST /api/v1/apps/{id}/capabilities/sms/form", sessions.Vendor(s.startSMSForm))
	r.Handle("POST /api/v1/apps/{id}/capabilities/sms/form/complete", sessions.Vendor(s.completeSMSForm))
	r.Handle("GET /api/v1/apps/{id}/usage", sessions.Vendor(s.usage))
	return r
}

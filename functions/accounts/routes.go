package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
)

type server struct {
	pool     *pgxpool.Pool
	sealer   *seal.Sealer
	sessions *auth.Sessions
	throttle throttle
	hops     int
}

func newServer(pool *pgxpool.Pool, sealer *seal.Sealer, sessions *auth.Sessions, t throttle, proxyHops int) http.Handler {
	s := &server{pool: pool, sealer: sealer, sessions: sessions, throttle: t, hops: proxyHops}
	r := fn.NewRouter()
	r.Handle("POST /api/v1/sessions", s.signIn)
	r.Handle("DELETE /api/v1/sessions/current", sessions.Anyone(s.signOut))
	r.Handle("GET /api/v1/me", sessions.Anyone(s.me))
	r.Handle("POST /api/v1/me/password", sessions.Anyone(s.changePassword))

	r.Handle("POST /api/v1/admin/vendors", sessions.Admin(s.createVendor))
	r.Handle("GET /api/v1/admin/vendors", sessions.Admin(s.listVendors))
	r.Handle("GET /api/v1/admin/vendors/{id}", sessions.Admin(s.getVendor))
	r.Handle("POST /api/v1/admin/vendors/{id}/disable", sessions.Admin(s.disableVendor))
	r.Handle("POST /api/v1/admin/vendors/{id}/enable", sessions.Admin(s.enableVendor))
	r.Handle("POST /api/v1/admin/vendors/{id}/password-reset", sessions.Admin(s.resetVendorPassword))
	return r
}

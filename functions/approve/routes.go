package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
)

type server struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
}

func newServer(pool *pgxpool.Pool, sealer *seal.Sealer, sessions *auth.Sessions) http.Handler {
	s := &server{pool: pool, sealer: sealer}
	r := fn.NewRouter()
	r.Handle("GET /api/v1/admin/applications", sessions.Admin(s.listApplications))
	r.Handle("GET /api/v1/admin/applications/{id}", sessions.Admin(s.getApplication))
	r.Handle("POST /api/v1/admin/applications/{id}/approve", sessions.Admin(s.approveApplication))
	r.Handle("POST /api/v1/admin/applications/{id}/reject", sessions.Admin(s.rejectApplication))
	return r
}

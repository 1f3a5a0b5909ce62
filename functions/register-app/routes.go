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
	r.Handle("GET /api/v1/apps", sessions.Vendor(s.list))
	r.Handle("POST /api/v1/apps", sessions.Vendor(s.create))
	r.Handle("GET /api/v1/apps/{id}", sessions.Vendor(s.get))
	r.Handle("PUT /api/v1/apps/{id}", sessions.Vendor(s.update))
	r.Handle("POST /api/v1/apps/{id}/submit", sessions.Vendor(s.submit))
	r.Handle("GET /api/v1/apps/{id}/credentials", sessions.Vendor(s.credentials))
	r.Handle("POST /api/v1/apps/{id}/secrets", sessions.Vendor(s.rotateSecret))
	return r
}

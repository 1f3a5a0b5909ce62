package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
)

type server struct {
	pool  *pgxpool.Pool
	store *bucket.Store
	cfg   config
}

func newServer(pool *pgxpool.Pool, store *bucket.Store, sessions *auth.Sessions, cfg config) http.Handler {
	s := &server{pool: pool, store: store, cfg: cfg}
	r := fn.NewRouter()
	r.Handle("GET /api/v1/services", sessions.Vendor(s.list))
	r.Handle("POST /api/v1/services", sessions.Vendor(s.create))
	r.Handle("GET /api/v1/services/callback-code", sessions.Vendor(s.suggestCallbackCode))
	r.Handle("GET /api/v1/services/{id}", sessions.Vendor(s.get))
	r.Handle("PUT /api/v1/services/{id}", sessions.Vendor(s.update))
	r.Handle("PUT /api/v1/services/{id}/production-url", sessions.Vendor(s.setProductionURL))
	r.Handle("POST /api/v1/services/{id}/uploads", sessions.Vendor(s.startUpload))
	r.Handle("POST /api/v1/services/{id}/uploads/{upload}/complete", sessions.Vendor(s.completeUpload))
	r.Handle("GET /api/v1/services/{id}/files/{kind}", sessions.Vendor(s.download))
	r.Handle("POST /api/v1/services/{id}/apply", sessions.Vendor(s.apply))
	r.Handle("POST /api/v1/services/{id}/request-live", sessions.Vendor(s.requestLive))
	r.Handle("GET /api/v1/tags", sessions.Vendor(s.tags))
	return r
}

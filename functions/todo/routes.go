package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type deps struct {
	pool     *pgxpool.Pool
	sealer   *seal.Sealer
	verifier *vendorauth.Verifier
	cfg      config
}

type server struct{ deps }

func newServer(d deps) http.Handler {
	s := &server{d}
	r := fn.NewRouter()
	vendor := func(h vendorauth.Handler) fn.HandlerFunc {
		return capabilities.Guard(d.verifier, d.pool, capabilities.Todo, d.cfg.Limit, h)
	}
	r.Handle("POST /api/v1/todos", vendor(s.create))
	r.Handle("GET /api/v1/todos/{external_id}", vendor(s.get))
	r.Handle("PUT /api/v1/todos/{external_id}", vendor(s.update))
	r.Handle("POST /api/v1/todos/{external_id}/complete", vendor(s.complete))
	r.Handle("POST /api/v1/todos/{external_id}/cancel", vendor(s.cancel))
	r.Handle("GET /api/v1/citizen/todos", s.citizen(s.list))
	return r
}

// citizenHandler is an operation for a signed-in citizen.
type citizenHandler func(w http.ResponseWriter, r *http.Request, citizenID string) error

// citizen guards an operation with the super-app's citizen session.
func (s *server) citizen(h citizenHandler) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := citizens.SessionCitizen(r.Context(), s.pool, r)
		if err != nil {
			return err
		}
		return h(w, r, id)
	}
}

package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type deps struct {
	pool     *pgxpool.Pool
	verifier *vendorauth.Verifier
	cfg      config
}

type server struct{ deps }

func newServer(d deps) http.Handler {
	s := &server{d}
	r := fn.NewRouter()
	r.Handle("POST /api/v1/messages", capabilities.Guard(d.verifier, d.pool, capabilities.Message, d.cfg.Limit, s.send))
	r.Handle("GET /api/v1/citizen/messages", s.citizen(s.inbox))
	r.Handle("GET /api/v1/citizen/messages/{id}", s.citizen(s.message))
	r.Handle("POST /api/v1/citizen/messages/{id}/read", s.citizen(s.markRead))
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

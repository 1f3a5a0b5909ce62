package main

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type server struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	ttl    time.Duration
}

func newServer(pool *pgxpool.Pool, verifier *vendorauth.Verifier, ttl time.Duration) http.Handler {
	s := &server{pool: pool, sealer: verifier.Sealer, ttl: ttl}
	r := fn.NewRouter()
	r.Handle("POST /api/v1/sso/token", verifier.Guard(s.exchange))
	return r
}

type exchangeRequest struct {
	Ticket string `json:"ticket"`
}

func (e *exchangeRequest) Valid() map[string]string {
	if len(e.Ticket) < 16 || len(e.Ticket) > 128 {
		return map[string]string{"ticket": "must be the ticket from the ticket query parameter"}
	}
	return nil
}

// exchange trades the ticket for an access token. The ticket must belong to the signing
// application, and to the environment of the secret that signed.
func (s *server) exchange(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	req, err := fn.Decode[exchangeRequest](r)
	if err != nil {
		return err
	}
	tok, err := sso.Exchange(r.Context(), s.pool, s.sealer, c.AppID, c.Environment, req.Ticket, s.ttl)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, tok)
}

package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type deps struct {
	pool         *pgxpool.Pool
	sealer       *seal.Sealer
	provider     sms.Provider
	providerName string
	verifier     *vendorauth.Verifier
	limit        capabilities.Limit
	cfg          config
}

type server struct{ deps }

func newServer(d deps) http.Handler {
	s := &server{d}
	r := fn.NewRouter()
	r.Handle("POST /api/v1/sms/send", capabilities.Guard(d.verifier, d.pool, capabilities.SMS, d.limit, s.send))
	r.Handle("GET /api/v1/sms/sends", d.verifier.Guard(s.sends))
	if d.providerName == "dev" {
		r.Handle("GET /api/v1/dev/sms", s.devInbox)
	}
	return r
}

package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sms"
)

type deps struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	sms    sms.Provider // nil when citizen sign-in is off
	cfg    config
}

type server struct{ deps }

func newServer(d deps) http.Handler {
	s := &server{d}
	r := fn.NewRouter()
	r.Handle("POST /api/v1/sso/tickets", s.superApp(s.issueTicket))
	// The simulator's citizens exist only where they can sign in: with sign-in off, their
	// routes are not there at all (a session made some other way opens nothing).
	r.Handle("GET /api/v1/sso/open", s.signInEnabled(s.citizen(s.open)))
	r.Handle("GET /api/v1/citizen/services", s.signInEnabled(s.citizen(s.catalog)))
	r.Handle("POST /api/v1/citizen/login-code", s.signInEnabled(s.sendLoginCode))
	r.Handle("POST /api/v1/citizen/sessions", s.signInEnabled(s.signIn))
	r.Handle("POST /api/v1/citizen/title-check", s.signInEnabled(s.citizen(s.titleCheck)))
	r.Handle("POST /api/v1/citizen/tickets", s.signInEnabled(s.citizen(s.shellTicket)))
	return r
}

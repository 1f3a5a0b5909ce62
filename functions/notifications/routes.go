package main

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
)

type deps struct {
	pool     *pgxpool.Pool
	sealer   *seal.Sealer
	sessions *auth.Sessions
	cfg      config
	nudger   *events.Nudger // tells notify a delivery is due again (nil: never)
}

type server struct{ deps }

func newServer(d deps) http.Handler {
	s := &server{d}
	vendor := d.sessions.Vendor
	r := fn.NewRouter()
	r.Handle("GET /api/v1/notifications", vendor(s.inbox))
	r.Handle("POST /api/v1/notifications/{id}/read", vendor(s.markRead))
	r.Handle("POST /api/v1/notifications/read-all", vendor(s.markAllRead))

	r.Handle("GET /api/v1/webhooks", vendor(s.listEndpoints))
	r.Handle("POST /api/v1/webhooks", vendor(s.createEndpoint))
	r.Handle("GET /api/v1/webhooks/{id}", vendor(s.getEndpoint))
	r.Handle("DELETE /api/v1/webhooks/{id}", vendor(s.deleteEndpoint))
	r.Handle("POST /api/v1/webhooks/{id}/rotate-secret", vendor(s.rotateSecret))
	r.Handle("GET /api/v1/webhooks/{id}/deliveries", vendor(s.deliveries))
	r.Handle("POST /api/v1/webhooks/deliveries/{id}/redeliver", vendor(s.redeliver))
	return r
}

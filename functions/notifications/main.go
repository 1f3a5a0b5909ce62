// Command notifications is the vendor portal's side of notifications: the inbox of messages
// about review decisions (notify writes them), and the vendor's webhook endpoints (register,
// list, delete, rotate the signing secret), their deliveries, and redelivery. Its caller is
// the vendor portal, with a vendor's session.
package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
)

type config struct {
	// AllowHTTPLocalhost admits http://localhost webhook endpoints: the development stack
	// only, never in a real deployment.
	AllowHTTPLocalhost bool `envconfig:"ALLOW_HTTP_LOCALHOST" default:"false"`
	// NotifyURL is notify's address: after a redelivery request notifications nudges its
	// tick, so the delivery goes out at once. Optional: without it the schedule sends it.
	NotifyURL string `envconfig:"NOTIFY_URL"`
}

func main() { fn.Main("notifications", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	pool, err := rt.DB()
	if err != nil {
		return nil, err
	}
	sealer, err := rt.Sealer()
	if err != nil {
		return nil, err
	}
	var nudger *events.Nudger
	if cfg.NotifyURL != "" {
		nudger = events.NewNudger(strings.TrimSuffix(cfg.NotifyURL, "/") + "/_/tick")
	}
	return newServer(deps{pool: pool, sealer: sealer, sessions: &auth.Sessions{Pool: pool}, cfg: cfg, nudger: nudger}), nil
}

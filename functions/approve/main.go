// Command approve is the administrators' review desk: the queues of applications and
// services waiting for review and the decisions on them, the test-citizen whitelist, and the
// platform's service tags.
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
)

type config struct {
	// AllowHTTPLocalhost admits http://localhost production addresses: the development
	// stack only, never in a real deployment.
	AllowHTTPLocalhost bool          `envconfig:"ALLOW_HTTP_LOCALHOST" default:"false"`
	DownloadTTL        time.Duration `envconfig:"DOWNLOAD_URL_TTL" default:"5m"`
	// RelayOutboxURL is relay-outbox's address: after each committed decision approve nudges
	// it, so the decision's event leaves at once rather than at the relay's next scheduled
	// run. Optional: without it the schedule alone relays.
	RelayOutboxURL string `envconfig:"RELAY_OUTBOX_URL"`
}

func main() { fn.Main("approve", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	var sc objstore.Config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	if err := rt.Load(&sc); err != nil {
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
	// approve only hands out download URLs: the presigner, not the S3 client.
	store, err := objstore.NewPresigner(sc)
	if err != nil {
		return nil, err
	}
	return newServer(deps{pool: pool, sealer: sealer, store: store, sessions: &auth.Sessions{Pool: pool}, cfg: cfg,
		nudger: events.NewNudger(cfg.RelayOutboxURL)}), nil
}

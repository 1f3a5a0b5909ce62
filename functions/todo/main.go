// Command todo lets an application give a citizen who signed in to its services a to-do
// item in the super-app (the 待办 capability), keyed by the application's own id for it,
// and update, complete or cancel it later: its caller is the vendor's backend, with a
// signed request and a grant of the capability. Citizens list their to-do items here too,
// with the super-app's citizen session.
package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type config struct {
	capabilities.Limit
	SignatureWindow time.Duration `envconfig:"SIGNATURE_WINDOW" default:"5m"`
	// AllowHTTPLocalhost admits http://localhost links: the development stack only, never in
	// a real deployment.
	AllowHTTPLocalhost bool `envconfig:"ALLOW_HTTP_LOCALHOST" default:"false"`
}

func (c config) check() error {
	if c.PerMinute < 1 {
		return errors.New("CAPABILITY_RATE_PER_MINUTE: must be at least 1")
	}
	if c.SignatureWindow <= 0 || c.SignatureWindow > 15*time.Minute {
		return errors.New("SIGNATURE_WINDOW: must be more than 0 and at most 15m")
	}
	return nil
}

func main() { fn.Main("todo", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
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
	return newServer(deps{pool: pool, sealer: sealer,
		verifier: &vendorauth.Verifier{Pool: pool, Sealer: sealer, Window: cfg.SignatureWindow}, cfg: cfg}), nil
}

// Command send-message lets an application put a message in the in-app inbox of a citizen
// who signed in to its services (the 应用消息 capability): its caller is the vendor's backend,
// with a signed request, a grant of the capability and an Idempotency-Key. Citizens read
// their inbox here too, with the super-app's citizen session.
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

func main() { fn.Main("send-message", setup) }

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
	return newServer(deps{pool: pool, verifier: &vendorauth.Verifier{Pool: pool, Sealer: sealer, Window: cfg.SignatureWindow}, cfg: cfg}), nil
}

// Command send-message lets an application put a message in the in-app inbox of a citizen
// who signed in to its services (the 应用消息 capability): its caller is the vendor's backend,
// with a signed request, a grant of the capability and an Idempotency-Key. Citizens read
// their inbox here too, with the super-app's citizen session.
package main

import (
	"context"
	"net/http"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type config struct {
	capabilities.Limit
	// AllowHTTPLocalhost admits http://localhost links: the development stack only, never in
	// a real deployment.
	AllowHTTPLocalhost bool `envconfig:"ALLOW_HTTP_LOCALHOST" default:"false"`
}

func main() { fn.Main("send-message", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.Limit.Check(); err != nil {
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
	verifier, err := vendorauth.Load(rt, pool, sealer)
	if err != nil {
		return nil, err
	}
	return newServer(deps{pool: pool, verifier: verifier, cfg: cfg}), nil
}

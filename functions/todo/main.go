// Command todo lets an application give a citizen who signed in to its services a to-do
// item in the super-app (the 待办 capability), keyed by the application's own id for it,
// and update, complete or cancel it later: its caller is the vendor's backend, with a
// signed request and a grant of the capability. Citizens list their to-do items here too,
// with the super-app's citizen session.
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

func main() { fn.Main("todo", setup) }

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
	return newServer(deps{pool: pool, sealer: sealer,
		verifier: verifier, cfg: cfg}), nil
}

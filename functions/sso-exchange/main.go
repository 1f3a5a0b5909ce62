// Command sso-exchange trades a single sign-on ticket for a short-lived access token. Its
// caller is a vendor's backend, with a signed request.
package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type config struct {
	TokenTTL time.Duration `envconfig:"ACCESS_TOKEN_TTL" default:"5m"`
}

func main() { fn.Main("sso-exchange", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	if cfg.TokenTTL <= 0 || cfg.TokenTTL > time.Hour {
		return nil, errors.New("ACCESS_TOKEN_TTL: must be more than 0 and at most 1h (tokens are not to be stored)")
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
	return newServer(pool, verifier, cfg.TokenTTL), nil
}

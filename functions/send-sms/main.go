// Command send-sms sends templated text messages for vendors' backends: to a citizen of the
// application (by its citizen id) or to a mobile number (the vendor's own staff), only with
// the application's SMS grant and approved templates, within per-number limits, and
// idempotently. In development it also serves the development provider's inbox.
package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type config struct {
	// Per number, per application and template (at least 1/min, 5/h, 10/day by default).
	PerMinute int `envconfig:"SMS_LIMIT_PER_MINUTE" default:"1"`
	PerHour   int `envconfig:"SMS_LIMIT_PER_HOUR" default:"5"`
	PerDay    int `envconfig:"SMS_LIMIT_PER_DAY" default:"10"`
}

// check refuses settings that would refuse every call: a send needs a limit of at least one
// at each level, the longer windows no smaller than the shorter.
func (c config) check(limit capabilities.Limit) error {
	switch {
	case limit.Check() != nil:
		return limit.Check()
	case c.PerMinute < 1:
		return errors.New("SMS_LIMIT_PER_MINUTE: must be at least 1")
	case c.PerHour < c.PerMinute:
		return errors.New("SMS_LIMIT_PER_HOUR: must be at least SMS_LIMIT_PER_MINUTE")
	case c.PerDay < c.PerHour:
		return errors.New("SMS_LIMIT_PER_DAY: must be at least SMS_LIMIT_PER_HOUR")
	}
	return nil
}

func main() { fn.Main("send-sms", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	var limit capabilities.Limit
	var sc sms.Config
	for _, spec := range []any{&cfg, &limit, &sc} {
		if err := rt.Load(spec); err != nil {
			return nil, err
		}
	}
	if err := cfg.check(limit); err != nil {
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
	provider, err := sms.New(sc, pool, sealer)
	if err != nil {
		return nil, err
	}
	return newServer(deps{pool: pool, sealer: sealer, provider: provider, providerName: sc.Provider, limit: limit, cfg: cfg,
		verifier: verifier}), nil
}

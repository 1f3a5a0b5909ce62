// Command accounts signs people in and out of the back office, lets them change their
// password, and lets administrators issue, disable and re-enable vendor accounts.
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
)

type config struct {
	SessionTTL       time.Duration `envconfig:"SESSION_TTL" default:"8h"`
	CookieSecure     bool          `envconfig:"COOKIE_SECURE" default:"true"`
	TrustedProxyHops int           `envconfig:"TRUSTED_PROXY_HOPS" default:"0"`
	LockAfter        int           `envconfig:"LOGIN_LOCK_AFTER" default:"5"`
	LockFor          time.Duration `envconfig:"LOGIN_LOCK_DURATION" default:"15m"`
}

func main() { fn.Main("accounts", setup) }

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
	sessions := &auth.Sessions{Pool: pool, TTL: cfg.SessionTTL, SecureCookie: cfg.CookieSecure}
	return newServer(pool, sealer, sessions, newThrottle(cfg.LockAfter, cfg.LockFor), cfg.TrustedProxyHops), nil
}

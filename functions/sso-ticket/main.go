// Command sso-ticket is the super-app's side of single sign-on: for a signed-in citizen
// opening a service it issues a one-time ticket and sends the browser to the service with
// it. Its callers are the super-app's backend (with a server credential) and, in the test
// environment, the super-app simulator's citizens, who sign in here with a code sent by SMS.
package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/sso"
)

type config struct {
	TicketTTL time.Duration `envconfig:"TICKET_TTL" default:"2m"`
	// SuperAppToken authenticates the super-app's backend.
	SuperAppToken string `envconfig:"SUPERAPP_TOKEN" secret:"superapp-token,required"`
	// CitizenSignIn lets simulator citizens sign in with SMS codes: test environments only.
	CitizenSignIn     bool          `envconfig:"CITIZEN_SIGNIN_ENABLED" default:"false"`
	CitizenSessionTTL time.Duration `envconfig:"CITIZEN_SESSION_TTL" default:"12h"`
	CookieSecure      bool          `envconfig:"COOKIE_SECURE" default:"true"`
}

func main() { fn.Main("sso-ticket", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	if cfg.TicketTTL <= 0 || cfg.TicketTTL > sso.MaxTicketTTL {
		return nil, errors.New("TICKET_TTL: must be more than 0 and at most 5m")
	}
	if len(cfg.SuperAppToken) < 32 {
		return nil, errors.New("SUPERAPP_TOKEN: must be at least 32 characters")
	}
	pool, err := rt.DB()
	if err != nil {
		return nil, err
	}
	sealer, err := rt.Sealer()
	if err != nil {
		return nil, err
	}
	var provider sms.Provider
	if cfg.CitizenSignIn {
		var sc sms.Config
		if err := rt.Load(&sc); err != nil {
			return nil, err
		}
		if provider, err = sms.New(sc, pool, sealer); err != nil {
			return nil, err
		}
	}
	return newServer(deps{pool: pool, sealer: sealer, sms: provider, cfg: cfg}), nil
}

// Command notify tells vendors about review decisions. It is the target of the Broker's
// Triggers (one per decision event type): for each decision it writes a message into the
// vendor's portal inbox, an SMS job for the vendor's contact mobile, and a webhook delivery
// per endpoint the vendor registered, all in one transaction with the event's (source, id),
// so a redelivered event has no second effect. The SMS and webhooks go out right after the
// commit; what fails is retried, with backoff, by the periodic tick (a PingSource event, or
// the OpenFaaS cron connector's plain POST).
package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/sms"
)

type config struct {
	// SMSTemplate is the provider's template for decision notices, with the parameters
	// ${name} (the application or service), ${decision} and ${reason}.
	SMSTemplate    string `envconfig:"NOTIFY_SMS_TEMPLATE" required:"true"`
	SMSMaxAttempts int    `envconfig:"SMS_MAX_ATTEMPTS" default:"5"`
	// Webhook deliveries: each attempt's timeout, and how many attempts before a delivery
	// is given up ("failed"; the vendor can redeliver it).
	WebhookTimeout     time.Duration `envconfig:"WEBHOOK_TIMEOUT" default:"5s"`
	WebhookMaxAttempts int           `envconfig:"WEBHOOK_MAX_ATTEMPTS" default:"10"`
	// Retries of SMS jobs and webhook deliveries: RETRY_BACKOFF_BASE after the first
	// failure, doubling, at most RETRY_BACKOFF_MAX.
	RetryBase time.Duration `envconfig:"RETRY_BACKOFF_BASE" default:"1m"`
	RetryMax  time.Duration `envconfig:"RETRY_BACKOFF_MAX" default:"6h"`
	// TickBudget bounds one periodic run.
	TickBudget time.Duration `envconfig:"TICK_BUDGET" default:"20s"`
	// AllowHTTPLocalhost lets webhooks reach loopback addresses: the development stack only.
	// Otherwise deliveries never connect to loopback, private or link-local addresses.
	AllowHTTPLocalhost bool `envconfig:"ALLOW_HTTP_LOCALHOST" default:"false"`
}

func (c config) check() error {
	switch {
	case c.SMSMaxAttempts < 1:
		return errors.New("SMS_MAX_ATTEMPTS: must be at least 1")
	case c.WebhookMaxAttempts < 1:
		return errors.New("WEBHOOK_MAX_ATTEMPTS: must be at least 1")
	case c.WebhookTimeout <= 0 || c.WebhookTimeout > 30*time.Second:
		return errors.New("WEBHOOK_TIMEOUT: must be more than 0 and at most 30s")
	case c.RetryBase <= 0 || c.RetryMax < c.RetryBase:
		return errors.New("RETRY_BACKOFF_BASE, RETRY_BACKOFF_MAX: the base must be more than 0 and at most the maximum")
	case c.TickBudget <= 0 || c.TickBudget > 25*time.Second:
		return errors.New("TICK_BUDGET: must be more than 0 and at most 25s (within the request timeout)")
	}
	return nil
}

func main() { fn.Main("notify", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	var sc sms.Config
	for _, spec := range []any{&cfg, &sc} {
		if err := rt.Load(spec); err != nil {
			return nil, err
		}
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
	provider, err := sms.New(sc, pool, sealer)
	if err != nil {
		return nil, err
	}
	return newServer(deps{pool: pool, sealer: sealer, sms: provider, signName: sc.SignName, cfg: cfg}), nil
}

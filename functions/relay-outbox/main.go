// Command relay-outbox delivers the platform's events: it moves committed rows of the
// transactional outbox to the event broker (K_SINK) as CloudEvents, marking each sent only
// once the broker acknowledged it, and retrying the others with backoff. A schedule triggers
// it (Knative PingSource, OpenFaaS cron connector: every minute) and so do the functions that
// just committed an event (a nudge), so events leave at once and the schedule catches up
// whatever a nudge missed.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/jinlaiban/openplatform/shared/events/relay"
	"github.com/jinlaiban/openplatform/shared/fn"
)

type config struct {
	// Sink is where events go: on Knative the Broker's address, which the SinkBinding
	// injects; on OpenFaaS notify's address (the README, "Events and notifications").
	Sink string `envconfig:"K_SINK" required:"true"`
	// BatchSize rows are claimed at a time; a run claims batches until nothing is due or
	// RELAY_BUDGET is spent.
	BatchSize   int           `envconfig:"RELAY_BATCH_SIZE" default:"20"`
	Budget      time.Duration `envconfig:"RELAY_BUDGET" default:"20s"`
	SendTimeout time.Duration `envconfig:"RELAY_SEND_TIMEOUT" default:"5s"`
	// After a failed send the next attempt waits RELAY_BACKOFF_BASE, doubling with each
	// further failure, at most RELAY_BACKOFF_MAX.
	BackoffBase time.Duration `envconfig:"RELAY_BACKOFF_BASE" default:"1s"`
	BackoffMax  time.Duration `envconfig:"RELAY_BACKOFF_MAX" default:"10m"`
}

func (c config) check() error {
	u, err := url.Parse(c.Sink)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("K_SINK: invalid value %q (want the broker's http(s) address)", c.Sink)
	case c.BatchSize < 1 || c.BatchSize > 500:
		return errors.New("RELAY_BATCH_SIZE: must be from 1 to 500")
	case c.Budget <= 0 || c.Budget > 25*time.Second:
		return errors.New("RELAY_BUDGET: must be more than 0 and at most 25s (within the request timeout)")
	case c.SendTimeout <= 0 || c.SendTimeout > 30*time.Second:
		return errors.New("RELAY_SEND_TIMEOUT: must be more than 0 and at most 30s")
	case c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return errors.New("RELAY_BACKOFF_BASE, RELAY_BACKOFF_MAX: the base must be more than 0 and at most the maximum")
	}
	return nil
}

func main() { fn.Main("relay-outbox", setup) }

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
	sink, err := relay.NewSinkClient(cfg.Sink, cfg.SendTimeout)
	if err != nil {
		return nil, fmt.Errorf("K_SINK: %w", err)
	}
	return newServer(&relay.Relay{Pool: pool, Sink: sink, BatchSize: cfg.BatchSize, Budget: cfg.Budget,
		SendTimeout: cfg.SendTimeout, BackoffBase: cfg.BackoffBase, BackoffMax: cfg.BackoffMax, Log: rt.Log}), nil
}

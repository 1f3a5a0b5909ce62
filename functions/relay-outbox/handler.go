package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jinlaiban/openplatform/shared/events/relay"
	"github.com/jinlaiban/openplatform/shared/fn"
)

type server struct {
	relay *relay.Relay
	// Background runs (nudges): one at a time; nudges meanwhile ask for one more.
	running atomic.Bool
	again   atomic.Bool
}

func newServer(relay *relay.Relay) http.Handler {
	if relay.Log == nil {
		relay.Log = slog.Default()
	}
	s := &server{relay: relay}
	r := fn.NewRouter()
	r.Handle("POST /{$}", s.trigger)
	return r
}

// trigger runs the relay. The schedule's trigger (a PingSource event, the cron connector's
// POST; the body is ignored) waits for the run and gets its counts; a nudge (Prefer:
// respond-async) is answered 202 at once and the run happens after.
func (s *server) trigger(w http.ResponseWriter, r *http.Request) error {
	if strings.Contains(r.Header.Get("Prefer"), "respond-async") {
		s.kick()
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	// A caller that hangs up does not abort the run half-way.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.bound())
	defer cancel()
	res, err := s.relay.Run(ctx)
	if err != nil {
		return err
	}
	fn.Logger(r.Context()).Info("relayed", "sent", res.Sent, "failed", res.Failed, "gave_up", res.GaveUp, "budget_spent", res.BudgetSpent)
	return fn.JSON(w, http.StatusOK, res)
}

func (s *server) bound() time.Duration { return s.relay.Budget + s.relay.SendTimeout + 5*time.Second }

// kick starts a background run, or asks the one in progress for another pass.
func (s *server) kick() {
	s.again.Store(true)
	if !s.running.CompareAndSwap(false, true) {
		return
	}
	go func() {
		for {
			for s.again.Swap(false) {
				ctx, cancel := context.WithTimeout(context.Background(), s.bound())
				res, err := s.relay.Run(ctx)
				cancel()
				if err != nil {
					s.relay.Log.Warn("relay run failed; the schedule retries", "err", err.Error())
				} else if res.Sent+res.Failed+res.GaveUp > 0 {
					s.relay.Log.Info("relayed", "sent", res.Sent, "failed", res.Failed, "gave_up", res.GaveUp, "budget_spent", res.BudgetSpent)
				}
			}
			s.running.Store(false)
			if !s.again.Load() || !s.running.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

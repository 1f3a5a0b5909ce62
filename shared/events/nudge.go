package events

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Nudger tells another function that there is work, right after a commit, so an event leaves
// the outbox (or a job runs) at once instead of at the next scheduled run. It is fire and
// forget: a nudge that fails is only logged, the schedule catches up. Nudges while one is
// in flight collapse into one more, so a burst of commits costs at most two requests.
type Nudger struct {
	URL     string        // empty: Nudge does nothing
	Timeout time.Duration // per request; default 2s
	Client  *http.Client  // default http.DefaultClient
	busy    atomic.Bool
	again   atomic.Bool
}

// NewNudger returns a Nudger for url (empty disables it).
func NewNudger(url string) *Nudger { return &Nudger{URL: url} }

// Nudge posts to the URL in the background.
func (n *Nudger) Nudge() {
	if n == nil || n.URL == "" {
		return
	}
	n.again.Store(true)
	if !n.busy.CompareAndSwap(false, true) {
		return // the one in flight posts again when done
	}
	go n.loop()
}

func (n *Nudger) loop() {
	for {
		for n.again.Swap(false) {
			n.post()
		}
		n.busy.Store(false)
		// A Nudge between the last Swap and Store saw busy and left it to us.
		if !n.again.Load() || !n.busy.CompareAndSwap(false, true) {
			return
		}
	}
}

func (n *Nudger) post() {
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	client := n.Client
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, nil)
	if err != nil {
		slog.Warn("nudge: bad URL", "err", err.Error())
		return
	}
	// The nudged function answers at once (202) and does the work after: nobody waits here.
	req.Header.Set("Prefer", "respond-async")
	resp, err := client.Do(req)
	if err != nil {
		slog.Warn("nudge failed; the schedule will catch up", "err", err.Error())
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		slog.Warn("nudge refused; the schedule will catch up", "status", resp.StatusCode)
	}
}

package bench

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A Source makes the next request of worker w (0 ≤ w < concurrency), or reports that the
// worker's prepared fixtures (tickets, say) are used up.
type Source func(w int) (*http.Request, bool)

// Sample is one measurement: a closed loop of some workers for a fixed time.
type Sample struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	// Per request, from the database's own counters over the measurement (see README).
	Statements float64         `json:"db_statements_per_request,omitempty"`
	ExecUs     float64         `json:"db_exec_us_per_request,omitempty"` // the statements' executor time
	Statement  []StatementCost `json:"statements,omitempty"`
	// RPS counts successful requests only.
	// Set when a worker ran out of prepared fixtures before the time was up.
	Exhausted bool `json:"exhausted,omitempty"`
	// CPU time per request, by process (see cpu.go).
	CPU      *CPU   `json:"cpu,omitempty"`
	FirstErr string `json:"first_error,omitempty"`
	// For paced runs: the rate asked for.
	TargetRPS float64 `json:"target_rps,omitempty"`
	// Another job kept the machine busy meanwhile, even in the least disturbed of the tries.
	Disturbed bool `json:"disturbed,omitempty"`
}

// sustained says whether a paced run kept (within 5 %) the rate it was asked for.
func (s Sample) sustained() bool { return !s.Exhausted && s.RPS >= 0.95*s.TargetRPS }

func (s Sample) String() string {
	db := ""
	if s.ExecUs > 0 {
		db = fmt.Sprintf("; db exec %.0f µs/req", s.ExecUs)
	}
	errs := fmt.Sprintf("%d errors", s.Errors)
	if s.Errors > 0 {
		errs += fmt.Sprintf(" (first: %s)", truncate(s.FirstErr, 200))
	}
	return fmt.Sprintf("c=%d %.0f req/s p50 %.2f p90 %.2f p99 %.2f ms, %s%s%s", s.Concurrency, s.RPS, s.P50ms, s.P90ms, s.P99ms, errs, db, s.CPU)
}

func (c *CPU) String() string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("; CPU/req µs: function %.0f, client %.0f, postgres %.0f (%.1f CPUs busy, others %.1f)", c.Function, c.Client, c.PostgreSQL, c.Busy, c.Others)
}

// newClient is an HTTP client for the harness's own set-up requests (measurements use a
// loadClient) with c concurrent workers on loopback: one kept-alive
// connection per worker, no compression, a timeout that turns a hang into an error.
func newClient(c int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        c + 8,
			MaxIdleConnsPerHost: c + 8,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
}

type recorder struct {
	lat      []time.Duration
	errors   int
	firstErr string
}

// do sends req on worker w's connection and records its latency (from start) when it got
// the wanted status, or an error. Percentiles are of the successful requests.
func (r *recorder) do(client *loadClient, w int, req *http.Request, want int, start time.Time) {
	status, body, err := client.roundTrip(w, req)
	if err != nil {
		r.fail(err.Error())
		return
	}
	if status != want {
		r.fail(fmt.Sprintf("%d %s", status, truncate(string(body), 300)))
		return
	}
	r.lat = append(r.lat, time.Since(start))
}

func (r *recorder) fail(msg string) {
	r.errors++
	if r.firstErr == "" {
		r.firstErr = msg
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// closedLoop runs c workers, each sending its next request as soon as the previous one is
// answered, for d. Latency is from send to the end of the answer's body.
func closedLoop(ctx context.Context, client *loadClient, c int, d time.Duration, want int, next Source) Sample {
	recs := make([]recorder, c)
	var exhausted atomic.Bool
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &recs[w]
			rec.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				req, ok := next(w)
				if !ok {
					exhausted.Store(true)
					return
				}
				rec.do(client, w, req, want, time.Now())
			}
		}()
	}
	wg.Wait()
	s := summarize(recs, time.Since(start))
	s.Concurrency, s.Exhausted = c, exhausted.Load()
	return s
}

// paced sends requests at a fixed rate for d, spread over c workers, and measures each
// request's latency from the moment it was due, so that time spent waiting for a free
// worker counts (no coordinated omission).
func paced(ctx context.Context, client *loadClient, c int, rate float64, d time.Duration, want int, next Source) Sample {
	total := int(rate * d.Seconds())
	due := make(chan time.Time, total)
	recs := make([]recorder, c)
	var exhausted atomic.Bool
	start := time.Now()
	go func() {
		defer close(due)
		for i := range total {
			t := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if wait := time.Until(t); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return
				}
			}
			due <- t
		}
	}()
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &recs[w]
			for t := range due {
				req, ok := next(w)
				if !ok {
					exhausted.Store(true)
					return
				}
				rec.do(client, w, req, want, t)
			}
		}()
	}
	wg.Wait()
	s := summarize(recs, time.Since(start))
	s.Concurrency, s.Exhausted, s.TargetRPS = c, exhausted.Load(), rate
	return s
}

func summarize(recs []recorder, elapsed time.Duration) Sample {
	var all []time.Duration
	var s Sample
	for _, r := range recs {
		all = append(all, r.lat...)
		s.Errors += r.errors
		if s.FirstErr == "" {
			s.FirstErr = r.firstErr
		}
	}
	slices.Sort(all)
	s.Requests = len(all) + s.Errors
	s.Seconds = elapsed.Seconds()
	if s.Seconds > 0 {
		s.RPS = float64(len(all)) / s.Seconds
	}
	s.P50ms, s.P90ms, s.P99ms = pct(all, 0.50), pct(all, 0.90), pct(all, 0.99)
	if len(all) > 0 {
		s.MaxMs = ms(all[len(all)-1])
	}
	return s
}

// pct is the q-quantile of sorted latencies (nearest rank), in milliseconds.
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return ms(sorted[max(0, min(i, len(sorted)-1))])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Package relay moves committed outbox rows (package events) to the event broker as
// CloudEvents. Only relay-outbox links it, and with it the CloudEvents client; the functions
// that write events link package events alone.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/events"
)

// Relay moves committed outbox rows to the event broker. Each run claims the rows that are
// due (not yet sent, not given up, next attempt reached) in batches with FOR UPDATE SKIP
// LOCKED, so concurrent runs (a schedule and a nudge, two instances) take disjoint rows and
// never send one twice. It sends each as a CloudEvent in binary mode and marks it sent only
// once the broker acknowledged it (2xx); on a retryable failure it counts the attempt,
// records the error and puts the next attempt off (exponential backoff, capped); an event the
// broker can never accept (400 and the other non-retryable 4xx answers of the Knative
// data-plane contract) is given up (dead_at) and stays in the table for an operator. The
// claiming transaction holds the rows' locks while their batch is sent: a relay that dies
// mid-batch loses no row (they become claimable again), at the price of sending the ones
// already acknowledged again, which consumers recognize by source and id.
type Relay struct {
	Pool        *pgxpool.Pool
	Sink        cloudevents.Client // sends to the broker (see NewSinkClient)
	BatchSize   int                // rows per claim
	Budget      time.Duration      // a run stops claiming after this long
	SendTimeout time.Duration      // per event
	BackoffBase time.Duration      // the delay after the first failure, doubled after each further one
	BackoffMax  time.Duration      // the longest delay
	Log         *slog.Logger
}

// Result counts what one run did.
type Result struct {
	Sent        int  `json:"sent"`
	Failed      int  `json:"failed"`       // put off for a retry
	GaveUp      int  `json:"gave_up"`      // refused for good by the broker
	Batches     int  `json:"batches"`      // claims that found rows
	BudgetSpent bool `json:"budget_spent"` // stopped by the budget: rows may still be due
}

// NewSinkClient returns a CloudEvents HTTP client that posts to sink (K_SINK).
func NewSinkClient(sink string, timeout time.Duration) (cloudevents.Client, error) {
	p, err := cloudevents.NewHTTP(cehttp.WithTarget(sink), cehttp.WithClient(http.Client{Timeout: timeout}))
	if err != nil {
		return nil, err
	}
	return cloudevents.NewClient(p)
}

// Run relays until nothing is due or the budget is spent. It returns an error only when the
// database fails; failed sends are counted, not returned.
func (r *Relay) Run(ctx context.Context) (Result, error) {
	var res Result
	deadline := time.Now().Add(r.Budget)
	for {
		if !time.Now().Before(deadline) {
			res.BudgetSpent = true
			return res, nil
		}
		n, err := r.batch(ctx, &res)
		if err != nil || n == 0 {
			return res, err
		}
		res.Batches++
	}
}

const claimSQL = `SELECT id, source, type, subject, data, created_at, attempts FROM outbox
	WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
	ORDER BY next_attempt_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED`

func (r *Relay) batch(ctx context.Context, res *Result) (int, error) {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
	rows, err := tx.Query(ctx, claimSQL, r.BatchSize)
	if err != nil {
		return 0, err
	}
	claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Row, error) {
		var o Row
		err := row.Scan(&o.ID, &o.Source, &o.Type, &o.Subject, &o.Data, &o.CreatedAt, &o.Attempts)
		return o, err
	})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	for _, row := range claimed {
		status, sendErr := r.send(ctx, row)
		switch {
		case sendErr == nil:
			_, err = tx.Exec(ctx, `UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`, row.ID)
			res.Sent++
		case !events.Retryable(status):
			_, err = tx.Exec(ctx, `UPDATE outbox SET dead_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1`,
				row.ID, events.Truncate(sendErr.Error(), 500))
			res.GaveUp++
			r.log().Error("event refused for good by the sink: given up", "event_id", row.ID, "type", row.Type, "status", status,
				"err", events.Truncate(sendErr.Error(), 300))
		default:
			delay := events.Backoff(r.BackoffBase, r.BackoffMax, row.Attempts+1)
			_, err = tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
				next_attempt_at = now() + $3 * interval '1 millisecond' WHERE id = $1`,
				row.ID, events.Truncate(sendErr.Error(), 500), delay.Milliseconds())
			res.Failed++
			r.log().Warn("event not accepted by the sink: retrying later", "event_id", row.ID, "type", row.Type, "status", status,
				"attempts", row.Attempts+1, "retry_in", delay.String(), "err", events.Truncate(sendErr.Error(), 300))
		}
		if err != nil {
			return 0, err
		}
	}
	return len(claimed), tx.Commit(ctx)
}

// send delivers one row and returns the sink's status code (0 when there was no answer).
func (r *Relay) send(ctx context.Context, row Row) (int, error) {
	ev, err := row.CloudEvent()
	if err != nil {
		return http.StatusBadRequest, fmt.Errorf("not a valid CloudEvent: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, r.SendTimeout)
	defer cancel()
	result := r.Sink.Send(cloudevents.WithEncodingBinary(sctx), ev)
	if cloudevents.IsACK(result) {
		return http.StatusAccepted, nil
	}
	var hr *cehttp.Result
	if cloudevents.ResultAs(result, &hr) {
		return hr.StatusCode, result
	}
	if result == nil {
		result = errors.New("no answer")
	}
	return 0, result
}

func (r *Relay) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

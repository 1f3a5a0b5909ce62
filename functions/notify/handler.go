package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sms"
)

// pingType is the type of a PingSource's events: notify's periodic tick on Knative.
const pingType = "dev.knative.sources.ping"

type deps struct {
	pool     *pgxpool.Pool
	sealer   *seal.Sealer
	sms      sms.Provider
	signName string
	cfg      config
}

type server struct {
	deps
	webhooks *http.Client
	// Background ticks (nudges): one at a time; nudges meanwhile ask for one more.
	running atomic.Bool
	again   atomic.Bool
}

func newServer(d deps) http.Handler {
	s := &server{deps: d, webhooks: webhookClient(d.cfg.WebhookTimeout, d.cfg.AllowHTTPLocalhost)}
	r := fn.NewRouter()
	// Events arrive at the root (the Trigger's subscriber, or relay-outbox's K_SINK on
	// OpenFaaS); so does the OpenFaaS cron connector's plain POST, which is a tick.
	r.Handle("POST /{$}", s.receive)
	r.Handle("POST /_/tick", s.tickHandler)
	return r
}

// receive handles one CloudEvent per the Knative data-plane contract: 200 with an empty body
// once handled (or when it was handled before: the event's source and id are recorded with
// its effects), 400 for an event it can never handle (unparsable, an unknown type, data that
// does not match), so the broker does not retry it but dead-letters it, and 503 when the
// database is unreachable, which the broker retries. A POST that is not a CloudEvent at all
// is the OpenFaaS cron connector's tick.
func (s *server) receive(w http.ResponseWriter, r *http.Request) error {
	if !looksLikeCloudEvent(r) {
		return s.tickHandler(w, r)
	}
	ev, err := cehttp.NewEventFromHTTPRequest(r)
	if err != nil {
		return s.refuse(r, "unparsable CloudEvent", err)
	}
	if err := ev.Validate(); err != nil {
		return s.refuse(r, "invalid CloudEvent", err)
	}
	log := fn.Logger(r.Context()).With("event_id", ev.ID(), "event_source", ev.Source(), "event_type", ev.Type())
	if ev.Type() == pingType {
		res, err := s.tick(context.WithoutCancel(r.Context()))
		if err != nil {
			return err
		}
		log.Info("tick", "result", res)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	n, err := noticeFor(*ev)
	if err != nil {
		return s.refuse(r, "event not handled", err)
	}
	jobs, duplicate, err := s.record(r.Context(), *ev, n)
	switch {
	case errors.Is(err, errPoison):
		return s.refuse(r, "event not handled", err)
	case err != nil:
		return err // 503 when the database is down (retryable), 500 otherwise (also retried)
	case duplicate:
		log.Info("event already handled")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	log.Info("vendor notified", "sms_jobs", len(jobs.sms), "webhook_deliveries", len(jobs.webhooks))
	// Send at once; what fails now stays due for the tick.
	s.dispatch(r.Context(), jobs)
	// Empty: a 200 with a body that is not a CloudEvent makes the broker fail the delivery.
	w.WriteHeader(http.StatusOK)
	return nil
}

// refuse answers 400 (never retried: the event goes to the dead-letter sink) and logs why.
func (s *server) refuse(r *http.Request, what string, err error) error {
	fn.Logger(r.Context()).Warn(what+": refused for good (400)", "err", events.Truncate(err.Error(), 300))
	return fn.Errorf(http.StatusBadRequest, "event-refused", strings.ToUpper(what[:1])+what[1:]+": "+events.Truncate(err.Error(), 300))
}

func looksLikeCloudEvent(r *http.Request) bool {
	if r.Header.Get("Ce-Specversion") != "" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.HasPrefix(mt, "application/cloudevents")
}

// created are the jobs one event's transaction wrote.
type created struct {
	sms      []string
	webhooks []string
}

// record writes the event's effects in one transaction with its (source, id): the inbox
// message, the SMS job, one webhook delivery per live endpoint. duplicate is true when the
// event was recorded before (nothing is written). Two deliveries of one event at once: the
// second waits on the first's key and then finds it.
func (s *server) record(ctx context.Context, ev event.Event, n notice) (jobs created, duplicate bool, err error) {
	payload, err := webhookPayload(ev)
	if err != nil {
		return jobs, false, err
	}
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO processed_events (source, id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			ev.Source(), ev.ID(), ev.Type())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			duplicate = true
			return nil
		}
		var role string
		var mobile []byte
		err = tx.QueryRow(ctx, `SELECT role, contact_mobile FROM accounts WHERE id = $1`, n.VendorID).Scan(&role, &mobile)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && role != auth.RoleVendor) {
			return poison("vendor %s does not exist", n.VendorID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO vendor_messages (vendor_id, event_source, event_id, event_type, title, body, link)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, n.VendorID, ev.Source(), ev.ID(), ev.Type(), n.Title, n.Body, n.Link); err != nil {
			return err
		}
		if mobile != nil {
			params, _ := json.Marshal(n.SMS)
			var id string
			if err := tx.QueryRow(ctx, `INSERT INTO sms_jobs (vendor_id, event_source, event_id, template_code, params)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, n.VendorID, ev.Source(), ev.ID(), s.cfg.SMSTemplate, params).Scan(&id); err != nil {
				return err
			}
			jobs.sms = append(jobs.sms, id)
		}
		rows, err := tx.Query(ctx, `INSERT INTO webhook_deliveries (endpoint_id, vendor_id, event_source, event_id, event_type, payload)
			SELECT id, vendor_id, $2, $3, $4, $5 FROM webhook_endpoints WHERE vendor_id = $1 AND deleted_at IS NULL
			RETURNING id`, n.VendorID, ev.Source(), ev.ID(), ev.Type(), payload)
		if err != nil {
			return err
		}
		jobs.webhooks, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return jobs, duplicate, err
}

// webhookPayload is the body every endpoint receives for the event, in the Standard
// Webhooks shape (type, timestamp, data) with the CloudEvent's id, source and subject.
func webhookPayload(ev event.Event) (string, error) {
	b, err := json.Marshal(map[string]any{
		"id": ev.ID(), "type": ev.Type(), "source": ev.Source(), "subject": ev.Subject(),
		"timestamp": ev.Time().UTC().Format(time.RFC3339Nano), "data": json.RawMessage(ev.Data()),
	})
	return string(b), err
}

// dispatch sends the jobs one event made, at once: the SMS, then the webhooks two at a time
// (each job holds a connection while it runs, and the development SMS provider needs one
// more), within a bound; what is not done by then stays due for the tick.
func (s *server) dispatch(ctx context.Context, jobs created) {
	ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.WebhookTimeout+2*time.Second)
	defer cancel()
	for _, id := range jobs.sms {
		s.logJob(ctx, "sms", id)(s.runSMS(ctx, id))
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, 2)
	for _, id := range jobs.webhooks {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			s.logJob(ctx, "webhook", id)(s.runWebhook(ctx, id))
		})
	}
	wg.Wait()
}

func (s *server) logJob(ctx context.Context, kind, id string) func(outcome, error) {
	return func(o outcome, err error) {
		if err != nil {
			fn.Logger(ctx).Warn(kind+" job not run now; the tick retries it", "job_id", id, "err", events.Truncate(err.Error(), 300))
		}
	}
}

// tickResult counts what one tick did.
type tickResult struct {
	SMSSent           int  `json:"sms_sent"`
	SMSFailed         int  `json:"sms_failed"` // attempts that failed (retried later or given up)
	WebhooksDelivered int  `json:"webhooks_delivered"`
	WebhooksFailed    int  `json:"webhooks_failed"`
	BudgetSpent       bool `json:"budget_spent"`
}

// tickHandler runs the tick and answers its counts; a nudge (Prefer: respond-async, as
// notifications sends after a redelivery request) is answered 202 at once and the tick runs
// after. A caller that hangs up does not abort a tick half-way.
func (s *server) tickHandler(w http.ResponseWriter, r *http.Request) error {
	if strings.Contains(r.Header.Get("Prefer"), "respond-async") {
		s.kick()
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	res, err := s.tick(context.WithoutCancel(r.Context()))
	if err != nil {
		return err
	}
	fn.Logger(r.Context()).Info("tick", "result", res)
	return fn.JSON(w, http.StatusOK, res)
}

// tick runs the SMS jobs and webhook deliveries that are due, one at a time, until none is
// left or the budget is spent.
func (s *server) tick(ctx context.Context) (tickResult, error) {
	var res tickResult
	deadline := time.Now().Add(s.cfg.TickBudget)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(s.cfg.WebhookTimeout+time.Second))
	defer cancel()
	for _, kind := range []string{"sms", "webhook"} {
		for {
			if !time.Now().Before(deadline) {
				res.BudgetSpent = true
				return res, nil
			}
			var o outcome
			var err error
			if kind == "sms" {
				o, err = s.runSMS(ctx, "")
			} else {
				o, err = s.runWebhook(ctx, "")
			}
			if err != nil {
				return res, err
			}
			if o == none {
				break
			}
			switch {
			case kind == "sms" && o == done:
				res.SMSSent++
			case kind == "sms":
				res.SMSFailed++
			case o == done:
				res.WebhooksDelivered++
			default:
				res.WebhooksFailed++
			}
		}
	}
	return res, nil
}

// kick starts a background tick, or asks the one in progress for another pass.
func (s *server) kick() {
	s.again.Store(true)
	if !s.running.CompareAndSwap(false, true) {
		return
	}
	go func() {
		for {
			for s.again.Swap(false) {
				if res, err := s.tick(context.Background()); err != nil {
					slog.Warn("tick failed; the schedule retries", "err", err.Error())
				} else {
					slog.Info("tick", "result", res)
				}
			}
			s.running.Store(false)
			if !s.again.Load() || !s.running.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/events/relay"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// broker stands in for the event broker: it accepts CloudEvents in binary mode only, counts
// each id, and answers with status.
type broker struct {
	mu     sync.Mutex
	status int
	perID  map[string]int
	order  []string
}

func newBroker(t *testing.T) (*broker, *httptest.Server) {
	b := &broker{status: http.StatusAccepted, perID: map[string]int{}}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv
}

func (b *broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Ce-Specversion") != "1.0" {
		http.Error(w, "binary mode expected", http.StatusBadRequest)
		return
	}
	ev, err := cehttp.NewEventFromHTTPRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status/100 == 2 {
		b.perID[ev.ID()]++
		b.order = append(b.order, ev.ID())
	}
	w.WriteHeader(b.status)
}

func (b *broker) set(status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = status
}

func (b *broker) sent(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.perID[id]
}

func (b *broker) received() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.order)
}

type harness struct {
	t    *testing.T
	pool *pgxpool.Pool
	srv  *httptest.Server
}

func newHarness(t *testing.T, pool *pgxpool.Pool, sink string) *harness {
	t.Helper()
	if pool == nil {
		pool = testenv.Pool(t)
	}
	c, err := relay.NewSinkClient(sink, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	relay := &relay.Relay{Pool: pool, Sink: c, BatchSize: 5, Budget: 5 * time.Second, SendTimeout: time.Second,
		BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	srv := httptest.NewServer(fn.Wrap(newServer(relay), fn.Options{Name: "relay-outbox", MaxBodyBytes: 64 << 10,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	return &harness{t: t, pool: pool, srv: srv}
}

func (h *harness) write(n int) []string {
	h.t.Helper()
	var ids []string
	for i := range n {
		id, err := events.Write(context.Background(), h.pool, events.Event{Source: events.Source("approve"), Type: events.ServiceLive,
			Subject: fmt.Sprintf("services/%d", i), Data: map[string]int{"i": i}})
		if err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// ping triggers the relay as the PingSource does: a CloudEvent whose body it ignores.
func (h *harness) ping() (int, relay.Result) {
	h.t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(fmt.Sprint(time.Now().UnixNano()))
	ev.SetSource("/apis/v1/namespaces/jinlaiban-open/pingsources/relay-outbox")
	ev.SetType("dev.knative.sources.ping")
	_ = ev.SetData(cloudevents.ApplicationJSON, map[string]string{"note": "relay"})
	req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), h.srv.URL+"/", ev)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var res relay.Result
	_ = json.NewDecoder(resp.Body).Decode(&res)
	return resp.StatusCode, res
}

func (h *harness) post(header http.Header) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (h *harness) unsent() int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The schedule's trigger relays every due row and answers 200 with the counts.
func TestTheScheduleRelaysAndAnswersCounts(t *testing.T) {
	t.Parallel()
	b, sink := newBroker(t)
	h := newHarness(t, nil, sink.URL)
	ids := h.write(12)
	status, res := h.ping()
	if status != http.StatusOK || res.Sent != 12 || res.Failed != 0 {
		t.Fatalf("trigger: %d %+v", status, res)
	}
	for _, id := range ids {
		if n := b.sent(id); n != 1 {
			t.Errorf("event %s sent %d times", id, n)
		}
	}
	if status, res = h.ping(); status != http.StatusOK || res.Sent != 0 {
		t.Fatalf("a second trigger: %d %+v", status, res)
	}
	// The cron connector's plain POST triggers it the same way.
	h.write(1)
	if resp := h.post(nil); resp.StatusCode != http.StatusOK || b.received() != 13 {
		t.Fatalf("plain POST: %d, broker has %d", resp.StatusCode, b.received())
	}
}

// A nudge is answered at once (202); the run follows in the background.
func TestANudgeIsAnsweredAtOnceAndRelays(t *testing.T) {
	t.Parallel()
	b, sink := newBroker(t)
	h := newHarness(t, nil, sink.URL)
	h.write(3)
	if resp := h.post(http.Header{"Prefer": {"respond-async"}}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("nudge answered %d", resp.StatusCode)
	}
	eventually(t, "the nudged run", func() bool { return b.received() == 3 && h.unsent() == 0 })
	// A burst of nudges relays each event once.
	h.write(10)
	for range 10 {
		h.post(http.Header{"Prefer": {"respond-async"}})
	}
	eventually(t, "the burst", func() bool { return h.unsent() == 0 })
	if b.received() != 13 {
		t.Fatalf("broker received %d events, want 13", b.received())
	}
}

// Two relay instances triggered many times at once never send an event twice and leave
// none behind.
func TestConcurrentRelaysNeverDoubleSend(t *testing.T) {
	t.Parallel()
	b, sink := newBroker(t)
	pool := testenv.Pool(t)
	one, two := newHarness(t, pool, sink.URL), newHarness(t, pool, sink.URL)
	ids := one.write(60)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			h := one
			if i%2 == 1 {
				h = two
			}
			if status, _ := h.ping(); status != http.StatusOK {
				t.Errorf("trigger answered %d", status)
			}
		})
	}
	wg.Wait()
	if one.unsent() != 0 {
		t.Fatalf("%d rows left unsent", one.unsent())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		if b.perID[id] != 1 {
			t.Errorf("event %s sent %d times", id, b.perID[id])
		}
	}
}

// With the broker down the rows stay, each attempt counted and put off; once it is back a
// later trigger delivers each once.
func TestBrokerDownThenBack(t *testing.T) {
	t.Parallel()
	b, sink := newBroker(t)
	b.set(http.StatusServiceUnavailable)
	h := newHarness(t, nil, sink.URL)
	ids := h.write(3)
	status, res := h.ping()
	if status != http.StatusOK || res.Failed != 3 || res.Sent != 0 {
		t.Fatalf("trigger with the broker down: %d %+v", status, res)
	}
	var attempts int
	var lastError string
	if err := h.pool.QueryRow(context.Background(), `SELECT min(attempts), min(last_error) FROM outbox WHERE next_attempt_at > now()`).
		Scan(&attempts, &lastError); err != nil || attempts != 1 || !strings.Contains(lastError, "503") {
		t.Fatalf("rows after the failure: attempts %d, error %q, %v", attempts, lastError, err)
	}
	b.set(http.StatusAccepted)
	eventually(t, "delivery once the broker is back", func() bool {
		h.ping()
		return h.unsent() == 0
	})
	for _, id := range ids {
		if n := b.sent(id); n != 1 {
			t.Errorf("event %s sent %d times", id, n)
		}
	}
}

// Only POST on the root triggers; the database being down is a 503.
func TestTriggerAnswers(t *testing.T) {
	t.Parallel()
	_, sink := newBroker(t)
	down, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	h := newHarness(t, down, sink.URL)
	if status, _ := h.ping(); status != http.StatusServiceUnavailable {
		t.Fatalf("trigger with the database down: %d, want 503", status)
	}
	resp, err := http.Get(h.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET / = %d, want 405", resp.StatusCode)
	}
}

func TestSettingsAreChecked(t *testing.T) {
	t.Parallel()
	good := config{Sink: "http://broker-ingress.knative-eventing.svc.cluster.local/jinlaiban-open/default", BatchSize: 20,
		Budget: 20 * time.Second, SendTimeout: 5 * time.Second, BackoffBase: time.Second, BackoffMax: 10 * time.Minute}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	for name, breakIt := range map[string]func(*config){
		"sink not a URL":   func(c *config) { c.Sink = "broker" },
		"sink ftp":         func(c *config) { c.Sink = "ftp://x/y" },
		"batch 0":          func(c *config) { c.BatchSize = 0 },
		"budget too long":  func(c *config) { c.Budget = time.Minute },
		"backoff inverted": func(c *config) { c.BackoffMax = time.Millisecond },
	} {
		c := good
		breakIt(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

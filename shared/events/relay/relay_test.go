package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/events/relay"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// broker is a stand-in for the event broker: it parses what it receives as a CloudEvent,
// records it, and answers with status (202 by default).
type broker struct {
	mu       sync.Mutex
	status   int
	received []received
	perID    map[string]int
}

type received struct {
	id, source, typ, subject, contentType, mode string
	time                                        time.Time
	data                                        []byte
}

func newBroker(t *testing.T) (*broker, *httptest.Server) {
	b := &broker{status: http.StatusAccepted, perID: map[string]int{}}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv
}

func (b *broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := "structured"
	if r.Header.Get("Ce-Specversion") != "" {
		mode = "binary"
	}
	ev, err := cehttp.NewEventFromHTTPRequest(r)
	b.mu.Lock()
	status := b.status
	if err == nil && status/100 == 2 {
		b.received = append(b.received, received{id: ev.ID(), source: ev.Source(), typ: ev.Type(), subject: ev.Subject(),
			contentType: ev.DataContentType(), mode: mode, time: ev.Time(), data: ev.Data()})
		b.perID[ev.ID()]++
	}
	b.mu.Unlock()
	if err != nil {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
}

func (b *broker) set(status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = status
}

func (b *broker) got() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.received...)
}

func newRelay(t *testing.T, pool *pgxpool.Pool, sink string) *relay.Relay {
	t.Helper()
	c, err := relay.NewSinkClient(sink, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return &relay.Relay{Pool: pool, Sink: c, BatchSize: 10, Budget: 10 * time.Second, SendTimeout: 2 * time.Second,
		BackoffBase: time.Second, BackoffMax: time.Minute}
}

// write commits one event the way approve does.
func write(t *testing.T, pool *pgxpool.Pool, typ, subject string, data any) string {
	t.Helper()
	id, err := events.Write(context.Background(), pool, events.Event{Source: events.Source("approve"), Type: typ, Subject: subject, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type outboxState struct {
	sent, dead bool
	attempts   int
	lastError  string
	next       time.Time
}

func state(t *testing.T, pool *pgxpool.Pool, id string) outboxState {
	t.Helper()
	var s outboxState
	var lastErr *string
	err := pool.QueryRow(context.Background(), `SELECT sent_at IS NOT NULL, dead_at IS NOT NULL, attempts, last_error, next_attempt_at
		FROM outbox WHERE id = $1`, id).Scan(&s.sent, &s.dead, &s.attempts, &lastErr, &s.next)
	if err != nil {
		t.Fatal(err)
	}
	if lastErr != nil {
		s.lastError = *lastErr
	}
	return s
}

func TestRowBecomesACloudEvent(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 3, 1, 8, 30, 0, 0, time.FixedZone("CST", 8*3600))
	row := relay.Row{ID: "0b5c1c9e-6f53-4f65-9d38-6c1d1c6d8e01", Source: "/functions/approve", Type: events.ApplicationApproved,
		Subject: "applications/42", Data: []byte(`{"name":"公积金查询"}`), CreatedAt: created}
	ev, err := row.CloudEvent()
	if err != nil {
		t.Fatal(err)
	}
	if ev.SpecVersion() != "1.0" || ev.ID() != row.ID || ev.Source() != row.Source || ev.Type() != row.Type ||
		ev.Subject() != row.Subject || !ev.Time().Equal(created) || ev.DataContentType() != "application/json" ||
		string(ev.Data()) != `{"name":"公积金查询"}` {
		t.Fatalf("event %s", ev)
	}
	if _, err := (relay.Row{ID: "x", Source: "/functions/approve"}).CloudEvent(); err == nil {
		t.Error("a row without a type became a valid CloudEvent")
	}
}

// A run sends every due row once, in binary mode, with the row's attributes, and marks it
// sent; the next run finds nothing to do.
func TestRelaySendsEachRowOnceInBinaryMode(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	b, srv := newBroker(t)
	data := events.ApplicationDecision{ApplicationID: "a1", Name: "公积金查询", VendorID: "v1", Decision: "approved", DecidedAt: "2025-03-01T00:00:00Z"}
	id := write(t, pool, events.ApplicationApproved, "applications/a1", data)
	other := write(t, pool, events.ApplicationRejected, "applications/a2", map[string]string{"reason": "缺材料"})

	res, err := newRelay(t, pool, srv.URL).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 2 || res.Failed != 0 {
		t.Fatalf("run = %+v, want 2 sent", res)
	}
	got := b.got()
	if len(got) != 2 {
		t.Fatalf("broker received %d events", len(got))
	}
	var created time.Time
	_ = pool.QueryRow(context.Background(), `SELECT created_at FROM outbox WHERE id = $1`, id).Scan(&created)
	for _, e := range got {
		if e.id != id {
			continue
		}
		var back events.ApplicationDecision
		if err := json.Unmarshal(e.data, &back); err != nil || back != data {
			t.Errorf("data %s (%v), want %+v", e.data, err, data)
		}
		if e.mode != "binary" || e.source != "/functions/approve" || e.typ != events.ApplicationApproved ||
			e.subject != "applications/a1" || e.contentType != "application/json" || !e.time.Equal(created) {
			t.Errorf("event %+v", e)
		}
	}
	for _, x := range []string{id, other} {
		if s := state(t, pool, x); !s.sent || s.attempts != 1 || s.lastError != "" {
			t.Errorf("row %s after the run: %+v", x, s)
		}
	}
	if res, _ := newRelay(t, pool, srv.URL).Run(context.Background()); res.Sent != 0 || len(b.got()) != 2 {
		t.Fatalf("a second run sent again: %+v", res)
	}
}

// While the broker is down (refusing, or not there at all) rows stay in the outbox, each
// failure counted and the next attempt put off; when it is back the row is delivered once.
func TestBrokerDownKeepsRowsWithBackoffThenDeliversOnce(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	b, srv := newBroker(t)
	b.set(http.StatusServiceUnavailable)
	id := write(t, pool, events.ServiceLive, "services/s1", map[string]string{"name": "x"})
	r := newRelay(t, pool, srv.URL)

	start := time.Now()
	res, err := r.Run(context.Background())
	if err != nil || res.Failed != 1 || res.Sent != 0 {
		t.Fatalf("run against a refusing broker = %+v, %v", res, err)
	}
	s := state(t, pool, id)
	if s.sent || s.dead || s.attempts != 1 || s.lastError == "" || s.next.Before(start.Add(900*time.Millisecond)) {
		t.Fatalf("after one refusal: %+v (want attempts 1, an error, the next attempt ~1s on)", s)
	}
	// Not yet due: a run now leaves it alone.
	if res, _ := r.Run(context.Background()); res.Failed+res.Sent != 0 {
		t.Fatalf("a row not yet due was tried: %+v", res)
	}
	// Due again, still refused: the backoff doubles.
	exec(t, pool, `UPDATE outbox SET next_attempt_at = now() WHERE id = $1`, id)
	before := time.Now()
	_, _ = r.Run(context.Background())
	if s = state(t, pool, id); s.attempts != 2 || s.next.Before(before.Add(1900*time.Millisecond)) {
		t.Fatalf("after a second refusal: %+v (want attempts 2, next ~2s on)", s)
	}
	// No broker at all (connection refused) is the same.
	down := newRelay(t, pool, "http://127.0.0.1:1")
	exec(t, pool, `UPDATE outbox SET next_attempt_at = now() WHERE id = $1`, id)
	if res, _ := down.Run(context.Background()); res.Failed != 1 {
		t.Fatalf("run without a broker = %+v", res)
	}
	if s = state(t, pool, id); s.attempts != 3 || s.sent {
		t.Fatalf("after no answer: %+v", s)
	}
	if len(b.got()) != 0 {
		t.Fatal("a refused event counts as received")
	}

	b.set(http.StatusAccepted)
	exec(t, pool, `UPDATE outbox SET next_attempt_at = now() WHERE id = $1`, id)
	if res, _ := r.Run(context.Background()); res.Sent != 1 {
		t.Fatalf("run after the broker came back = %+v", res)
	}
	if s = state(t, pool, id); !s.sent || s.attempts != 4 {
		t.Fatalf("after delivery: %+v", s)
	}
	_, _ = r.Run(context.Background())
	if n := len(b.got()); n != 1 {
		t.Fatalf("the broker received the event %d times, want once", n)
	}
}

// An event the broker can never accept (400) is given up, not retried for ever; a 404 or 429
// (retryable per the Knative data-plane contract) is retried.
func TestPermanentRefusalGivesUp(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	b, srv := newBroker(t)
	b.set(http.StatusBadRequest)
	id := write(t, pool, events.ServiceOffline, "services/s1", map[string]string{"name": "x"})
	res, err := newRelay(t, pool, srv.URL).Run(context.Background())
	if err != nil || res.GaveUp != 1 {
		t.Fatalf("run = %+v, %v", res, err)
	}
	if s := state(t, pool, id); !s.dead || s.sent || s.lastError == "" {
		t.Fatalf("after a 400: %+v", s)
	}
	exec(t, pool, `UPDATE outbox SET next_attempt_at = now() - interval '1 hour'`)
	if res, _ := newRelay(t, pool, srv.URL).Run(context.Background()); res.GaveUp+res.Failed+res.Sent != 0 {
		t.Fatalf("a given-up row was tried again: %+v", res)
	}
	for _, status := range []int{404, 409, 429, 500, 503} {
		if !events.Retryable(status) {
			t.Errorf("status %d is retryable per the data-plane contract", status)
		}
	}
	for _, status := range []int{400, 401, 403, 413} {
		if events.Retryable(status) {
			t.Errorf("status %d is not retryable per the data-plane contract", status)
		}
	}
}

// Several relays at once (a schedule, nudges, two instances) each claim different rows: every
// event reaches the broker exactly once and none is left behind.
func TestConcurrentRelaysNeverDoubleSendNorLoseARow(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	b, srv := newBroker(t)
	const n = 150
	var ids []string
	for i := range n {
		ids = append(ids, write(t, pool, events.CapabilityGranted, fmt.Sprintf("capabilities/%d", i), map[string]int{"i": i}))
	}
	var wg sync.WaitGroup
	var sent atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRelay(t, pool, srv.URL)
			r.BatchSize = 7
			res, err := r.Run(context.Background())
			if err != nil {
				t.Error(err)
			}
			sent.Add(int64(res.Sent))
		}()
	}
	wg.Wait()
	if sent.Load() != n {
		t.Errorf("the relays reported %d sent, want %d", sent.Load(), n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		if b.perID[id] != 1 {
			t.Errorf("event %s reached the broker %d times", id, b.perID[id])
		}
	}
	var left int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&left)
	if left != 0 {
		t.Errorf("%d rows left unsent", left)
	}
}

// The budget bounds a run: it stops claiming once spent and says so.
func TestRunStopsAtItsBudget(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(30 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(slow.Close)
	for i := range 20 {
		write(t, pool, events.ServiceLive, fmt.Sprintf("services/%d", i), map[string]int{"i": i})
	}
	r := newRelay(t, pool, slow.URL)
	r.BatchSize, r.Budget = 2, 100*time.Millisecond
	res, err := r.Run(context.Background())
	if err != nil || !res.BudgetSpent || res.Sent == 0 || res.Sent >= 20 {
		t.Fatalf("run = %+v, %v: want some sent and the budget spent", res, err)
	}
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	t.Parallel()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := events.Backoff(time.Second, 10*time.Second, i+1); got != w {
			t.Errorf("Backoff after %d failures = %v, want %v", i+1, got, w)
		}
	}
	if got := events.Backoff(time.Second, 10*time.Second, 1000); got != 10*time.Second {
		t.Errorf("Backoff after many failures = %v", got)
	}
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

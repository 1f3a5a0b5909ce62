package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// relayStub stands in for relay-outbox: it counts the nudges it receives.
type relayStub struct {
	mu     sync.Mutex
	nudges int
	prefer []string
	status int
}

func (s *relayStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodPost {
		s.nudges++
		s.prefer = append(s.prefer, r.Header.Get("Prefer"))
	}
	w.WriteHeader(s.status)
}

func (s *relayStub) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nudges
}

// nudgedHarness is an approve server whose RELAY_OUTBOX_URL points at relay.
func nudgedHarness(t *testing.T, relayURL string) *harness {
	t.Helper()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := config{DownloadTTL: time.Minute, RelayOutboxURL: relayURL}
	srv := httptest.NewServer(fn.Wrap(newServer(deps{pool: pool, sealer: sealer, store: testenv.Store(t).Presigner, sessions: &auth.Sessions{Pool: pool},
		cfg: cfg, nudger: events.NewNudger(cfg.RelayOutboxURL)}), fn.Options{Name: "approve", MaxBodyBytes: 64 << 10, Logger: logger}))
	t.Cleanup(srv.Close)
	return &harness{t: t, pool: pool, sealer: sealer, srv: srv, logs: logs}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// After each committed decision approve nudges the relay (asking it to answer at once), so
// the decision's event leaves the outbox without waiting for the relay's schedule; a refused
// decision nudges nobody.
func TestCommittedDecisionsNudgeTheRelay(t *testing.T) {
	t.Parallel()
	relay := &relayStub{status: http.StatusAccepted}
	stub := httptest.NewServer(relay)
	t.Cleanup(stub.Close)
	h := nudgedHarness(t, stub.URL)
	admin, vendor := h.admin("root"), h.vendor("acme")

	a := h.pending(vendor, "公积金查询")
	h.approve(admin, a.ID)
	waitFor(t, "the nudge after an approval", func() bool { return relay.count() >= 1 })

	b := h.pending(vendor, "社保查询")
	h.reject(admin, b.ID, "请补充应用用途说明")
	waitFor(t, "the nudge after a rejection", func() bool { return relay.count() >= 2 })

	// A decision that does not commit (already decided) nudges nobody.
	before := relay.count()
	wantProblem(t, h.post(approvePath(a.ID), admin.Token, nil), http.StatusConflict, "invalid-state")
	time.Sleep(100 * time.Millisecond) // a nudge would have been sent by now; none may come
	if got := relay.count(); got != before {
		t.Fatalf("a refused decision nudged the relay (%d nudges, want %d)", got, before)
	}
	relay.mu.Lock()
	defer relay.mu.Unlock()
	for _, p := range relay.prefer {
		if p != "respond-async" {
			t.Errorf("nudge sent Prefer %q, want respond-async", p)
		}
	}
}

// A relay that is down costs the decision nothing: it is committed and answered, and the
// failed nudge is only logged (the relay's schedule catches up).
func TestADownRelayDoesNotFailTheDecision(t *testing.T) {
	t.Parallel()
	stub := httptest.NewServer(http.NotFoundHandler())
	url := stub.URL
	stub.Close() // nothing listens there any more
	h := nudgedHarness(t, url)
	admin, vendor := h.admin("root"), h.vendor("acme")
	a := h.pending(vendor, "公积金查询")
	if got := h.approve(admin, a.ID); got.Status != "approved" {
		t.Fatalf("approve = %+v", got)
	}
	if n := h.count(`SELECT count(*) FROM outbox WHERE subject = $1`, "applications/"+a.ID); n != 1 {
		t.Fatalf("outbox rows for the decision = %d, want 1", n)
	}
}

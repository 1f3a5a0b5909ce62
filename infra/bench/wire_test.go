package bench

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// The load generator's client keeps one connection per worker, reads whole answers, and
// sends a request again on a new connection when the server had closed the idle one
// before reading it (as a server's idle timeout does between two measurements).
func TestLoadClientReusesItsConnectionAndSurvivesAnIdleClose(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/missing" {
			http.Error(w, "no such thing", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append([]byte(`{"echo":`), append(body, '}')...))
	}))
	srv.Config.IdleTimeout = 100 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c := newLoadClient(1)
	defer c.close()
	post := func() (int, []byte, error) {
		req, _ := http.NewRequest("POST", srv.URL+"/x", bytes.NewReader([]byte(`"hi"`)))
		return c.roundTrip(0, req)
	}
	for i := range 3 {
		status, body, err := post()
		if err != nil || status != http.StatusOK || string(body) != `{"echo":"hi"}` {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for three requests in a row, want 1", n)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/missing", nil)
	if status, body, err := c.roundTrip(0, req); err != nil || status != http.StatusNotFound || !bytes.Contains(body, []byte("no such thing")) {
		t.Errorf("a 404: %d %q %v", status, body, err)
	}
	time.Sleep(300 * time.Millisecond) // the server closes the idle connection
	if status, body, err := post(); err != nil || status != http.StatusOK || string(body) != `{"echo":"hi"}` {
		t.Fatalf("after the server closed the idle connection: %d %q %v", status, body, err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want a second one after the idle close", n)
	}
}

// The CPU meter reads this process's own times from /proc, system time within the total.
func TestProcTimesReadsUserAndSystemTime(t *testing.T) {
	deadline := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(deadline) { // some CPU time to account
	}
	self, system, _, _, ok := procTimes(os.Getpid())
	if !ok || self <= 0 || system < 0 || system > self {
		t.Fatalf("procTimes: self %v, system %v, ok %v", self, system, ok)
	}
	if _, _, _, _, ok := procTimes(-1); ok {
		t.Error("procTimes of no process reported ok")
	}
}

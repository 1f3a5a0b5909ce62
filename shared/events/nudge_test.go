package events_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/events"
)

// A burst of nudges while one is in flight costs one more request, not one each, and the
// last nudge is never lost (a request follows it).
func TestNudgesCollapseButTheLastIsNotLost(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	n := events.NewNudger(srv.URL)
	n.Nudge()
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no nudge arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 20 {
		n.Nudge()
	}
	close(release)
	for calls.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the nudges during the first were lost")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if got := calls.Load(); got != 2 {
		t.Fatalf("%d requests for 21 nudges, want 2", got)
	}
	var nilNudger *events.Nudger
	nilNudger.Nudge() // no URL, no nudger: nothing, no panic
	events.NewNudger("").Nudge()
}

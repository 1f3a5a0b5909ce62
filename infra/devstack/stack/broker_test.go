package stack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/jinlaiban/openplatform/shared/events"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the working directory")
		}
		dir = parent
	}
}

// The real manifests: a Trigger per decision type to notify, and the two PingSources.
func TestLoadEventingReadsTheRealManifests(t *testing.T) {
	ev, err := LoadEventing(filepath.Join(repoRoot(t), "infra", "knative"))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for name, tr := range ev.Triggers {
		if tr.Broker != "default" || tr.Subscriber.Ref == nil || tr.Subscriber.Ref.Name != "notify" || tr.Delivery == nil || tr.Delivery.Retry == nil {
			t.Errorf("Trigger %s: %+v", name, tr)
		}
		types[tr.Filter.Attributes["type"]] = true
	}
	for _, typ := range events.DecisionTypes {
		if !types[typ] {
			t.Errorf("no Trigger for %s", typ)
		}
	}
	if ev.Pings["relay-outbox"].Sink.Ref.Name != "relay-outbox" || ev.Pings["notify-tick"].Sink.Ref.Name != "notify" {
		t.Errorf("PingSources: %+v", ev.Pings)
	}
	if _, ok := ev.Brokers["default"]; !ok {
		t.Error("no Broker default")
	}
}

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT0.5S": 500 * time.Millisecond, "PT1S": time.Second, "PT2M": 2 * time.Minute,
		"PT1H30M": 90 * time.Minute} {
		if got, err := parseISODuration(in); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "PT", "1s", "P1D"} {
		if _, err := parseISODuration(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// subscriber answers each delivery with the next status of its script (the last repeats).
type subscriber struct {
	mu     sync.Mutex
	script []int
	got    []string
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := cehttp.NewEventFromHTTPRequest(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.got = append(s.got, ev.ID())
	status := s.script[0]
	if len(s.script) > 1 {
		s.script = s.script[1:]
	}
	w.WriteHeader(status)
}

func (s *subscriber) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func testBroker(t *testing.T, sub *subscriber, retry int) *Broker {
	t.Helper()
	srv := httptest.NewServer(sub)
	t.Cleanup(srv.Close)
	ev := &Eventing{Brokers: map[string]brokerSpec{"default": {}}, Triggers: map[string]triggerSpec{}}
	tr := triggerSpec{Broker: "default", Delivery: &deliverySpec{Retry: &retry, BackoffPolicy: "exponential", BackoffDelay: "PT1S"}}
	tr.Filter.Attributes = map[string]string{"type": events.ApplicationApproved}
	tr.Subscriber.Ref = &struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
	}{Kind: "Service", Name: "notify"}
	ev.Triggers["notify-application-approved"] = tr
	b, err := newBroker(ev, func(string) (string, bool) { return srv.URL, true }, 0.01, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.stop)
	return b
}

func publish(t *testing.T, b *Broker, typ string) int {
	t.Helper()
	ev := event.New()
	ev.SetID(time.Now().Format(time.RFC3339Nano))
	ev.SetSource("/functions/approve")
	ev.SetType(typ)
	_ = ev.SetData(event.ApplicationJSON, map[string]string{"x": "y"})
	req, _ := cehttp.NewHTTPRequestFromEvent(context.Background(), b.URL, ev)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The broker accepts (202), delivers to the matching Trigger, retries retryable answers,
// and dead-letters after the retries or at once on a 400; it ignores events no Trigger
// matches, and refuses (503) while told to.
func TestBrokerDeliversRetriesAndDeadLetters(t *testing.T) {
	sub := &subscriber{script: []int{503, 500, 200}}
	b := testBroker(t, sub, 3)
	if status := publish(t, b, events.ApplicationApproved); status != http.StatusAccepted {
		t.Fatalf("publish: %d", status)
	}
	waitUntil(t, "delivery after two retries", func() bool { return b.Delivered() == 1 })
	if sub.count() != 3 || len(b.DeadLetters()) != 0 {
		t.Fatalf("%d attempts, %d dead letters", sub.count(), len(b.DeadLetters()))
	}

	publish(t, b, events.ServiceLive) // no Trigger for it
	sub.mu.Lock()
	sub.script = []int{400}
	sub.mu.Unlock()
	publish(t, b, events.ApplicationApproved)
	waitUntil(t, "the poison's dead letter", func() bool { return len(b.DeadLetters()) == 1 })
	if dl := b.DeadLetters()[0]; dl.Status != 400 || dl.Trigger != "notify-application-approved" || sub.count() != 4 {
		t.Fatalf("dead letter %+v after %d attempts (a 400 is not retried)", dl, sub.count())
	}

	sub.mu.Lock()
	sub.script = []int{503}
	sub.mu.Unlock()
	publish(t, b, events.ApplicationApproved)
	waitUntil(t, "the retries to run out", func() bool { return len(b.DeadLetters()) == 2 })
	if sub.count() != 8 {
		t.Fatalf("%d attempts in all, want 4 + 1 + 3 retries", sub.count())
	}

	b.Refuse(0)
	if status := publish(t, b, events.ApplicationApproved); status != http.StatusServiceUnavailable {
		t.Fatalf("publish while refusing: %d", status)
	}
	b.Accept()
	b.Refuse(50 * time.Millisecond)
	waitUntil(t, "the refusal to end", func() bool { return !b.Refusing() })
	if status := publish(t, b, events.ApplicationApproved); status != http.StatusAccepted {
		t.Fatalf("publish after the refusal: %d", status)
	}
}

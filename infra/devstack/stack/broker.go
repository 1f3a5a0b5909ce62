package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.yaml.in/yaml/v3"

	"github.com/jinlaiban/openplatform/shared/events"
)

// The development stack plays Knative Eventing's Broker and PingSources by the real
// manifests in infra/knative: it reads every Trigger, Broker and PingSource there (small
// structs of the fields it needs, not Knative's packages), serves a broker endpoint that
// relay-outbox uses as K_SINK, and delivers each event it accepts to every Trigger whose
// filter matches, with the Trigger's (or Broker's) retries and backoff, and to its
// dead-letter store when those run out or the subscriber refuses it for good.

// ---- the manifests ------------------------------------------------------------------------

type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec yaml.Node `yaml:"spec"`
}

type destination struct {
	Ref *struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
	} `yaml:"ref"`
	URI string `yaml:"uri"`
}

type deliverySpec struct {
	Retry          *int         `yaml:"retry"`
	BackoffPolicy  string       `yaml:"backoffPolicy"`
	BackoffDelay   string       `yaml:"backoffDelay"`
	DeadLetterSink *destination `yaml:"deadLetterSink"`
}

type triggerSpec struct {
	Broker string `yaml:"broker"`
	Filter struct {
		Attributes map[string]string `yaml:"attributes"`
	} `yaml:"filter"`
	Subscriber destination   `yaml:"subscriber"`
	Delivery   *deliverySpec `yaml:"delivery"`
}

type brokerSpec struct {
	Delivery *deliverySpec `yaml:"delivery"`
}

type pingSpec struct {
	Schedule    string      `yaml:"schedule"`
	ContentType string      `yaml:"contentType"`
	Data        string      `yaml:"data"`
	Sink        destination `yaml:"sink"`
}

// Eventing is what the manifests say about event delivery.
type Eventing struct {
	Brokers  map[string]brokerSpec
	Triggers map[string]triggerSpec
	Pings    map[string]pingSpec
}

// LoadEventing reads the Brokers, Triggers and PingSources of every YAML file under dir.
func LoadEventing(dir string) (*Eventing, error) {
	e := &Eventing{Brokers: map[string]brokerSpec{}, Triggers: map[string]triggerSpec{}, Pings: map[string]pingSpec{}}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := yaml.NewDecoder(f)
		for {
			var m manifest
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			var derr error
			switch {
			case m.Kind == "Broker" && strings.HasPrefix(m.APIVersion, "eventing.knative.dev/"):
				var s brokerSpec
				derr = m.Spec.Decode(&s)
				e.Brokers[m.Metadata.Name] = s
			case m.Kind == "Trigger" && strings.HasPrefix(m.APIVersion, "eventing.knative.dev/"):
				var s triggerSpec
				derr = m.Spec.Decode(&s)
				e.Triggers[m.Metadata.Name] = s
			case m.Kind == "PingSource" && strings.HasPrefix(m.APIVersion, "sources.knative.dev/"):
				var s pingSpec
				derr = m.Spec.Decode(&s)
				e.Pings[m.Metadata.Name] = s
			}
			if derr != nil {
				return fmt.Errorf("%s: %s %s: %w", path, m.Kind, m.Metadata.Name, derr)
			}
		}
	})
	return e, err
}

var isoDuration = regexp.MustCompile(`^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$`)

// parseISODuration reads the ISO 8601 durations Knative's delivery specs use (PT0.5S, PT1M).
func parseISODuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "PT" {
		return 0, fmt.Errorf("unsupported duration %q", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			f, _ := strconv.ParseFloat(m[i+1], 64)
			d += time.Duration(f * float64(unit))
		}
	}
	return d, nil
}

// ---- the broker ---------------------------------------------------------------------------

// DeadLetter is an event the broker gave up delivering to a Trigger's subscriber.
type DeadLetter struct {
	Event   event.Event
	Trigger string
	Status  int    // the subscriber's last answer (0: none)
	Error   string // why
	At      time.Time
}

type route struct {
	name       string
	filter     map[string]string
	subscriber string // a function's name
	retry      int
	linear     bool
	delay      time.Duration
}

// Broker is the development stack's event broker.
type Broker struct {
	URL          string
	routes       []route
	resolve      func(function string) (string, bool)
	backoffScale float64
	log          func(format string, args ...any)
	client       *http.Client
	srv          *http.Server
	ctx          context.Context
	cancel       context.CancelFunc
	inflight     sync.WaitGroup

	mu          sync.Mutex
	refuseUntil time.Time
	refusing    bool
	dead        []DeadLetter
	delivered   int
}

// newBroker builds the broker for the manifests' Triggers on Broker "default". resolve gives
// a function's address; backoffScale multiplies every backoff delay (tests shrink them).
func newBroker(ev *Eventing, resolve func(string) (string, bool), backoffScale float64, logf func(string, ...any)) (*Broker, error) {
	if backoffScale <= 0 {
		backoffScale = 1
	}
	b := &Broker{resolve: resolve, backoffScale: backoffScale, log: logf, client: &http.Client{Timeout: 30 * time.Second}}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	names := make([]string, 0, len(ev.Triggers))
	for n := range ev.Triggers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tr := ev.Triggers[n]
		br, ok := ev.Brokers[tr.Broker]
		if !ok {
			return nil, fmt.Errorf("Trigger %s: Broker %q is not defined in infra/knative", n, tr.Broker)
		}
		d := br.Delivery
		if tr.Delivery != nil {
			d = tr.Delivery
		}
		r := route{name: n, filter: tr.Filter.Attributes}
		if tr.Subscriber.Ref == nil || tr.Subscriber.Ref.Kind != "Service" {
			return nil, fmt.Errorf("Trigger %s: only a Knative Service subscriber is supported here", n)
		}
		r.subscriber = tr.Subscriber.Ref.Name
		if d != nil {
			if d.Retry != nil {
				r.retry = *d.Retry
			}
			r.linear = d.BackoffPolicy == "linear"
			if d.BackoffDelay != "" {
				var err error
				if r.delay, err = parseISODuration(d.BackoffDelay); err != nil {
					return nil, fmt.Errorf("Trigger %s: backoffDelay: %w", n, err)
				}
			}
		}
		b.routes = append(b.routes, r)
	}
	return b, nil
}

func (b *Broker) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	b.URL = "http://" + ln.Addr().String() + "/jinlaiban-open/default"
	return nil
}

func (b *Broker) stop() {
	b.cancel()
	if b.srv != nil {
		_ = b.srv.Close()
	}
	b.inflight.Wait()
}

// ServeHTTP is the broker's ingress: 202 once the event is queued for every matching
// Trigger, 400 for what is not a CloudEvent, 503 while refusing.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a CloudEvent", http.StatusMethodNotAllowed)
		return
	}
	if b.Refusing() {
		http.Error(w, "the broker is refusing events (test)", http.StatusServiceUnavailable)
		return
	}
	ev, err := cehttp.NewEventFromHTTPRequest(r)
	if err == nil {
		err = ev.Validate()
	}
	if err != nil {
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	for _, rt := range b.routes {
		if matches(*ev, rt.filter) {
			b.inflight.Add(1)
			go b.deliver(rt, ev.Clone())
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// matches: every filter attribute equals the event's (exact match, as Knative's filter).
func matches(ev event.Event, filter map[string]string) bool {
	for k, want := range filter {
		var got string
		switch k {
		case "type":
			got = ev.Type()
		case "source":
			got = ev.Source()
		case "subject":
			got = ev.Subject()
		case "id":
			got = ev.ID()
		case "specversion":
			got = ev.SpecVersion()
		case "datacontenttype":
			got = ev.DataContentType()
		default:
			v, ok := ev.Extensions()[k]
			if !ok {
				return false
			}
			got = fmt.Sprint(v)
		}
		if want != "" && got != want {
			return false
		}
	}
	return true
}

// deliver tries the subscriber 1 + retry times, waiting the backoff between attempts (not
// after a non-retryable answer), then dead-letters the event.
func (b *Broker) deliver(rt route, ev event.Event) {
	defer b.inflight.Done()
	var status int
	var lastErr error
	for attempt := 0; attempt <= rt.retry; attempt++ {
		if attempt > 0 {
			wait := rt.delay * time.Duration(1<<(attempt-1))
			if rt.linear {
				wait = rt.delay * time.Duration(attempt)
			}
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(time.Duration(float64(wait) * b.backoffScale)):
			}
		}
		status, lastErr = b.send(rt, ev)
		if lastErr == nil {
			b.mu.Lock()
			b.delivered++
			b.mu.Unlock()
			return
		}
		if status != 0 && !events.Retryable(status) {
			break
		}
	}
	if b.ctx.Err() != nil {
		return
	}
	dl := DeadLetter{Event: ev, Trigger: rt.name, Status: status, Error: lastErr.Error(), At: time.Now()}
	b.mu.Lock()
	b.dead = append(b.dead, dl)
	b.mu.Unlock()
	b.log("broker: dead letter: event %s (type %s, source %s) for Trigger %s: %s", ev.ID(), ev.Type(), ev.Source(), rt.name, dl.Error)
}

func (b *Broker) send(rt route, ev event.Event) (int, error) {
	base, ok := b.resolve(rt.subscriber)
	if !ok {
		return 0, fmt.Errorf("no function %s", rt.subscriber)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	req, err := cehttp.NewHTTPRequestFromEvent(ctx, base+"/", ev)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Prefer", "reply")
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s answered %d: %s", rt.subscriber, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if resp.StatusCode == http.StatusOK && len(body) > 0 && resp.Header.Get("Ce-Specversion") == "" &&
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/cloudevents") {
		// Knative's broker fails such a delivery: a reply must be empty or a CloudEvent.
		return http.StatusBadGateway, fmt.Errorf("%s answered 200 with a body that is not a CloudEvent", rt.subscriber)
	}
	return resp.StatusCode, nil
}

// Refuse makes the broker answer 503 to every event until Accept (or until d passed, when
// d > 0).
func (b *Broker) Refuse(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refusing = d <= 0
	b.refuseUntil = time.Now().Add(d)
}

// Accept ends a Refuse.
func (b *Broker) Accept() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refusing, b.refuseUntil = false, time.Time{}
}

// Refusing reports whether the broker refuses events now.
func (b *Broker) Refusing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refusing || time.Now().Before(b.refuseUntil)
}

// DeadLetters returns the events the broker gave up on so far.
func (b *Broker) DeadLetters() []DeadLetter {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]DeadLetter(nil), b.dead...)
}

// Delivered counts the deliveries subscribers acknowledged.
func (b *Broker) Delivered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delivered
}

// ---- the stack ----------------------------------------------------------------------------

// startEvents starts the broker (before the functions: relay-outbox needs its address).
func (s *Stack) startEvents() error {
	ev, err := LoadEventing(filepath.Join(s.opts.Root, "infra", "knative"))
	if err != nil {
		return fmt.Errorf("eventing manifests: %w", err)
	}
	s.eventing = ev
	s.Broker, err = newBroker(ev, s.functionURL, s.opts.BrokerBackoffScale, s.say)
	if err != nil {
		return err
	}
	return s.Broker.start()
}

func (s *Stack) functionURL(name string) (string, bool) {
	f, ok := s.Functions[name]
	if !ok {
		return "", false
	}
	return f.URL, true
}

// eventEnv is the wiring Knative or OpenFaaS gives a function in a cluster, here: relay-outbox
// posts to the broker, approve nudges relay-outbox, notifications nudges notify; and the
// development values of notify's and relay-outbox's settings (short backoffs, a made-up
// SMS template for the development provider).
func (s *Stack) eventEnv(name string) []string {
	url := func(fn string) string {
		if u, ok := s.functionURL(fn); ok {
			return u
		}
		return ""
	}
	switch name {
	case "relay-outbox":
		return []string{"K_SINK=" + s.Broker.URL, "RELAY_BACKOFF_BASE=500ms", "RELAY_BACKOFF_MAX=3s"}
	case "approve":
		return []string{"RELAY_OUTBOX_URL=" + url("relay-outbox")}
	case "notifications":
		return []string{"NOTIFY_URL=" + url("notify")}
	case "notify":
		return []string{"NOTIFY_SMS_TEMPLATE=" + DevNotifyTemplate, "RETRY_BACKOFF_BASE=2s", "RETRY_BACKOFF_MAX=30s"}
	}
	return nil
}

// DevNotifyTemplate is the SMS template code notify uses in the development stack.
const DevNotifyTemplate = "SMS_DEV_NOTIFY"

func (s *Stack) stopEvents() {
	if s.Scheduler != nil {
		s.Scheduler.stop()
	}
	if s.Broker != nil {
		s.Broker.stop()
	}
}

// StopFunction stops one function's process (draining it), as a crash or a scale-down would.
func (s *Stack) StopFunction(name string) error {
	f, ok := s.Functions[name]
	if !ok {
		return fmt.Errorf("no function %s", name)
	}
	f.stop()
	return nil
}

// StartFunction starts a stopped function again on its address and waits until it is ready.
func (s *Stack) StartFunction(ctx context.Context, name string) error {
	f, ok := s.Functions[name]
	if !ok {
		return fmt.Errorf("no function %s", name)
	}
	if f.cmd != nil && !f.Exited() {
		return fmt.Errorf("%s is running", name)
	}
	if err := f.start(); err != nil {
		return err
	}
	return waitReady(ctx, f)
}

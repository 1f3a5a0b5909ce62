package stack

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
)

// Scheduler plays the manifests' PingSources: each fires a dev.knative.sources.ping event at
// its sink on a ticker. Every schedule is taken as "every interval" (the platform's are all
// "* * * * *": one minute); Options.PingInterval shortens it for tests.
type Scheduler struct {
	interval time.Duration
	pings    map[string]pingSpec
	resolve  func(string) (string, bool)
	log      func(string, ...any)
	client   *http.Client
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu    sync.Mutex
	fired map[string]int
}

func newScheduler(pings map[string]pingSpec, interval time.Duration, resolve func(string) (string, bool), logf func(string, ...any)) *Scheduler {
	if interval <= 0 {
		interval = time.Minute
	}
	sc := &Scheduler{interval: interval, pings: pings, resolve: resolve, log: logf, client: &http.Client{Timeout: 30 * time.Second},
		fired: map[string]int{}}
	sc.ctx, sc.cancel = context.WithCancel(context.Background())
	return sc
}

func (sc *Scheduler) start() {
	names := make([]string, 0, len(sc.pings))
	for n := range sc.pings {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if sc.pings[n].Schedule != "* * * * *" {
			sc.log("scheduler: PingSource %s: schedule %q taken as every %s", n, sc.pings[n].Schedule, sc.interval)
		}
		sc.wg.Add(1)
		go func() {
			defer sc.wg.Done()
			t := time.NewTicker(sc.interval)
			defer t.Stop()
			for {
				select {
				case <-sc.ctx.Done():
					return
				case <-t.C:
					if err := sc.Fire(n); err != nil {
						sc.log("scheduler: PingSource %s: %v", n, err)
					}
				}
			}
		}()
	}
}

func (sc *Scheduler) stop() {
	sc.cancel()
	sc.wg.Wait()
}

// Fire sends the PingSource's event now and waits for the answer.
func (sc *Scheduler) Fire(name string) error {
	p, ok := sc.pings[name]
	if !ok {
		return fmt.Errorf("no PingSource %s", name)
	}
	if p.Sink.Ref == nil {
		return fmt.Errorf("PingSource %s: only a ref sink is supported here", name)
	}
	base, ok := sc.resolve(p.Sink.Ref.Name)
	if !ok {
		return fmt.Errorf("PingSource %s: no function %s", name, p.Sink.Ref.Name)
	}
	ev := event.New()
	ev.SetID(uuid.NewString())
	ev.SetSource("/apis/v1/namespaces/jinlaiban-open/pingsources/" + name)
	ev.SetType("dev.knative.sources.ping")
	ev.SetTime(time.Now())
	ct := p.ContentType
	if ct == "" {
		ct = event.TextPlain
	}
	if err := ev.SetData(ct, []byte(p.Data)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(sc.ctx, 30*time.Second)
	defer cancel()
	req, err := cehttp.NewHTTPRequestFromEvent(ctx, base+"/", ev)
	if err != nil {
		return err
	}
	resp, err := sc.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	sc.mu.Lock()
	sc.fired[name]++
	sc.mu.Unlock()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %d", p.Sink.Ref.Name, resp.StatusCode)
	}
	return nil
}

// Fired counts the pings sent to a PingSource's sink so far.
func (sc *Scheduler) Fired(name string) int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.fired[name]
}

// startScheduler starts the PingSources once the functions are ready.
func (s *Stack) startScheduler() {
	if s.opts.PingInterval < 0 {
		return
	}
	s.Scheduler = newScheduler(s.eventing.Pings, s.opts.PingInterval, s.functionURL, s.say)
	s.Scheduler.start()
}

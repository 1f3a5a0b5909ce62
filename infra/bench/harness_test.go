package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHarnessTiny runs the whole harness once at a tiny size, so `make test` proves that
// `make bench` works without spending its minutes: a small directory, one level, a second
// per measurement, three cold starts of one function, no micro-benchmarks or profiles.
func TestHarnessTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the platform")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	out := t.TempDir()
	r, err := Run(context.Background(), Config{Root: root, Out: out, Duration: time.Second, Warmup: 200 * time.Millisecond,
		Levels: []int{2}, Citizens: 3000, Apps: 12, Pairs: 250, ColdStartRuns: 3, ColdStartOnly: []string{"user-info"},
		TraceRequests: 12, NoMicro: true, NoProfiles: true, StackBuilds: true, Log: &log})
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ops) != len(operations()) {
		t.Fatalf("%d operations measured, want %d", len(r.Ops), len(operations()))
	}
	for _, o := range r.Ops {
		d, g, c := o.bestDirect(), o.bestGateway(), o.bestCeiling()
		if d.RPS <= 0 || g.RPS <= 0 || c.TPS <= 0 {
			t.Errorf("%s: direct %.0f req/s, gateway %.0f req/s, pgbench %.0f tps; want all measured", o.Name, d.RPS, g.RPS, c.TPS)
		}
		for _, s := range append(o.Direct, o.Gateway...) {
			if s.Errors > 0 || s.Exhausted {
				t.Errorf("%s: %d errors (first: %s), exhausted %v", o.Name, s.Errors, s.FirstErr, s.Exhausted)
			}
		}
		for _, c := range o.Ceiling {
			if c.Aborted || c.Failed > 0 {
				t.Errorf("%s: pgbench aborted or failed: %+v", o.Name, c)
			}
		}
		if d.Statements < 3 || o.TraceStatements < 3 || o.ScriptStatements < 3 {
			t.Errorf("%s: %.1f statements per request under load, %.1f traced, %.1f in the script; want the verifier's and the operation's",
				o.Name, d.Statements, o.TraceStatements, o.ScriptStatements)
		}
		for _, cpu := range []*CPU{d.CPU, c.CPU} {
			if cpu == nil || cpu.PostgreSQL <= 0 || cpu.PostgreSQLKernel < 0 || cpu.PostgreSQLKernel > cpu.PostgreSQL || cpu.Client <= 0 {
				t.Errorf("%s: CPU per request not accounted: %+v", o.Name, cpu)
			}
		}
		if d.CPU != nil && d.CPU.Function <= 0 {
			t.Errorf("%s: no CPU of the function: %+v", o.Name, d.CPU)
		}
		if o.HalfPeak == nil || o.HalfPeak.P50ms <= 0 {
			t.Errorf("%s: no latency at half of peak", o.Name)
		}
		if _, err := os.Stat(o.Script); err != nil {
			t.Errorf("%s: the ceiling script was not kept: %v", o.Name, err)
		}
	}
	if best(r.HTTPCeiling).RPS <= 0 {
		t.Error("no HTTP ceiling")
	}
	if len(r.StartUps) != 1 || r.StartUps[0].HealthMs <= 0 || r.StartUps[0].ReadyMs < r.StartUps[0].HealthMs || r.StartUps[0].IdleRSSKiB <= 0 ||
		r.Minimal.HealthMs <= 0 || r.Minimal.IdleRSSKiB <= 0 || r.DBConnectMs <= 0 || r.DBConnectColdMs <= 0 {
		t.Errorf("start-ups not measured: %+v, minimal %+v, connect %.2f ms", r.StartUps, r.Minimal, r.DBConnectMs)
	}
	kinds := map[string]bool{}
	for _, tg := range r.Targets {
		kinds[tg.Kind] = true
	}
	for _, k := range []string{"throughput", "latency", "start", "ready", "memory"} {
		if !kinds[k] {
			t.Errorf("no %s target evaluated: %+v", k, r.Targets)
		}
	}
	loaded, err := Load(r.Files.JSON)
	if err != nil || len(loaded.Ops) != len(r.Ops) {
		t.Fatalf("the JSON does not read back: %v", err)
	}
	svg, err := os.ReadFile(r.Files.Chart)
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) || bytes.Count(svg, []byte("<path")) < 3*len(r.Ops) {
		t.Errorf("chart: %v, %.80q", err, svg)
	}
	var cmp bytes.Buffer
	Compare(loaded, r, &cmp)
	if !strings.Contains(cmp.String(), "sso-exchange best req/s") {
		t.Errorf("compare printed:\n%s", cmp.String())
	}
	if !strings.Contains(log.String(), "targets met") {
		t.Error("no table printed")
	}
}

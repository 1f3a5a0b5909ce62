package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a run's results; the JSON file is this, for cmd/compare.
type Report struct {
	Version         int        `json:"version"`
	Stamp           string     `json:"stamp"`
	Date            time.Time  `json:"date"`
	Machine         Machine    `json:"machine"`
	Settings        Settings   `json:"settings"`
	Ops             []OpResult `json:"operations"`
	HTTPCeiling     []Sample   `json:"http_ceiling"`
	Minimal         StartUp    `json:"minimal_server"`
	DBConnectMs     float64    `json:"db_connect_ms"`      // from the harness's warm process
	DBConnectColdMs float64    `json:"db_connect_cold_ms"` // from a fresh process: the /_/ready target's "one connection"
	StartUps        []StartUp  `json:"startups"`
	Micro           []Micro    `json:"micro"`
	Targets         []Target   `json:"targets"`
	Profiles        []Profile  `json:"profiles,omitempty"`
	Files           Files      `json:"files"`
	afterLoad       []StartUp
}

// Machine is where the run ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPU        string `json:"cpu"`
	MemoryGiB  int    `json:"memory_gib"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	PostgreSQL string `json:"postgresql"`
}

// Settings are the run's parameters.
type Settings struct {
	Duration string            `json:"duration"`
	Warmup   string            `json:"warmup"`
	Levels   []int             `json:"levels"`
	Citizens int               `json:"citizens"`
	Apps     int               `json:"applications"`
	Pairs    int               `json:"signed_in_per_application"`
	Env      map[string]string `json:"function_env_overrides"`
	Database string            `json:"database"`
}

// OpResult is one operation at every level.
type OpResult struct {
	Name             string    `json:"name"`
	Function         string    `json:"function"`
	Direct           []Sample  `json:"direct"`
	Gateway          []Sample  `json:"gateway,omitempty"`
	Ceiling          []Ceiling `json:"pgbench"`
	HalfPeak         *Sample   `json:"half_peak,omitempty"`
	TraceStatements  float64   `json:"traced_statements_per_request"`
	ScriptStatements float64   `json:"script_statements_per_transaction"`
	Statements       []string  `json:"statements"`
	Script           string    `json:"script"`
}

func (o OpResult) bestDirect() Sample  { return best(o.Direct) }
func (o OpResult) bestGateway() Sample { return best(o.Gateway) }

func best(xs []Sample) Sample {
	var b Sample
	for _, s := range xs {
		if s.RPS > b.RPS {
			b = s
		}
	}
	return b
}

func (o OpResult) bestCeiling() Ceiling {
	var b Ceiling
	for _, c := range o.Ceiling {
		if c.TPS > b.TPS {
			b = c
		}
	}
	return b
}

// Ratio is the best direct throughput over the best pgbench throughput.
func (o OpResult) Ratio() float64 {
	if c := o.bestCeiling(); c.TPS > 0 {
		return o.bestDirect().RPS / c.TPS
	}
	return 0
}

// Micro is one Go micro-benchmark.
type Micro struct {
	Package  string  `json:"package"`
	Name     string  `json:"name"`
	NsOp     float64 `json:"ns_op"`
	BytesOp  float64 `json:"bytes_op"`
	AllocsOp float64 `json:"allocs_op"`
}

// Target is one of the quality bar's performance targets, met or missed.
type Target struct {
	Name    string  `json:"name"`
	Subject string  `json:"subject"`
	Kind    string  `json:"kind"` // throughput, latency, start, ready, memory
	Want    string  `json:"want"`
	Got     string  `json:"got"`
	Value   float64 `json:"value"`
	Limit   float64 `json:"limit"`
	Pass    bool    `json:"pass"`
}

// Files are where the run's outputs are.
type Files struct {
	JSON  string `json:"json"`
	Chart string `json:"chart"`
	Dir   string `json:"dir"`
}

func newReport(cfg Config, stamp string) *Report {
	r := &Report{Version: 1, Stamp: stamp, Date: time.Now(), Settings: Settings{Duration: cfg.Duration.String(), Warmup: cfg.Warmup.String(),
		Levels: cfg.Levels, Citizens: cfg.Citizens, Apps: cfg.Apps, Pairs: cfg.Pairs, Env: envOverrides(cfg.Levels),
		Database: "throwaway cluster on this machine: fsync=off, synchronous_commit=off, full_page_writes=off; pg_stat_statements loaded"}}
	for k, v := range cfg.Env {
		r.Settings.Env[k] = v
	}
	r.Machine = Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				r.Machine.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int
		fmt.Sscanf(strings.TrimPrefix(strings.Split(string(b), "\n")[0], "MemTotal:"), "%d", &kib)
		r.Machine.MemoryGiB = (kib + 1<<19) >> 20
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		r.Machine.Kernel = strings.TrimSpace(string(b))
	}
	return r
}

// The quality bar's limits (/work/shared/design/QUALITY.md, "Performance").
var throughputTargets = map[string]float64{"sso-exchange": 0.50, "user-info": 0.60}

const (
	latencyRatioLimit = 4.0 // p99 ≤ 4 × p50 at half of peak
	startLimit        = 2.0 // start within 2 × the minimal server's
	memoryLimit       = 2.0 // idle RSS within 2 × the minimal server's
)

func (r *Report) evaluate() {
	r.Targets = nil
	for _, o := range r.Ops {
		if limit, ok := throughputTargets[o.Name]; ok {
			b, c := o.bestDirect(), o.bestCeiling()
			v := o.Ratio()
			r.Targets = append(r.Targets, Target{Name: o.Name + " throughput", Subject: o.Name, Kind: "throughput",
				Want: fmt.Sprintf("≥ %.0f %% of pgbench", limit*100), Value: v, Limit: limit, Pass: v >= limit,
				Got: fmt.Sprintf("%.0f %% (%.0f req/s at c=%d vs %.0f tps at c=%d)", v*100, b.RPS, b.Concurrency, c.TPS, c.Clients)})
		}
		if hp := o.HalfPeak; hp != nil && hp.P50ms > 0 {
			v := hp.P99ms / hp.P50ms
			got := fmt.Sprintf("%.1f (p50 %.2f ms, p99 %.2f ms at %.0f req/s, %d errors)", v, hp.P50ms, hp.P99ms, hp.TargetRPS, hp.Errors)
			if !hp.sustained() {
				got = fmt.Sprintf("rate not sustained: %.0f of %.0f req/s (p50 %.2f ms, p99 %.2f ms)", hp.RPS, hp.TargetRPS, hp.P50ms, hp.P99ms)
			}
			r.Targets = append(r.Targets, Target{Name: o.Name + " p99/p50 at half of peak", Subject: o.Name, Kind: "latency",
				Want: fmt.Sprintf("≤ %.0f", latencyRatioLimit), Value: v, Limit: latencyRatioLimit,
				Pass: v <= latencyRatioLimit && hp.Errors == 0 && hp.sustained(), Got: got + disturbedNote(hp.Disturbed)})
		}
	}
	m := r.Minimal
	if m.HealthMs <= 0 || m.IdleRSSKiB <= 0 {
		return
	}
	connect := r.DBConnectColdMs
	if connect == 0 {
		connect = r.DBConnectMs
	}
	readyLimit := startLimit*m.HealthMs + connect
	for _, s := range r.StartUps {
		if s.Error != "" {
			r.Targets = append(r.Targets, Target{Name: s.Name + " start", Subject: s.Name, Kind: "start", Got: s.Error})
			continue
		}
		v := s.HealthMs / m.HealthMs
		r.Targets = append(r.Targets, Target{Name: s.Name + " start", Subject: s.Name, Kind: "start",
			Want: fmt.Sprintf("≤ %.0f × minimal (%.1f ms)", startLimit, startLimit*m.HealthMs), Value: v, Limit: startLimit, Pass: v <= startLimit,
			Got: fmt.Sprintf("%.1f ms (%.1f ×)", s.HealthMs, v)})
		v = s.ReadyMs / readyLimit
		r.Targets = append(r.Targets, Target{Name: s.Name + " ready", Subject: s.Name, Kind: "ready",
			Want: fmt.Sprintf("≤ %.1f ms (2 × minimal + one connection)", readyLimit), Value: v, Limit: 1, Pass: v <= 1,
			Got: fmt.Sprintf("%.1f ms", s.ReadyMs)})
		v = float64(s.IdleRSSKiB) / float64(m.IdleRSSKiB)
		r.Targets = append(r.Targets, Target{Name: s.Name + " idle RSS", Subject: s.Name, Kind: "memory",
			Want: fmt.Sprintf("≤ %.0f × minimal (%.1f MiB)", memoryLimit, memoryLimit*float64(m.IdleRSSKiB)/1024), Value: v, Limit: memoryLimit,
			Pass: v <= memoryLimit, Got: fmt.Sprintf("%.1f MiB (%.1f ×)", float64(s.IdleRSSKiB)/1024, v)})
	}
}

// write saves the JSON and the chart, and prints the tables.
func (h *harness) write(stamp string) error {
	r := h.report
	r.Machine.PostgreSQL = pgVersion(h.pgBin)
	r.Files = Files{JSON: filepath.Join(h.cfg.Out, stamp+".json"), Chart: filepath.Join(h.cfg.Out, stamp+".svg"), Dir: h.work}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	svg := chart(r)
	for _, f := range []struct {
		path string
		data []byte
	}{{r.Files.JSON, b}, {filepath.Join(h.cfg.Out, "latest.json"), b}, {r.Files.Chart, svg}, {filepath.Join(h.cfg.Out, "latest.svg"), svg}} {
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return err
		}
	}
	if !h.cfg.Quiet {
		r.Print(h.cfg.Log)
	}
	return nil
}

func pgVersion(bin string) string {
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Print writes the report's tables.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n晋来办 open platform benchmarks, %s — %d CPU (%s), %s, %s\n", r.Date.Format("2006-01-02 15:04"), r.Machine.CPUs, r.Machine.CPU,
		r.Machine.Go, r.Machine.PostgreSQL)
	fmt.Fprintf(w, "%d s per measurement after %s warm-up; %d citizens, %d applications; database: %s\n", int(parseDur(r.Settings.Duration).Seconds()),
		r.Settings.Warmup, r.Settings.Citizens, r.Settings.Apps, r.Settings.Database)
	fmt.Fprintf(w, "function settings changed for the benchmark: %v\n\n", r.Settings.Env)

	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tc\tdirect req/s\tp50\tp90\tp99 ms\terr\tstmts/req\t\tgateway req/s\tp50\tp99 ms\terr\t\tpgbench tps\tp50\tp99 ms\t\tdirect/pgbench\t")
	for _, o := range r.Ops {
		for i, d := range o.Direct {
			g := Sample{}
			if i < len(o.Gateway) {
				g = o.Gateway[i]
			}
			c := Ceiling{}
			if i < len(o.Ceiling) {
				c = o.Ceiling[i]
			}
			name := ""
			if i == 0 {
				name = o.Name
			}
			pc := ""
			if c.TPS > 0 {
				pc = fmt.Sprintf("%.0f %%", 100*d.RPS/c.TPS)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.0f%s\t%.2f\t%.2f\t%.2f\t%d\t%.1f\t\t%.0f%s\t%.2f\t%.2f\t%d\t\t%.0f%s\t%.2f\t%.2f\t\t%s\t\n", name, d.Concurrency, d.RPS, marks(d.Exhausted, d.Disturbed),
				d.P50ms, d.P90ms, d.P99ms, d.Errors, d.Statements, g.RPS, marks(g.Exhausted, g.Disturbed), g.P50ms, g.P99ms, g.Errors, c.TPS, marks(c.Aborted, c.Disturbed), c.P50ms, c.P99ms, pc)
		}
	}
	for i, s := range r.HTTPCeiling {
		name := ""
		if i == 0 {
			name = "bare net/http"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f%s\t%.2f\t%.2f\t%.2f\t%d\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n", name, s.Concurrency, s.RPS, marks(false, s.Disturbed), s.P50ms, s.P90ms, s.P99ms, s.Errors)
	}
	tw.Flush()
	fmt.Fprintln(w, "(! ran out of prepared tickets; ~ another job kept more than a quarter CPU busy even in the least disturbed of three tries)")

	fmt.Fprintln(w, "\nsummary (best level of each)")
	tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tdirect req/s\tgateway req/s\tgateway cost\tpgbench tps\tof pgbench\tof bare HTTP\thalf-peak p50\tp99 ms\tp99/p50\tstatements: function\tscript\t")
	cpuRows := []string{}
	httpBest := best(r.HTTPCeiling)
	for _, o := range r.Ops {
		d, g, c := o.bestDirect(), o.bestGateway(), o.bestCeiling()
		cost := ""
		if g.RPS > 0 && d.RPS > 0 {
			cost = fmt.Sprintf("%+.0f %%", 100*(g.RPS/d.RPS-1))
		}
		ofHTTP := ""
		if httpBest.RPS > 0 {
			ofHTTP = fmt.Sprintf("%.0f %%", 100*d.RPS/httpBest.RPS)
		}
		hp50, hp99, hpr := "", "", ""
		if hp := o.HalfPeak; hp != nil && hp.P50ms > 0 {
			hp50, hp99, hpr = fmt.Sprintf("%.2f", hp.P50ms), fmt.Sprintf("%.2f", hp.P99ms), fmt.Sprintf("%.1f", hp.P99ms/hp.P50ms)
		}
		fmt.Fprintf(tw, "%s\t%.0f (c=%d)\t%.0f (c=%d)\t%s\t%.0f (c=%d)\t%.0f %%\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t\n", o.Name, d.RPS, d.Concurrency, g.RPS, g.Concurrency,
			cost, c.TPS, c.Clients, 100*o.Ratio(), ofHTTP, hp50, hp99, hpr, d.Statements, o.ScriptStatements)
		if d.CPU != nil && c.CPU != nil {
			cpuRows = append(cpuRows, fmt.Sprintf("%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\t%.0f\t%.0f\t\n", o.Name,
				d.CPU.Function, d.CPU.Client, d.CPU.PostgreSQL, d.CPU.PostgreSQLKernel, d.CPU.Function+d.CPU.Client+d.CPU.PostgreSQL, d.ExecUs,
				c.CPU.Client, c.CPU.PostgreSQL, c.CPU.PostgreSQLKernel, c.CPU.Client+c.CPU.PostgreSQL, c.ExecUs, d.CPU.Others, c.CPU.Others))
		}
	}
	tw.Flush()
	if len(cpuRows) > 0 {
		fmt.Fprintln(w, "\nwhere the time goes, at the best level of each: CPU µs per request by process (PostgreSQL's with the kernel's part on its behalf), and PostgreSQL's executor time (pg_stat_statements)")
		tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "operation\tfunction\tload gen\tpostgres\tof it kernel\ttotal\tdb exec\t\tpgbench\tpostgres\tof it kernel\ttotal\tdb exec\t\tother CPUs busy: fn run\tpgbench run\t")
		for _, row := range cpuRows {
			fmt.Fprint(tw, row)
		}
		tw.Flush()
	}

	if len(r.StartUps) > 0 {
		fmt.Fprintf(w, "\nstart-up and memory (median of %d starts; one database connection takes %.1f ms from a fresh process, %.1f ms from a warm one)\n",
			r.Minimal.Runs, r.DBConnectColdMs, r.DBConnectMs)
		tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "program\t→ /_/health ms\t→ /_/ready ms\tidle RSS MiB\tanonymous\tfile-backed\tafter load MiB\tpeak MiB\tbinary MiB\t")
		for _, s := range append([]StartUp{r.Minimal}, r.StartUps...) {
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%.1f\t\n", s.Name, s.HealthMs, s.ReadyMs, float64(s.IdleRSSKiB)/1024,
				float64(s.IdleAnonKiB)/1024, float64(s.IdleFileKiB)/1024, mib(s.LoadRSSKiB), mib(s.LoadHWMKiB), float64(s.BinaryBytes)/(1<<20))
		}
		tw.Flush()
	}
	if len(r.Micro) > 0 {
		fmt.Fprintln(w, "\nGo micro-benchmarks")
		tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "benchmark\tns/op\tB/op\tallocs/op\t")
		for _, m := range r.Micro {
			fmt.Fprintf(tw, "%s.%s\t%.0f\t%.0f\t%.0f\t\n", m.Package, m.Name, m.NsOp, m.BytesOp, m.AllocsOp)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\ntargets")
	missed := 0
	for _, t := range r.Targets {
		mark := "pass"
		if !t.Pass {
			mark, missed = "MISS", missed+1
		}
		fmt.Fprintf(w, "  %-4s  %-42s %-40s got %s\n", mark, t.Name, t.Want, t.Got)
	}
	fmt.Fprintf(w, "  %d of %d targets met\n", len(r.Targets)-missed, len(r.Targets))
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "\nprofile of %s (%s): %s\n", p.Function, p.Reason, strings.Join(p.Files, ", "))
		for _, line := range p.Top {
			fmt.Fprintln(w, "  "+line)
		}
	}
	fmt.Fprintf(w, "\nresults: %s\nchart:   %s\n", r.Files.JSON, r.Files.Chart)
}

func disturbedNote(d bool) string {
	if d {
		return "; disturbed by another job"
	}
	return ""
}

func marks(exhausted, disturbed bool) string {
	m := ""
	if exhausted {
		m += "!"
	}
	if disturbed {
		m += disturbedMark
	}
	return m
}

func mib(kib int) string {
	if kib == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

func parseDur(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

// Load reads a report written by Run.
func Load(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

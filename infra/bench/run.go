// Package bench is `make bench`: it starts the platform (a throwaway PostgreSQL, the real
// function binaries, the gateway), seeds a realistic directory, and measures the hot paths
// against their ceilings — pgbench running the same SQL on the same database, a bare Go
// net/http server for the HTTP part — plus cold start and memory against a minimal Go
// server, and the Go micro-benchmarks of the shared crypto. See the README, "Benchmarks".
package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/infra/devstack/stack"
	"github.com/jinlaiban/openplatform/shared/pgcluster"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Config shapes a run. The zero value of a field takes the default of `make bench`.
type Config struct {
	Root          string            // the repository (holds go.work)
	Out           string            // where results go (default <root>/bench/out)
	DataDir       string            // scratch space (default: a temporary folder, removed after)
	Duration      time.Duration     // each measurement (default 5s)
	Warmup        time.Duration     // before each measurement, not counted (default 1s)
	Levels        []int             // concurrency levels (default 1, 4, 16, 64)
	Citizens      int               // citizens in the directory (default 100 000)
	Apps          int               // approved applications (default 1 000)
	Pairs         int               // citizens signed in to each application (default 100)
	Ops           []string          // operations to measure (default all five)
	ColdStartRuns int               // starts per program (default 21)
	ColdStartOnly []string          // functions to start (default every server function)
	TraceRequests int               // requests traced to build each ceiling script (default 30)
	NoGateway     bool              // skip the measurements through the gateway
	NoHalfPeak    bool              // skip the latency runs at half of peak throughput
	NoMicro       bool              // skip the Go micro-benchmarks
	NoProfiles    bool              // do not profile a function that misses a target
	StackBuilds   bool              // cold-start the stack's own builds, not image-like ones (saves a build; for tests)
	Env           map[string]string // more settings for every function (e.g. GOMAXPROCS), reported
	Quiet         bool              // no table on Log
	Log           io.Writer         // progress and the table (default os.Stdout)
}

func (c *Config) defaults() {
	if c.Out == "" {
		c.Out = filepath.Join(c.Root, "bench", "out")
	}
	if c.Duration == 0 {
		c.Duration = 5 * time.Second
	}
	if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	if len(c.Levels) == 0 {
		c.Levels = []int{1, 4, 16, 64}
	}
	if c.Citizens == 0 {
		c.Citizens = 100_000
	}
	if c.Apps == 0 {
		c.Apps = 1_000
	}
	if c.Pairs == 0 {
		c.Pairs = 100
	}
	if c.ColdStartRuns == 0 {
		c.ColdStartRuns = 21
	}
	if c.TraceRequests == 0 {
		c.TraceRequests = 30
	}
	if c.Log == nil {
		c.Log = os.Stdout
	}
}

// envOverrides are the settings the benchmark changes from the functions' defaults, because
// the defaults would throttle it rather than measure it.
func envOverrides(levels []int) map[string]string {
	return map[string]string{
		// A function instance's pool (default 4): as many connections as pgbench gets clients.
		"DB_POOL_MAX": strconv.Itoa(slices.Max(levels)),
		// Per application and capability per minute (default 600): the load is spread over
		// all applications, but a short, fast run can still pass 600 for one of them.
		"CAPABILITY_RATE_PER_MINUTE": "1000000000",
	}
}

// harness is a run in progress.
type harness struct {
	cfg      Config
	cluster  *pgcluster.Cluster
	dbURL    string
	pgBin    string
	logDir   string // PostgreSQL's JSON logs
	meter    cpuMeter
	work     string // this run's files (scripts, profiles) under Out
	stack    *stack.Stack
	pool     *pgxpool.Pool
	fx       *fixture
	uiTokens userInfoTokens
	sequences
	traces     map[string][]traced // each operation's traced statements, by name
	minimal    string              // the minimal server's binary
	releaseDir string              // functions built as the images are
	report     *Report
	ceilRuns   int64
}

func (h *harness) say(format string, args ...any) {
	fmt.Fprintf(h.cfg.Log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Run runs the benchmarks and writes the results under cfg.Out.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	var err error
	if cfg.Root, err = filepath.Abs(cfg.Root); err != nil {
		return nil, err
	}
	if cfg.Out, err = filepath.Abs(cfg.Out); err != nil {
		return nil, err
	}
	stamp := time.Now().Format("20060102-150405")
	h := &harness{cfg: cfg, work: filepath.Join(cfg.Out, stamp)}
	h.report = newReport(cfg, stamp)
	if err := os.MkdirAll(h.work, 0o755); err != nil {
		return nil, err
	}
	data := cfg.DataDir
	if data == "" {
		if data, err = os.MkdirTemp("", "jlb-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(data)
	}
	_ = os.Chmod(data, 0o755) // PostgreSQL may run as another user
	if err := h.start(ctx, data); err != nil {
		h.stop()
		return nil, err
	}
	defer h.stop()
	if err := h.measure(ctx); err != nil {
		return h.report, err
	}
	return h.report, h.write(stamp)
}

func (h *harness) start(ctx context.Context, data string) error {
	var err error
	if h.pgBin, err = pgcluster.FindBinaries(); err != nil {
		return err
	}
	h.say("starting PostgreSQL (throwaway cluster, fsync off)…")
	h.cluster, err = pgcluster.New(pgcluster.Options{Dir: filepath.Join(data, "pg"), Params: []string{
		// Every function instance keeps up to DB_POOL_MAX connections (idle ones for minutes),
		// and pgbench opens one per client besides.
		"max_connections=1000",
		// Round trips per request are counted from pg_stat_statements.
		"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track_utility=on",
		// ...and how often each statement was planned (a prepared statement planned at every
		// execution pays the planner each time).
		"pg_stat_statements.track_planning=on",
		// The ceiling scripts are built from the statements a function instance logs
		// (log_statement=all for that instance only, via PGOPTIONS); JSON logs parse safely.
		"logging_collector=on", "log_destination=jsonlog", "log_directory=log",
		// Measurements must not pay for each other's garbage: no autovacuum in the middle of
		// one; the harness vacuums and checkpoints between them (settle).
		"autovacuum=off",
	}})
	if err != nil {
		return err
	}
	if err := h.cluster.Start(ctx); err != nil {
		return err
	}
	h.logDir = filepath.Join(data, "pg", "data", "log")
	h.meter = newCPUMeter(filepath.Join(data, "pg", "data"))
	h.dbURL = h.cluster.URL("postgres")
	if h.pool, err = pgxpool.New(ctx, h.dbURL); err != nil {
		return err
	}
	if _, err := h.pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return err
	}
	env := envOverrides(h.cfg.Levels)
	for k, v := range h.cfg.Env {
		env[k] = v
	}
	h.say("starting the platform (building every function)…")
	h.stack, err = stack.Start(ctx, stack.Options{Root: h.cfg.Root, DataDir: filepath.Join(data, "stack"), DatabaseURL: h.dbURL,
		Env: env, Log: io.Discard})
	if err != nil {
		return err
	}
	h.say("platform up: %d functions behind the gateway at %s", len(h.stack.Functions), h.stack.GatewayURL)
	key, err := os.ReadFile(filepath.Join(data, "stack", "secrets", "seal-key"))
	if err != nil {
		return err
	}
	sealer, err := seal.New(seal.Config{Key: strings.TrimSpace(string(key))})
	if err != nil {
		return err
	}
	if h.fx, err = seed(ctx, h.pool, sealer, h.cfg.Citizens, h.cfg.Apps, h.cfg.Pairs, h.say); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	h.releaseDir = filepath.Join(data, "release")
	h.minimal = filepath.Join(h.releaseDir, "minimal")
	if err := h.releaseBuild(ctx, h.releaseDir, "./infra/bench/cmd/minimal"); err != nil {
		return fmt.Errorf("building the minimal server: %w", err)
	}
	return nil
}

func (h *harness) stop() {
	if h.stack != nil {
		h.stack.Stop()
	}
	if h.pool != nil {
		h.pool.Close()
	}
	if h.cluster != nil {
		if err := h.cluster.Stop(); err != nil {
			h.say("stopping PostgreSQL: %v", err)
		}
	}
}

func (h *harness) measure(ctx context.Context) error {
	ops := operations()
	if len(h.cfg.Ops) > 0 {
		ops = slices.DeleteFunc(ops, func(o *operation) bool { return !slices.Contains(h.cfg.Ops, o.Name) })
	}
	// The user-info ceiling's tokens: one per application, for a citizen signed in to it.
	if err := h.fx.seedCeilingTokens(ctx, func(a *benchApp) string { return a.Citizens[0] }); err != nil {
		return err
	}
	for _, op := range ops {
		res, err := h.runOp(ctx, op)
		if err != nil {
			return fmt.Errorf("%s: %w", op.Name, err)
		}
		h.report.Ops = append(h.report.Ops, res)
	}
	if err := h.httpCeiling(ctx); err != nil {
		return fmt.Errorf("HTTP ceiling: %w", err)
	}
	h.memoryAfterLoad()
	if err := h.startUps(ctx); err != nil {
		return err
	}
	if !h.cfg.NoMicro {
		h.say("Go micro-benchmarks…")
		m, err := microBenchmarks(ctx, h.cfg.Root)
		if err != nil {
			return err
		}
		h.report.Micro = m
	}
	h.report.evaluate()
	if !h.cfg.NoProfiles {
		h.profileMisses(ctx, ops)
	}
	return nil
}

// ---- one operation ---------------------------------------------------------------------

func (h *harness) runOp(ctx context.Context, op *operation) (OpResult, error) {
	res := OpResult{Name: op.Name, Function: op.Function}
	fn := h.stack.Functions[op.Function]
	if fn == nil {
		return res, fmt.Errorf("no function %s in the stack", op.Function)
	}
	trace, counts, err := h.trace(ctx, op)
	if err != nil {
		return res, err
	}
	if h.traces == nil {
		h.traces = map[string][]traced{}
	}
	h.traces[op.Name] = trace
	res.TraceStatements = mean(counts)
	for _, t := range trace[:counts[0]] {
		res.Statements = append(res.Statements, oneLine(t.SQL))
	}
	for _, c := range h.cfg.Levels {
		s, err := h.sample(ctx, op, fn.URL, c)
		if err != nil {
			return res, err
		}
		h.say("%-13s direct   %s", op.Name, s)
		res.Direct = append(res.Direct, s)
		if !h.cfg.NoGateway {
			s, err := h.sample(ctx, op, h.stack.GatewayURL, c)
			if err != nil {
				return res, err
			}
			h.say("%-13s gateway  %s", op.Name, s)
			res.Gateway = append(res.Gateway, s)
		}
		ceil, sc, err := h.ceiling(ctx, op, trace, c)
		if err != nil {
			return res, err
		}
		res.ScriptStatements = sc.Statements
		res.Script = filepath.Join(h.work, "ceiling-"+op.Name, "script.sql")
		h.say("%-13s pgbench  c=%d %.0f tps p50 %.2f p99 %.2f ms%s; db exec %.0f µs/tx%s", op.Name, c, ceil.TPS, ceil.P50ms, ceil.P99ms, abortNote(ceil), ceil.ExecUs, ceil.CPU)
		res.Ceiling = append(res.Ceiling, ceil)
	}
	// Right after the levels, while the function's connection pool is as they left it (idle
	// connections are closed after some minutes, which would then fall into this run).
	if !h.cfg.NoHalfPeak {
		s, err := h.halfPeak(ctx, op, res)
		if err != nil {
			return res, fmt.Errorf("at half of peak: %w", err)
		}
		res.HalfPeak = &s
	}
	return res, nil
}

func abortNote(c Ceiling) string {
	if c.Aborted {
		return " (ABORTED: " + c.Message + ")"
	}
	return ""
}

// trace runs a few requests against an instance of the function whose statements the
// server logs, and checks them against the ceiling spec.
func (h *harness) trace(ctx context.Context, op *operation) ([]traced, []int, error) {
	fn := h.stack.Functions[op.Function]
	app := fmt.Sprintf("bench-trace-%s-%d", op.Name, time.Now().UnixNano())
	env := append(fn.Env(), "PGAPPNAME="+app, "PGOPTIONS=-c log_statement=all")
	inst, err := startInstance(fn.Binary, env, filepath.Join(h.work, "trace-"+op.Name+".log"))
	if err != nil {
		return nil, nil, err
	}
	defer inst.stop()
	if _, err := inst.waitOK(ctx, "/_/ready", 20*time.Second); err != nil {
		return nil, nil, err
	}
	n := h.cfg.TraceRequests
	src, err := op.prepare(ctx, h, inst.URL, 1, n)
	if err != nil {
		return nil, nil, err
	}
	client := newLoadClient(1)
	defer client.close()
	var rec recorder
	for range n {
		req, _ := src(0)
		rec.do(client, 0, req, op.Want, time.Now())
	}
	if rec.errors > 0 {
		return nil, nil, fmt.Errorf("traced requests failed: %d of %d, first: %s", rec.errors, n, rec.firstErr)
	}
	inst.stop()
	// The logging collector writes asynchronously: wait until every request's statements
	// are in the log (the last request's last statement may come a little later).
	var trace []traced
	var counts []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if trace, err = readTrace(h.logDir, app); err != nil {
			return nil, nil, err
		}
		_, counts, err = buildScript(op.ceiling, trace, h.scriptVars(0))
		if err == nil && len(counts) >= n {
			break
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("the server logged %d of %d traced requests", len(counts), n)
			}
			return nil, nil, err
		}
	}
	return trace, counts, nil
}

func (h *harness) scriptVars(ticketBase int64) map[string]string {
	return map[string]string{
		"spread": strconv.Itoa(spread), "apps": strconv.Itoa(len(h.fx.apps)), "codeBase": fmt.Sprint(codeBase),
		"randomBase": fmt.Sprint(randomBase), "randomTop": fmt.Sprint(randomTop), "ticketBase": fmt.Sprint(ticketBase),
		"ceilTokenBase": fmt.Sprint(ceilTokenBase), "ceilPairwise": fmt.Sprint(ceilPairwise), "maxPairs": strconv.Itoa(maxPairsPerApps),
		"pairs": strconv.Itoa(h.fx.pairs),
	}
}

// budget is how many requests a worker may need in t at concurrency c, with room to
// spare, for operations that use up a fixture per request.
func budget(c int, t time.Duration, total, perWorker float64) int {
	return int(math.Ceil(math.Min(total/float64(c), perWorker)*t.Seconds()*1.5)) + 20
}

// sample measures an operation at base (a function or the gateway) with c workers.
func (h *harness) sample(ctx context.Context, op *operation, base string, c int) (Sample, error) {
	per := 0
	if op.consumes {
		per = budget(c, h.cfg.Warmup+h.cfg.Duration, 8000, 4000)
	}
	var kept Sample
	for attempt := 0; attempt < maxAttempts; attempt++ {
		src, err := op.prepare(ctx, h, base, c, per)
		if err != nil {
			return Sample{}, err
		}
		if err := h.settle(ctx); err != nil {
			return Sample{}, err
		}
		client := newLoadClient(c)
		closedLoop(ctx, client, c, h.cfg.Warmup, op.Want, src)
		before, err := h.statements(ctx)
		if err != nil {
			return Sample{}, err
		}
		pid := h.stack.Functions[op.Function].PID()
		cpu0 := h.meter.snapshot(pid)
		s := closedLoop(ctx, client, c, h.cfg.Duration, op.Want, src)
		cpu1 := h.meter.snapshot(pid)
		after, err := h.statements(ctx)
		client.close()
		if err != nil {
			return Sample{}, err
		}
		if s.Requests > 0 {
			s.Statements = float64(after.calls-before.calls-1) / float64(s.Requests)
			s.ExecUs = 1000 * (after.execMs - before.execMs) / float64(s.Requests)
			s.Statement = costs(before, after, s.Requests)
			cpu := perRequest(cpu0, cpu1, s.Requests, 0, runtime.NumCPU())
			s.CPU = &cpu
		}
		if ctx.Err() != nil {
			return s, ctx.Err()
		}
		if s.Exhausted {
			per *= 3 // the workers ran out of tickets: more, and again
			kept = s
			continue
		}
		if attempt == 0 || others(s.CPU) < others(kept.CPU) || kept.Exhausted {
			kept = s
		}
		if !disturbed(kept.CPU) {
			break
		}
		h.say("%-13s (another job used %.1f CPUs meanwhile: measuring again)", op.Name, others(s.CPU))
	}
	kept.Disturbed = disturbed(kept.CPU)
	return kept, nil
}

// A measurement is disturbed when something else on the machine kept more than a quarter
// of a CPU busy meanwhile; it is repeated (up to maxAttempts in all) and the least disturbed
// kept, and flagged when even that one was.
const (
	maxAttempts   = 3
	disturbLimit  = 0.25
	disturbedMark = "~"
)

func others(c *CPU) float64 {
	if c == nil {
		return 0
	}
	return c.Others
}

func disturbed(c *CPU) bool { return others(c) > disturbLimit }

// settle cleans up after the previous measurement, so that the next does not pay for it:
// dead rows vacuumed, statistics current, dirty pages written.
func (h *harness) settle(ctx context.Context) error {
	_, err := h.pool.Exec(ctx, `VACUUM ANALYZE`)
	if err == nil {
		_, err = h.pool.Exec(ctx, `CHECKPOINT`)
	}
	return err
}

// statements is the number of statements the server has run (pg_stat_statements).
func (h *harness) statements(ctx context.Context) (dbCounters, error) {
	n := dbCounters{per: map[int64]stmtCounter{}}
	rows, err := h.pool.Query(ctx, `SELECT queryid, query, calls, total_exec_time, plans FROM pg_stat_statements`)
	if err != nil {
		return n, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var c stmtCounter
		if err := rows.Scan(&id, &c.query, &c.calls, &c.execMs, &c.plans); err != nil {
			return n, err
		}
		n.calls += c.calls
		n.execMs += c.execMs
		n.per[id] = c
	}
	return n, rows.Err()
}

// dbCounters are pg_stat_statements' totals: statements run, and time spent executing them.
type dbCounters struct {
	calls  int64
	execMs float64
	per    map[int64]stmtCounter
}

type stmtCounter struct {
	query  string
	calls  int64
	plans  int64
	execMs float64
}

// StatementCost is one statement's share of a request: how often it ran per request and its
// mean executor time.
type StatementCost struct {
	Query      string  `json:"query"`
	PerRequest float64 `json:"per_request"`
	MeanUs     float64 `json:"mean_exec_us"`
	// PlansPerCall is how often the statement was planned per execution: 0 for a cached
	// generic plan, 1 when it is planned every time (custom plans, or not prepared).
	PlansPerCall float64 `json:"plans_per_call"`
}

// costs lists the statements that ran at least once per 20 requests between two readings.
func costs(a, b dbCounters, requests int) []StatementCost {
	var out []StatementCost
	for id, c := range b.per {
		d := c.calls - a.per[id].calls
		if requests == 0 || d*20 < int64(requests) {
			continue
		}
		out = append(out, StatementCost{Query: oneLine(c.query), PerRequest: float64(d) / float64(requests),
			MeanUs: 1000 * (c.execMs - a.per[id].execMs) / float64(d), PlansPerCall: float64(c.plans-a.per[id].plans) / float64(d)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Query < out[j].Query })
	return out
}

// ceilingScript readies one pgbench run of the operation with c clients: its own tickets
// (per client, for an operation that uses them up) and its script.
func (h *harness) ceilingScript(ctx context.Context, op *operation, trace []traced, c, per int) (script, error) {
	h.ceilRuns++
	base := ceilTicketBase + h.ceilRuns*100_000_000_000
	if op.consumes {
		if err := h.fx.issueCeilingTickets(ctx, base, c, per); err != nil {
			return script{}, fmt.Errorf("ceiling tickets: %w", err)
		}
	}
	sc, _, err := buildScript(op.ceiling, trace, h.scriptVars(base))
	return sc, err
}

// ceiling runs the operation's pgbench script with c clients.
func (h *harness) ceiling(ctx context.Context, op *operation, trace []traced, c int) (Ceiling, script, error) {
	var kept Ceiling
	var sc script
	per := budget(c, h.cfg.Duration, 15000, 6000)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var err error
		if sc, err = h.ceilingScript(ctx, op, trace, c, per); err != nil {
			return kept, sc, err
		}
		if err := h.settle(ctx); err != nil {
			return kept, sc, err
		}
		before, err := h.statements(ctx)
		if err != nil {
			return kept, sc, err
		}
		res, err := pgbench(ctx, filepath.Join(h.pgBin, "pgbench"), filepath.Join(h.work, "ceiling-"+op.Name), h.dbURL, sc, c, h.cfg.Duration, h.meter)
		if err != nil {
			return res, sc, err
		}
		if after, err := h.statements(ctx); err == nil && res.Processed > 0 {
			res.ExecUs = 1000 * (after.execMs - before.execMs) / float64(res.Processed)
			res.Statement = costs(before, after, res.Processed)
		}
		if res.Aborted && op.consumes {
			per *= 3 // the clients ran out of tickets: more, and again
			kept = res
			continue
		}
		if attempt == 0 || kept.Aborted || others(res.CPU) < others(kept.CPU) {
			kept = res
		}
		if !disturbed(kept.CPU) {
			break
		}
		h.say("%-13s (another job used %.1f CPUs meanwhile: measuring again)", op.Name, others(res.CPU))
	}
	kept.Disturbed = disturbed(kept.CPU)
	return kept, sc, nil
}

// ---- the HTTP ceiling and half of peak ---------------------------------------------------

func (h *harness) httpCeiling(ctx context.Context) error {
	inst, err := startInstance(h.minimal, nil, "")
	if err != nil {
		return err
	}
	defer inst.stop()
	if _, err := inst.waitOK(ctx, "/_/health", 10*time.Second); err != nil {
		return err
	}
	a := h.fx.apps[0]
	body := []byte(`{"ticket":"tk_5mY8dQ2rX0vJ3nL7pK9sW1zB4cF6hG2tA8eR0uI3oE"}`)
	src := func(int) (*http.Request, bool) {
		return signed("POST", inst.URL+"/api/v1/sso/token", body, a, nil), true
	}
	for _, c := range h.cfg.Levels {
		var kept Sample
		for attempt := 0; attempt < maxAttempts; attempt++ {
			client := newLoadClient(c)
			closedLoop(ctx, client, c, h.cfg.Warmup, http.StatusOK, src)
			pid := inst.cmd.Process.Pid
			cpu0 := h.meter.snapshot(pid)
			s := closedLoop(ctx, client, c, h.cfg.Duration, http.StatusOK, src)
			cpu1 := h.meter.snapshot(pid)
			cpu := perRequest(cpu0, cpu1, s.Requests, 0, runtime.NumCPU())
			s.CPU = &cpu
			client.close()
			if attempt == 0 || others(s.CPU) < others(kept.CPU) {
				kept = s
			}
			if !disturbed(kept.CPU) || ctx.Err() != nil {
				break
			}
		}
		kept.Disturbed = disturbed(kept.CPU)
		h.say("%-13s bare Go  %s", "http-ceiling", kept)
		h.report.HTTPCeiling = append(h.report.HTTPCeiling, kept)
	}
	return ctx.Err()
}

// halfPeak sends at half of the best direct throughput, with the best level's workers, and
// measures latency from each request's due time. A run that could not keep the rate (the
// machine was busier than when the peak was measured) is repeated, as a disturbed one is.
func (h *harness) halfPeak(ctx context.Context, op *operation, res OpResult) (Sample, error) {
	best := res.bestDirect()
	if best.RPS == 0 {
		return Sample{}, fmt.Errorf("no throughput to halve")
	}
	rate := best.RPS / 2
	c := best.Concurrency
	warm := min(h.cfg.Warmup, 300*time.Millisecond)
	per := 0
	if op.consumes {
		per = int((rate*h.cfg.Duration.Seconds()*1.3+best.RPS*warm.Seconds()*1.5)/float64(c)) + 50
	}
	var kept Sample
	for attempt := 0; attempt < maxAttempts; attempt++ {
		src, err := op.prepare(ctx, h, h.stack.Functions[op.Function].URL, c, per)
		if err != nil {
			return Sample{}, err
		}
		if err := h.settle(ctx); err != nil {
			return Sample{}, err
		}
		client := newLoadClient(c)
		closedLoop(ctx, client, c, warm, op.Want, src)
		pid := h.stack.Functions[op.Function].PID()
		cpu0 := h.meter.snapshot(pid)
		s := paced(ctx, client, c, rate, h.cfg.Duration, op.Want, src)
		cpu1 := h.meter.snapshot(pid)
		client.close()
		cpu := perRequest(cpu0, cpu1, s.Requests, 0, runtime.NumCPU())
		s.CPU = &cpu
		if ctx.Err() != nil {
			return s, ctx.Err()
		}
		if attempt == 0 || (s.sustained() && !kept.sustained()) || (s.sustained() == kept.sustained() && others(s.CPU) < others(kept.CPU)) {
			kept = s
		}
		if kept.sustained() && !disturbed(kept.CPU) {
			break
		}
		h.say("%-13s half of peak: %.0f of %.0f req/s sustained, another job used %.1f CPUs: measuring again", op.Name, s.RPS, rate, others(s.CPU))
	}
	kept.Disturbed = disturbed(kept.CPU)
	h.say("%-13s half of peak (%.0f req/s, c=%d): %s", op.Name, rate, c, kept)
	return kept, nil
}

// ---- start-up and memory ---------------------------------------------------------------

func (h *harness) memoryAfterLoad() {
	for name, f := range h.stack.Functions {
		if pid := f.PID(); pid != 0 {
			if m, err := memory(pid); err == nil {
				h.report.afterLoad = append(h.report.afterLoad, StartUp{Name: name, LoadRSSKiB: m.RSS, LoadHWMKiB: m.HWM})
			}
		}
	}
}

// releaseBuild builds programs as the images are built (.ko.yaml: CGO_ENABLED=0, -trimpath,
// -ldflags=-s -w), for the start-up and size figures.
func (h *harness) releaseBuild(ctx context.Context, dir string, pkgs ...string) error {
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", dir + string(os.PathSeparator)}, pkgs...)
	if h.cfg.StackBuilds {
		args = append([]string{"build", "-o", dir + string(os.PathSeparator)}, pkgs...) // as the stack builds
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = h.cfg.Root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

func (h *harness) startUps(ctx context.Context) error {
	runs := h.cfg.ColdStartRuns
	idle := 500 * time.Millisecond
	if runs < 10 {
		idle = 200 * time.Millisecond
	}
	names := make([]string, 0, len(h.stack.Functions))
	for n := range h.stack.Functions {
		if len(h.cfg.ColdStartOnly) == 0 || slices.Contains(h.cfg.ColdStartOnly, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	pkgs := make([]string, len(names))
	for i, n := range names {
		pkgs[i] = "./functions/" + n
	}
	if !h.cfg.StackBuilds {
		h.say("building %d functions as the images are built, for the start-up figures…", len(names))
		if err := h.releaseBuild(ctx, h.releaseDir, pkgs...); err != nil {
			return err
		}
	}
	progs := []program{{name: "minimal net/http", binary: h.minimal}}
	for _, n := range names {
		bin := filepath.Join(h.releaseDir, n)
		if h.cfg.StackBuilds {
			bin = h.stack.Functions[n].Binary
		}
		progs = append(progs, program{name: n, binary: bin, env: h.stack.Functions[n].Env()})
	}
	h.say("cold starts: %d runs of each of %d programs, interleaved…", runs, len(progs))
	sus := coldStarts(ctx, progs, runs, idle)
	h.report.Minimal = sus[0]
	if h.report.Minimal.Error != "" {
		return fmt.Errorf("the minimal server: %s", h.report.Minimal.Error)
	}
	// One database connection: from this (warm) process, and from a fresh one, which the
	// /_/ready target counts (a function's first connection is in a fresh process).
	var warm, cold []time.Duration
	connect := filepath.Join(h.releaseDir, "dbconnect")
	if err := h.releaseBuild(ctx, h.releaseDir, "./infra/bench/cmd/dbconnect"); err != nil {
		return err
	}
	for range runs {
		t := time.Now()
		c, err := pgx.Connect(ctx, h.dbURL)
		if err != nil {
			return err
		}
		warm = append(warm, time.Since(t))
		_ = c.Close(ctx)
		cmd := exec.CommandContext(ctx, connect)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+h.dbURL)
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("dbconnect: %w", err)
		}
		us, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			return fmt.Errorf("dbconnect: %q", out)
		}
		cold = append(cold, time.Duration(us)*time.Microsecond)
	}
	slices.Sort(warm)
	slices.Sort(cold)
	h.report.DBConnectMs, h.report.DBConnectColdMs = ms(warm[len(warm)/2]), ms(cold[len(cold)/2])
	for _, su := range sus[1:] {
		for _, al := range h.report.afterLoad {
			if al.Name == su.Name {
				su.LoadRSSKiB, su.LoadHWMKiB = al.LoadRSSKiB, al.LoadHWMKiB
			}
		}
		h.say("%-16s health %.1f ms, ready %.1f ms, idle RSS %.1f MiB (%.1f anonymous), binary %.1f MiB%s", su.Name, su.HealthMs, su.ReadyMs,
			float64(su.IdleRSSKiB)/1024, float64(su.IdleAnonKiB)/1024, float64(su.BinaryBytes)/(1<<20), errNote(su.Error))
		h.report.StartUps = append(h.report.StartUps, su)
	}
	m := h.report.Minimal
	h.say("%-16s health %.1f ms, idle RSS %.1f MiB (%.1f anonymous), binary %.1f MiB; one database connection %.1f ms (%.1f ms from a fresh process)",
		m.Name, m.HealthMs, float64(m.IdleRSSKiB)/1024, float64(m.IdleAnonKiB)/1024, float64(m.BinaryBytes)/(1<<20), h.report.DBConnectMs, h.report.DBConnectColdMs)
	return nil
}

func errNote(e string) string {
	if e != "" {
		return " (" + e + ")"
	}
	return ""
}

func mean(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0
	for _, x := range xs {
		sum += x
	}
	return float64(sum) / float64(len(xs))
}

func oneLine(sql string) string {
	return truncate(strings.Join(strings.Fields(sql), " "), 160)
}

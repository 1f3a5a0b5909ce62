// Package bench is `make bench`: it starts the platform (a throwaway PostgreSQL, the real
// function binaries, the gateway), seeds a realistic directory, and measures the hot paths
// against their ceilings — pgbench running the same SQL on the same database, a bare Go
// net/http server for the HTTP part — plus cold start and memory against a minimal Go
// server, and the Go micro-benchmarks of the shared crypto. See infra/BENCH.md.
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
	Root          string        // the repository (holds go.work)
	Out           string        // where results go (default <root>/bench/out)
	DataDir       string        // scratch space (default: a temporary folder, removed after)
	Duration      time.Duration // each measurement (default 5s)
	Warmup        time.Duration // before each measurement, not counted (default 1s)
	Levels        []int         // concurrency levels (default 1, 4, 16, 64)
	Citizens      int           // citizens in the directory (default 100 000)
	Apps          int           // approved applications (default 1 000)
	Pairs         int           // citizens signed in to each application (default 100)
	Ops           []string      // operations to measure (default all five)
	ColdStartRuns int           // starts per program (default 21)
	ColdStartOnly []string      // functions to start (default every server function)
	TraceRequests int           // requests traced to build each ceiling script (default 30)
	NoGateway     bool          // skip the measurements through the gateway
	NoHalfPeak    bool          // skip the latency runs at half of peak throughput
	NoMicro       bool          // skip the Go micro-benchmarks
	NoProfiles    bool          // do not profile a function that misses a target
	Quiet         bool          // no table on Log
	Log           io.Writer     // progress and the table (default os.Stdout)
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
	work     string // this run's files (scripts, profiles) under Out
	stack    *stack.Stack
	pool     *pgxpool.Pool
	fx       *fixture
	uiTokens userInfoTokens
	sequences
	minimal  string // the minimal server's binary
	report   *Report
	ceilRuns int64
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
		"max_connections=300",
		// Round trips per request are counted from pg_stat_statements.
		"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track_utility=on",
		// The ceiling scripts are built from the statements a function instance logs
		// (log_statement=all for that instance only, via PGOPTIONS); JSON logs parse safely.
		"logging_collector=on", "log_destination=jsonlog", "log_directory=log",
	}})
	if err != nil {
		return err
	}
	if err := h.cluster.Start(ctx); err != nil {
		return err
	}
	h.logDir = filepath.Join(data, "pg", "data", "log")
	h.dbURL = h.cluster.URL("postgres")
	if h.pool, err = pgxpool.New(ctx, h.dbURL); err != nil {
		return err
	}
	if _, err := h.pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return err
	}
	env := envOverrides(h.cfg.Levels)
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
	h.minimal = filepath.Join(data, "bin", "minimal")
	build := exec.CommandContext(ctx, "go", "build", "-o", h.minimal, "./infra/bench/cmd/minimal")
	build.Dir, build.Env = h.cfg.Root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the minimal server: %v\n%s", err, out)
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
	if !h.cfg.NoHalfPeak {
		for i, op := range ops {
			s, err := h.halfPeak(ctx, op, h.report.Ops[i])
			if err != nil {
				return fmt.Errorf("%s at half of peak: %w", op.Name, err)
			}
			h.report.Ops[i].HalfPeak = &s
		}
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
		h.say("%-13s pgbench  c=%d %.0f tps p50 %.2f p99 %.2f ms%s", op.Name, c, ceil.TPS, ceil.P50ms, ceil.P99ms, abortNote(ceil))
		res.Ceiling = append(res.Ceiling, ceil)
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
	client := newClient(1)
	defer client.CloseIdleConnections()
	var rec recorder
	for range n {
		req, _ := src(0)
		rec.do(client, req.WithContext(ctx), op.Want, time.Now())
	}
	if rec.errors > 0 {
		return nil, nil, fmt.Errorf("traced requests failed: %d of %d, first: %s", rec.errors, n, rec.firstErr)
	}
	inst.stop()
	// The logging collector writes asynchronously: wait for every request's statements.
	var trace []traced
	for deadline := time.Now().Add(10 * time.Second); ; {
		if trace, err = readTrace(h.logDir, app); err != nil {
			return nil, nil, err
		}
		got := 0
		for _, t := range trace {
			if t.matches(op.ceiling.Steps[0]) {
				got++
			}
		}
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, counts, err := buildScript(op.ceiling, trace, h.scriptVars(0))
	if err != nil {
		return nil, nil, err
	}
	if len(counts) < n {
		return nil, nil, fmt.Errorf("the server logged %d of %d traced requests", len(counts), n)
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
	for attempt := 0; ; attempt++ {
		src, err := op.prepare(ctx, h, base, c, per)
		if err != nil {
			return Sample{}, err
		}
		client := newClient(c)
		closedLoop(ctx, client, c, h.cfg.Warmup, op.Want, src)
		before, err := h.statements(ctx)
		if err != nil {
			return Sample{}, err
		}
		s := closedLoop(ctx, client, c, h.cfg.Duration, op.Want, src)
		after, err := h.statements(ctx)
		client.CloseIdleConnections()
		if err != nil {
			return Sample{}, err
		}
		if s.Requests > 0 {
			s.Statements = float64(after-before-1) / float64(s.Requests)
		}
		if !s.Exhausted || attempt == 2 {
			return s, ctx.Err()
		}
		per *= 3
	}
}

// statements is the number of statements the server has run (pg_stat_statements).
func (h *harness) statements(ctx context.Context) (int64, error) {
	var n int64
	err := h.pool.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements`).Scan(&n)
	return n, err
}

// ceiling runs the operation's pgbench script with c clients.
func (h *harness) ceiling(ctx context.Context, op *operation, trace []traced, c int) (Ceiling, script, error) {
	var res Ceiling
	var sc script
	per := budget(c, h.cfg.Duration, 15000, 6000)
	for attempt := 0; ; attempt++ {
		h.ceilRuns++
		base := ceilTicketBase + h.ceilRuns*100_000_000_000
		if op.consumes {
			if err := h.fx.issueCeilingTickets(ctx, base, c, per); err != nil {
				return res, sc, fmt.Errorf("ceiling tickets: %w", err)
			}
		}
		var err error
		if sc, _, err = buildScript(op.ceiling, trace, h.scriptVars(base)); err != nil {
			return res, sc, err
		}
		res, err = pgbench(ctx, filepath.Join(h.pgBin, "pgbench"), filepath.Join(h.work, "ceiling-"+op.Name), h.dbURL, sc, c, h.cfg.Duration)
		if err != nil {
			return res, sc, err
		}
		if !res.Aborted || !op.consumes || attempt == 2 {
			return res, sc, nil
		}
		per *= 3 // the clients ran out of tickets: more, and again
	}
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
		client := newClient(c)
		closedLoop(ctx, client, c, h.cfg.Warmup, http.StatusOK, src)
		s := closedLoop(ctx, client, c, h.cfg.Duration, http.StatusOK, src)
		client.CloseIdleConnections()
		h.say("%-13s bare Go  %s", "http-ceiling", s)
		h.report.HTTPCeiling = append(h.report.HTTPCeiling, s)
	}
	return ctx.Err()
}

// halfPeak sends at half of the best direct throughput, with the best level's workers, and
// measures latency from each request's due time.
func (h *harness) halfPeak(ctx context.Context, op *operation, res OpResult) (Sample, error) {
	best := res.bestDirect()
	if best.RPS == 0 {
		return Sample{}, fmt.Errorf("no throughput to halve")
	}
	rate := best.RPS / 2
	c := best.Concurrency
	per := 0
	if op.consumes {
		per = int(rate*h.cfg.Duration.Seconds()*1.2/float64(c)) + 50
	}
	src, err := op.prepare(ctx, h, h.stack.Functions[op.Function].URL, c, per)
	if err != nil {
		return Sample{}, err
	}
	client := newClient(c)
	defer client.CloseIdleConnections()
	closedLoop(ctx, client, c, min(h.cfg.Warmup, 300*time.Millisecond), op.Want, src)
	s := paced(ctx, client, c, rate, h.cfg.Duration, op.Want, src)
	h.say("%-13s half of peak (%.0f req/s, c=%d): p50 %.2f p99 %.2f ms, %d errors", op.Name, rate, c, s.P50ms, s.P99ms, s.Errors)
	return s, ctx.Err()
}

// ---- start-up and memory ---------------------------------------------------------------

func (h *harness) memoryAfterLoad() {
	for name, f := range h.stack.Functions {
		if pid := f.PID(); pid != 0 {
			rss, hwm, err := memory(pid)
			if err == nil {
				h.report.afterLoad = append(h.report.afterLoad, StartUp{Name: name, LoadRSSKiB: rss, LoadHWMKiB: hwm})
			}
		}
	}
}

func (h *harness) startUps(ctx context.Context) error {
	runs := h.cfg.ColdStartRuns
	h.say("cold starts: %d runs per program…", runs)
	idle := 500 * time.Millisecond
	if runs < 10 {
		idle = 200 * time.Millisecond
	}
	h.report.Minimal = coldStart(ctx, "minimal net/http", h.minimal, nil, runs, idle)
	if h.report.Minimal.Error != "" {
		return fmt.Errorf("the minimal server: %s", h.report.Minimal.Error)
	}
	var conn []time.Duration
	for range runs {
		t := time.Now()
		c, err := pgx.Connect(ctx, h.dbURL)
		if err != nil {
			return err
		}
		conn = append(conn, time.Since(t))
		_ = c.Close(ctx)
	}
	slices.Sort(conn)
	h.report.DBConnectMs = ms(conn[len(conn)/2])
	names := make([]string, 0, len(h.stack.Functions))
	for n := range h.stack.Functions {
		if len(h.cfg.ColdStartOnly) == 0 || slices.Contains(h.cfg.ColdStartOnly, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		f := h.stack.Functions[n]
		su := coldStart(ctx, n, f.Binary, f.Env(), runs, idle)
		for _, al := range h.report.afterLoad {
			if al.Name == n {
				su.LoadRSSKiB, su.LoadHWMKiB = al.LoadRSSKiB, al.LoadHWMKiB
			}
		}
		h.say("%-16s health %.1f ms, ready %.1f ms, idle RSS %.1f MiB, binary %.1f MiB%s", n, su.HealthMs, su.ReadyMs,
			float64(su.IdleRSSKiB)/1024, float64(su.BinaryBytes)/(1<<20), errNote(su.Error))
		h.report.StartUps = append(h.report.StartUps, su)
	}
	m := h.report.Minimal
	h.say("%-16s health %.1f ms, idle RSS %.1f MiB, binary %.1f MiB; one database connection %.1f ms", m.Name, m.HealthMs,
		float64(m.IdleRSSKiB)/1024, float64(m.BinaryBytes)/(1<<20), h.report.DBConnectMs)
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

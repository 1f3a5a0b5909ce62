package bench

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// For a missed throughput target, where PostgreSQL's own CPU goes — by function of
// PostgreSQL and of the kernel — when the function drives it and when pgbench runs the same
// statements, from `perf record -a` (sampling every CPU at perfFrequency), in µs per request.
// Only when perf is installed and may sample the whole machine (root, or
// kernel.perf_event_paranoid ≤ 0); otherwise the report says it was skipped.

const (
	perfFrequency = 999 // samples per second per CPU
	perfSeconds   = 3
)

// perfUsable says whether perf can record the whole machine here.
func perfUsable(ctx context.Context) bool {
	if _, err := exec.LookPath("perf"); err != nil {
		return false
	}
	return exec.CommandContext(ctx, "perf", "record", "-a", "-q", "-o", "/dev/null", "--", "true").Run() == nil
}

// perfRecord samples every CPU for perfSeconds into file.
func perfRecord(ctx context.Context, file string) error {
	out, err := exec.CommandContext(ctx, "perf", "record", "-a", "-q", "-F", strconv.Itoa(perfFrequency), "-o", file,
		"--", "sleep", strconv.Itoa(perfSeconds)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("perf record: %v: %s", err, truncate(string(out), 300))
	}
	return nil
}

// perfSamples is `perf report` of the postgres processes in file: samples by symbol.
func perfSamples(ctx context.Context, file string) (map[string]int, error) {
	out, err := exec.CommandContext(ctx, "perf", "report", "-i", file, "-n", "--comm", "postgres", "--sort", "sym", "--stdio").Output()
	if err != nil {
		return nil, fmt.Errorf("perf report: %v", err)
	}
	return parsePerfReport(string(out)), nil
}

// A line of `perf report -n --sort sym --stdio`: "     8.34%          1235  [k] _raw_spin_unlock_irqrestore".
var perfLine = regexp.MustCompile(`^\s*[\d.]+%\s+(\d+)\s+(\[[k.]\] .+?)\s*$`)

func parsePerfReport(out string) map[string]int {
	samples := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := perfLine.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[1])
			samples[m[2]] += n
		}
	}
	return samples
}

// perfPostgres records PostgreSQL under the function's load at c workers, then under
// pgbench's script at pc clients, and tabulates the two side by side.
func (h *harness) perfPostgres(ctx context.Context, op *operation, c, pc int) (Profile, error) {
	p := Profile{Function: "postgres", Reason: fmt.Sprintf("%s: PostgreSQL's CPU by symbol (perf), µs per request driven by %s (c=%d) and per pgbench transaction (c=%d)",
		op.Name, op.Function, c, pc)}
	if !perfUsable(ctx) {
		p.Top = []string{"skipped: perf is not installed or may not sample the whole machine (needs root or kernel.perf_event_paranoid ≤ 0)"}
		return p, nil
	}
	h.say("perf: PostgreSQL under %s and under pgbench…", op.Function)
	load := time.Duration(perfSeconds+2) * time.Second

	// Driven by the function.
	per := 0
	if op.consumes {
		per = budget(c, load, 8000, 4000)
	}
	src, err := op.prepare(ctx, h, h.stack.Functions[op.Function].URL, c, per)
	if err != nil {
		return p, err
	}
	if err := h.settle(ctx); err != nil {
		return p, err
	}
	client := newLoadClient(c)
	loaded := make(chan Sample, 1)
	go func() { loaded <- closedLoop(ctx, client, c, load, op.Want, src) }()
	time.Sleep(time.Second)
	fnFile := filepath.Join(h.work, "perf-"+op.Name+"-function.data")
	recErr := perfRecord(ctx, fnFile)
	s := <-loaded
	client.close()
	if recErr != nil {
		return p, recErr
	}

	// Driven by pgbench, running the script the ceiling runs.
	if h.cfg.Duration < time.Duration(perfSeconds+2)*time.Second {
		return p, fmt.Errorf("pgbench runs %s, too short to record %ds of it", h.cfg.Duration, perfSeconds)
	}
	sc, err := h.ceilingScript(ctx, op, h.traces[op.Name], pc, budget(pc, h.cfg.Duration, 15000, 6000))
	if err != nil {
		return p, err
	}
	if err := h.settle(ctx); err != nil {
		return p, err
	}
	ran := make(chan Ceiling, 1)
	go func() {
		res, _ := pgbench(ctx, filepath.Join(h.pgBin, "pgbench"), filepath.Join(h.work, "perf-"+op.Name+"-pgbench"), h.dbURL, sc, pc, h.cfg.Duration, h.meter)
		ran <- res
	}()
	time.Sleep(time.Second)
	pgbFile := filepath.Join(h.work, "perf-"+op.Name+"-pgbench.data")
	recErr = perfRecord(ctx, pgbFile)
	ceil := <-ran
	if recErr != nil {
		return p, recErr
	}
	if s.RPS <= 0 || ceil.TPS <= 0 {
		return p, fmt.Errorf("no load while recording: %.0f req/s, %.0f tps", s.RPS, ceil.TPS)
	}

	fnSamples, err := perfSamples(ctx, fnFile)
	if err != nil {
		return p, err
	}
	pgbSamples, err := perfSamples(ctx, pgbFile)
	if err != nil {
		return p, err
	}
	p.Files = []string{fnFile, pgbFile}
	p.Top = perfTable(fnSamples, pgbSamples, s.RPS*perfSeconds, ceil.TPS*perfSeconds, 20)
	return p, nil
}

// perfTable lists the symbols that cost the function's requests most, in µs per request
// against µs per pgbench transaction, after the totals of PostgreSQL's own code ([.]) and the
// kernel's ([k]).
func perfTable(fn, pgb map[string]int, fnRequests, pgbTransactions float64, n int) []string {
	us := func(samples int, per float64) float64 { return float64(samples) * 1e6 / perfFrequency / per }
	total := func(m map[string]int, prefix string) int {
		t := 0
		for sym, v := range m {
			if strings.HasPrefix(sym, prefix) {
				t += v
			}
		}
		return t
	}
	lines := []string{fmt.Sprintf("%10s %10s  %s", "function", "pgbench", "µs per request / transaction"),
		fmt.Sprintf("%10.1f %10.1f  all of PostgreSQL's own code and libraries [.]", us(total(fn, "[.]"), fnRequests), us(total(pgb, "[.]"), pgbTransactions)),
		fmt.Sprintf("%10.1f %10.1f  the kernel on PostgreSQL's behalf [k]", us(total(fn, "[k]"), fnRequests), us(total(pgb, "[k]"), pgbTransactions))}
	syms := make([]string, 0, len(fn))
	for sym := range fn {
		syms = append(syms, sym)
	}
	sort.Slice(syms, func(i, j int) bool {
		if fn[syms[i]] != fn[syms[j]] {
			return fn[syms[i]] > fn[syms[j]]
		}
		return syms[i] < syms[j]
	})
	for _, sym := range syms[:min(n, len(syms))] {
		lines = append(lines, fmt.Sprintf("%10.1f %10.1f  %s", us(fn[sym], fnRequests), us(pgb[sym], pgbTransactions), sym))
	}
	return lines
}

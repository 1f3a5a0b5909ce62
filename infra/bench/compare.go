package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Compare prints the differences between two runs: throughput and latency per operation,
// their share of the ceilings, round trips, start-up, memory and the micro-benchmarks.
// Differences beyond 10 % in the bad direction are marked "worse".
func Compare(old, cur *Report, w io.Writer) {
	fmt.Fprintf(w, "old: %s (%s, %d CPU)\nnew: %s (%s, %d CPU)\n", old.Date.Format("2006-01-02 15:04"), old.Machine.CPU, old.Machine.CPUs,
		cur.Date.Format("2006-01-02 15:04"), cur.Machine.CPU, cur.Machine.CPUs)
	if old.Machine.CPU != cur.Machine.CPU || old.Machine.CPUs != cur.Machine.CPUs || old.Settings.Duration != cur.Settings.Duration ||
		fmt.Sprint(old.Settings.Levels) != fmt.Sprint(cur.Settings.Levels) || old.Settings.Citizens != cur.Settings.Citizens {
		fmt.Fprintln(w, "note: the runs differ in machine or settings; compare the ratios (of pgbench, of the minimal server) rather than absolute numbers")
	}
	for _, r := range []struct {
		name string
		rep  *Report
	}{{"old", old}, {"new", cur}} {
		if n := r.rep.disturbed(); n > 0 {
			fmt.Fprintf(w, "note: %d measurements of the %s run were disturbed by another job on the machine (marked ~ in its table)\n", n, r.name)
		}
	}
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\nmeasure\told\tnew\tchange\t\t")
	row := func(name string, a, b float64, unit string, higherIsBetter bool) {
		if a == 0 && b == 0 {
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, num(a, unit), num(b, unit), change(a, b), verdict(a, b, higherIsBetter))
	}
	olds := map[string]OpResult{}
	for _, o := range old.Ops {
		olds[o.Name] = o
	}
	for _, n := range cur.Ops {
		o, ok := olds[n.Name]
		if !ok {
			fmt.Fprintf(tw, "%s\t(new)\t\t\t\t\n", n.Name)
			continue
		}
		od, nd := o.bestDirect(), n.bestDirect()
		row(n.Name+" best req/s", od.RPS, nd.RPS, "", true)
		row(n.Name+" % of pgbench", 100*o.Ratio(), 100*n.Ratio(), "%", true)
		row(n.Name+" pgbench tps", o.bestCeiling().TPS, n.bestCeiling().TPS, "", true)
		row(n.Name+" p99 at best (ms)", od.P99ms, nd.P99ms, "", false)
		if o.HalfPeak != nil && n.HalfPeak != nil && o.HalfPeak.P50ms > 0 && n.HalfPeak.P50ms > 0 {
			row(n.Name+" p99/p50 at half of peak", o.HalfPeak.P99ms/o.HalfPeak.P50ms, n.HalfPeak.P99ms/n.HalfPeak.P50ms, "", false)
		}
		row(n.Name+" gateway req/s", o.bestGateway().RPS, n.bestGateway().RPS, "", true)
		row(n.Name+" statements/request", od.Statements, nd.Statements, "", false)
		for i, s := range n.Direct {
			if i < len(o.Direct) && o.Direct[i].Concurrency == s.Concurrency {
				row(fmt.Sprintf("%s req/s at c=%d", n.Name, s.Concurrency), o.Direct[i].RPS, s.RPS, "", true)
			}
		}
	}
	row("bare net/http req/s", best(old.HTTPCeiling).RPS, best(cur.HTTPCeiling).RPS, "", true)
	row("minimal server start (ms)", old.Minimal.HealthMs, cur.Minimal.HealthMs, "", false)
	row("minimal server idle RSS (MiB)", float64(old.Minimal.IdleRSSKiB)/1024, float64(cur.Minimal.IdleRSSKiB)/1024, "", false)
	oldStarts := map[string]StartUp{}
	for _, s := range old.StartUps {
		oldStarts[s.Name] = s
	}
	for _, s := range cur.StartUps {
		if o, ok := oldStarts[s.Name]; ok {
			row(s.Name+" start (ms)", o.HealthMs, s.HealthMs, "", false)
			row(s.Name+" ready (ms)", o.ReadyMs, s.ReadyMs, "", false)
			row(s.Name+" idle RSS (MiB)", float64(o.IdleRSSKiB)/1024, float64(s.IdleRSSKiB)/1024, "", false)
			row(s.Name+" binary (MiB)", float64(o.BinaryBytes)/(1<<20), float64(s.BinaryBytes)/(1<<20), "", false)
		}
	}
	oldMicro := map[string]Micro{}
	for _, m := range old.Micro {
		oldMicro[m.Package+"."+m.Name] = m
	}
	for _, m := range cur.Micro {
		if o, ok := oldMicro[m.Package+"."+m.Name]; ok {
			row(m.Package+"."+m.Name+" ns/op", o.NsOp, m.NsOp, "", false)
			row(m.Package+"."+m.Name+" allocs/op", o.AllocsOp, m.AllocsOp, "", false)
		}
	}
	tw.Flush()
	oldTargets := map[string]bool{}
	for _, t := range old.Targets {
		oldTargets[t.Name] = t.Pass
	}
	for _, t := range cur.Targets {
		if was, ok := oldTargets[t.Name]; ok && was != t.Pass {
			state := "now met"
			if !t.Pass {
				state = "now MISSED"
			}
			fmt.Fprintf(w, "target %s: %s (%s)\n", t.Name, state, t.Got)
		}
	}
}

func num(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f%s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f%s", v, unit)
	}
	return fmt.Sprintf("%.2f%s", v, unit)
}

func change(a, b float64) string {
	if a == 0 {
		return ""
	}
	return fmt.Sprintf("%+.1f %%", 100*(b/a-1))
}

func verdict(a, b float64, higherIsBetter bool) string {
	if a == 0 {
		return ""
	}
	r := b / a
	if !higherIsBetter {
		r = a / b
	}
	switch {
	case r < 0.9:
		return "worse"
	case r > 1.1:
		return "better"
	}
	return ""
}

// disturbed counts the measurements another job disturbed.
func (r *Report) disturbed() int {
	n := 0
	for _, o := range r.Ops {
		for _, s := range append(append([]Sample{}, o.Direct...), o.Gateway...) {
			if s.Disturbed {
				n++
			}
		}
		for _, c := range o.Ceiling {
			if c.Disturbed {
				n++
			}
		}
		if o.HalfPeak != nil && o.HalfPeak.Disturbed {
			n++
		}
	}
	for _, s := range r.HTTPCeiling {
		if s.Disturbed {
			n++
		}
	}
	return n
}

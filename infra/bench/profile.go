package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jinlaiban/openplatform/shared/pgcluster"
)

// Profile is what a function that missed a target was doing: pprof files (open them with
// `go tool pprof -http=: FILE`) and the top of each.
type Profile struct {
	Function string   `json:"function"`
	Reason   string   `json:"reason"`
	Files    []string `json:"files"`
	Top      []string `json:"top"`
}

const profileSeconds = 5

// profileMisses profiles, for every missed target, the function concerned: CPU and
// allocations under load for a throughput or latency miss, the heap at idle for a start-up
// or memory miss. It uses another instance of the function with PPROF_ADDR set.
func (h *harness) profileMisses(ctx context.Context, ops []*operation) {
	done := map[string]bool{}
	for _, t := range h.report.Targets {
		if t.Pass {
			continue
		}
		switch t.Kind {
		case "throughput", "latency":
			if done["load/"+t.Subject] {
				continue
			}
			done["load/"+t.Subject] = true
			for i, op := range ops {
				if op.Name == t.Subject {
					res := h.report.Ops[i]
					p, err := h.profileLoad(ctx, op, res.bestDirect().Concurrency, t.Name)
					h.addProfile(p, err)
					if t.Kind == "throughput" {
						p, err := h.perfPostgres(ctx, op, res.bestDirect().Concurrency, res.bestCeiling().Clients)
						h.addProfile(p, err)
					}
				}
			}
		case "start", "ready", "memory":
			if done["idle/"+t.Subject] {
				continue
			}
			done["idle/"+t.Subject] = true
			p, err := h.profileIdle(ctx, t.Subject, t.Name)
			h.addProfile(p, err)
		}
	}
}

func (h *harness) addProfile(p Profile, err error) {
	if err != nil {
		p.Top = []string{"profiling failed: " + err.Error()}
	}
	h.report.Profiles = append(h.report.Profiles, p)
}

// profiledInstance starts another instance of a function with profiling on.
func (h *harness) profiledInstance(ctx context.Context, function string) (*instance, string, error) {
	f := h.stack.Functions[function]
	if f == nil {
		return nil, "", fmt.Errorf("no function %s", function)
	}
	port, err := pgcluster.FreePort()
	if err != nil {
		return nil, "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	inst, err := startInstance(f.Binary, append(f.Env(), "PPROF_ADDR="+addr), "")
	if err != nil {
		return nil, "", err
	}
	if _, err := inst.waitOK(ctx, "/_/ready", 20*time.Second); err != nil {
		inst.stop()
		return nil, "", err
	}
	return inst, "http://" + addr + "/debug/pprof/", nil
}

func (h *harness) profileLoad(ctx context.Context, op *operation, c int, reason string) (Profile, error) {
	p := Profile{Function: op.Function, Reason: reason + fmt.Sprintf(": CPU and allocations under load, c=%d", c)}
	h.say("profiling %s under load (c=%d)…", op.Function, c)
	inst, prof, err := h.profiledInstance(ctx, op.Function)
	if err != nil {
		return p, err
	}
	defer inst.stop()
	per := 0
	if op.consumes {
		per = budget(c, (profileSeconds+3)*time.Second, 8000, 4000)
	}
	src, err := op.prepare(ctx, h, inst.URL, c, per)
	if err != nil {
		return p, err
	}
	client := newLoadClient(c)
	defer client.close()
	loaded := make(chan Sample, 1)
	go func() { loaded <- closedLoop(ctx, client, c, (profileSeconds+2)*time.Second, op.Want, src) }()
	time.Sleep(time.Second)
	base := filepath.Join(h.work, "profile-"+op.Function)
	cpu, err := fetch(prof+fmt.Sprintf("profile?seconds=%d", profileSeconds), base+".cpu.pprof")
	if err != nil {
		return p, err
	}
	s := <-loaded
	allocs, err := fetch(prof+"allocs", base+".allocs.pprof")
	if err != nil {
		return p, err
	}
	p.Files = []string{cpu, allocs}
	p.Top = append(p.Top, fmt.Sprintf("load while profiling: %s", s))
	p.Top = append(p.Top, top(cpu, "", 25)...)
	p.Top = append(p.Top, top(allocs, "alloc_space", 15)...)
	return p, nil
}

func (h *harness) profileIdle(ctx context.Context, function, reason string) (Profile, error) {
	p := Profile{Function: function, Reason: reason + ": heap at idle"}
	inst, prof, err := h.profiledInstance(ctx, function)
	if err != nil {
		return p, err
	}
	defer inst.stop()
	time.Sleep(500 * time.Millisecond)
	heap, err := fetch(prof+"heap", filepath.Join(h.work, "profile-"+function+".heap.pprof"))
	if err != nil {
		return p, err
	}
	p.Files = []string{heap}
	p.Top = top(heap, "inuse_space", 15)
	return p, nil
}

func fetch(url, file string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return file, err
}

// top is `go tool pprof -top` of a profile, its first n entries.
func top(file, sampleIndex string, n int) []string {
	args := []string{"tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", n)}
	if sampleIndex != "" {
		args = append(args, "-sample_index="+sampleIndex)
	}
	out, err := exec.Command("go", append(args, file)...).CombinedOutput()
	if err != nil {
		return []string{"go tool pprof: " + err.Error()}
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") && sampleIndex == "" {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

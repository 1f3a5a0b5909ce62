package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jinlaiban/openplatform/shared/pgcluster"
)

// instance is a process of a function binary (or of the minimal server) that the harness
// started itself: for cold starts, tracing and profiling.
type instance struct {
	cmd   *exec.Cmd
	URL   string
	start time.Time
	done  chan struct{}
}

// startInstance runs binary with env on a free port; logs go to logFile ("" discards them).
func startInstance(binary string, env []string, logFile string) (*instance, error) {
	port, err := pgcluster.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary)
	cmd.Env = append(append(os.Environ(), env...), "PORT="+strconv.Itoa(port))
	out := io.Discard
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own descriptor
		out = f
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	i := &instance{cmd: cmd, URL: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	i.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(binary), err)
	}
	go func() {
		_ = cmd.Wait()
		close(i.done)
	}()
	return i, nil
}

var pollClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// waitOK polls path until it answers 200 and returns the time since the process started.
func (i *instance) waitOK(ctx context.Context, path string, limit time.Duration) (time.Duration, error) {
	return i.poll(ctx, path, limit, 5*time.Millisecond)
}

// poll is waitOK with a pause between tries. The cold starts poll without one (a refused
// connection returns at once): Go's timers sleep at least about a millisecond here, which
// would be the resolution of the figures otherwise.
func (i *instance) poll(ctx context.Context, path string, limit, pause time.Duration) (time.Duration, error) {
	deadline := i.start.Add(limit)
	for {
		resp, err := pollClient.Get(i.URL + path)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(i.start), nil
			}
		}
		select {
		case <-i.done:
			return 0, fmt.Errorf("%s exited before %s answered 200", filepath.Base(i.cmd.Path), path)
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: %s did not answer 200 within %v", filepath.Base(i.cmd.Path), path, limit)
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
}

func (i *instance) stop() {
	if i.cmd.Process == nil {
		return
	}
	_ = i.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-i.done:
	case <-time.After(10 * time.Second):
		_ = i.cmd.Process.Kill()
		<-i.done
	}
}

// memory reads a process's resident set size, its anonymous and file-backed parts, and its
// peak, from /proc, in KiB.
func memory(pid int) (m Memory, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			m.RSS = v
		case "VmHWM:":
			m.HWM = v
		case "RssAnon:":
			m.Anon = v
		case "RssFile:":
			m.File = v
		}
	}
	if m.RSS == 0 {
		return m, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return m, nil
}

// Memory is a process's resident memory in KiB: all of it, the anonymous part (heap,
// stacks), the file-backed part (the binary's pages it touched), and the peak.
type Memory struct {
	RSS, Anon, File, HWM int
}

// StartUp is a program's cold start, idle memory and size.
type StartUp struct {
	Name        string  `json:"name"`
	Runs        int     `json:"runs"`
	HealthMs    float64 `json:"health_ms"`          // median exec → first 200 on /_/health
	ReadyMs     float64 `json:"ready_ms"`           // median exec → first 200 on /_/ready
	HealthMinMs float64 `json:"health_min_ms"`      // fastest run
	IdleRSSKiB  int     `json:"idle_rss_kib"`       // median VmRSS half a second after ready (first 5 runs)
	IdleAnonKiB int     `json:"idle_rss_anon_kib"`  // its anonymous part (heap, stacks)
	IdleFileKiB int     `json:"idle_rss_file_kib"`  // its file-backed part (the binary's touched pages)
	LoadRSSKiB  int     `json:"rss_after_load_kib"` // the stack's instance after the benchmarks
	LoadHWMKiB  int     `json:"peak_rss_kib"`       // its VmHWM
	BinaryBytes int64   `json:"binary_bytes"`       // as the images are built (see releaseBuild)
	Error       string  `json:"error,omitempty"`    // a run that failed
	HealthAll   []int64 `json:"health_all_us,omitempty"`
}

// program is something to cold-start.
type program struct {
	name, binary string
	env          []string
}

// coldStarts starts every program `runs` times, interleaved (run 1 of each, then run 2 of
// each, …) so that they all meet the same conditions, and measures each start: exec → first
// 200 on /_/health, → first 200 on /_/ready, and, in the first runs, the memory after idle.
func coldStarts(ctx context.Context, progs []program, runs int, idle time.Duration) []StartUp {
	const rssRuns = 5 // idle memory hardly varies; waiting for it every run would only cost time
	out := make([]StartUp, len(progs))
	health := make([][]time.Duration, len(progs))
	ready := make([][]time.Duration, len(progs))
	mem := make([][]Memory, len(progs))
	for i, p := range progs {
		out[i] = StartUp{Name: p.name, Runs: runs}
		if st, err := os.Stat(p.binary); err == nil {
			out[i].BinaryBytes = st.Size()
		}
	}
	for run := range runs {
		for i, p := range progs {
			if out[i].Error != "" {
				continue
			}
			inst, err := startInstance(p.binary, p.env, "")
			if err != nil {
				out[i].Error = err.Error()
				continue
			}
			h, err := inst.poll(ctx, "/_/health", 20*time.Second, 0)
			var r time.Duration
			if err == nil {
				r, err = inst.poll(ctx, "/_/ready", 20*time.Second, 0)
			}
			if err == nil && run < rssRuns {
				time.Sleep(idle)
				var m Memory
				m, err = memory(inst.cmd.Process.Pid)
				mem[i] = append(mem[i], m)
			}
			inst.stop()
			if err != nil {
				out[i].Error = err.Error()
				continue
			}
			health[i], ready[i] = append(health[i], h), append(ready[i], r)
			out[i].HealthAll = append(out[i].HealthAll, h.Microseconds())
		}
	}
	for i := range progs {
		if out[i].Error != "" || len(health[i]) == 0 {
			continue
		}
		slices.Sort(health[i])
		slices.Sort(ready[i])
		out[i].HealthMs, out[i].ReadyMs, out[i].HealthMinMs = ms(health[i][len(health[i])/2]), ms(ready[i][len(ready[i])/2]), ms(health[i][0])
		out[i].IdleRSSKiB = median(mem[i], func(m Memory) int { return m.RSS })
		out[i].IdleAnonKiB = median(mem[i], func(m Memory) int { return m.Anon })
		out[i].IdleFileKiB = median(mem[i], func(m Memory) int { return m.File })
	}
	return out
}

func median(ms []Memory, f func(Memory) int) int {
	if len(ms) == 0 {
		return 0
	}
	v := make([]int, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

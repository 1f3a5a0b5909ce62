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
// It polls every 100µs: the resolution of the cold-start figures.
func (i *instance) waitOK(ctx context.Context, path string, limit time.Duration) (time.Duration, error) {
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
		time.Sleep(100 * time.Microsecond)
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

// memory reads a process's resident set size and its peak from /proc, in KiB.
func memory(pid int) (rss, hwm int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.Atoi(f[1])
		case "VmHWM:":
			hwm, _ = strconv.Atoi(f[1])
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return rss, hwm, nil
}

// StartUp is a program's cold start, idle memory and size.
type StartUp struct {
	Name        string  `json:"name"`
	Runs        int     `json:"runs"`
	HealthMs    float64 `json:"health_ms"`          // median exec → first 200 on /_/health
	ReadyMs     float64 `json:"ready_ms"`           // median exec → first 200 on /_/ready
	HealthMinMs float64 `json:"health_min_ms"`      // fastest run
	IdleRSSKiB  int     `json:"idle_rss_kib"`       // median VmRSS half a second after ready
	LoadRSSKiB  int     `json:"rss_after_load_kib"` // the stack's instance after the benchmarks
	LoadHWMKiB  int     `json:"peak_rss_kib"`       // its VmHWM
	BinaryBytes int64   `json:"binary_bytes"`       // the binary as built (CGO_ENABLED=0)
	Error       string  `json:"error,omitempty"`    // a run that failed
	HealthAll   []int64 `json:"health_all_us,omitempty"`
}

// coldStart starts binary `runs` times and measures each start.
func coldStart(ctx context.Context, name, binary string, env []string, runs int, idle time.Duration) StartUp {
	su := StartUp{Name: name, Runs: runs}
	if st, err := os.Stat(binary); err == nil {
		su.BinaryBytes = st.Size()
	}
	var health, ready []time.Duration
	var rss []int
	for range runs {
		inst, err := startInstance(binary, env, "")
		if err != nil {
			su.Error = err.Error()
			return su
		}
		h, err := inst.waitOK(ctx, "/_/health", 20*time.Second)
		var r time.Duration
		if err == nil {
			r, err = inst.waitOK(ctx, "/_/ready", 20*time.Second)
		}
		if err == nil {
			time.Sleep(idle)
			var kib int
			kib, _, err = memory(inst.cmd.Process.Pid)
			rss = append(rss, kib)
		}
		inst.stop()
		if err != nil {
			su.Error = err.Error()
			return su
		}
		health, ready = append(health, h), append(ready, r)
		su.HealthAll = append(su.HealthAll, h.Microseconds())
	}
	slices.Sort(health)
	slices.Sort(ready)
	slices.Sort(rss)
	su.HealthMs, su.ReadyMs, su.HealthMinMs = ms(health[len(health)/2]), ms(ready[len(ready)/2]), ms(health[0])
	su.IdleRSSKiB = rss[len(rss)/2]
	return su
}

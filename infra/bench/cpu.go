package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Where the CPU goes: the time the kernel accounts to each process (/proc/<pid>/stat, user
// plus system), read before and after a measurement. On a 2-CPU machine the function, the
// load generator and PostgreSQL share the same cores, so a request's cost is theirs summed.

// CPU is CPU time per request (or per pgbench transaction), in microseconds.
type CPU struct {
	Function   float64 `json:"function_us"`
	Client     float64 `json:"client_us"` // the load generator (this harness, with the gateway when it is used) or pgbench
	PostgreSQL float64 `json:"postgresql_us"`
	// Of PostgreSQL's time, what the kernel spent on its behalf (system time): sending and
	// receiving on sockets, and waking and being woken by the other end.
	PostgreSQLKernel float64 `json:"postgresql_kernel_us"`
	// Busy is the CPUs these processes kept busy over the measurement, of runtime.NumCPU();
	// Others is what everything else on the machine used meanwhile (another job on a shared
	// machine disturbs the measurement: compare runs where it is near 0).
	Busy   float64 `json:"busy_cpus"`
	Others float64 `json:"other_cpus"`
}

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procTimes returns a process's user+system time and its system time alone, and the same of
// its waited-for children.
func procTimes(pid int) (self, system, children, childrenSystem time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces
	if i < 0 {
		return 0, 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	// After the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
	if len(f) < 15 {
		return 0, 0, 0, 0, false
	}
	n := func(k int) time.Duration {
		v, _ := strconv.ParseInt(f[k-3], 10, 64)
		return time.Duration(v) * clockTick
	}
	return n(14) + n(15), n(15), n(16) + n(17), n(17), true
}

// cpuMeter reads the CPU time of the processes a measurement involves.
type cpuMeter struct {
	postmaster int // PostgreSQL's main process
}

func newCPUMeter(pgDataDir string) cpuMeter {
	b, err := os.ReadFile(filepath.Join(pgDataDir, "postmaster.pid"))
	if err != nil {
		return cpuMeter{}
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return cpuMeter{postmaster: pid}
}

type cpuSnapshot struct {
	at                         time.Time
	function, client, postgres time.Duration
	postgresKernel             time.Duration // of postgres: system time
	machine                    time.Duration // every CPU's non-idle time (/proc/stat)
}

// machineBusy is the machine's non-idle CPU time since boot.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 && i < 8 { // not idle, not iowait; not guest (counted in user already)
			busy += n
		}
	}
	return time.Duration(busy) * clockTick
}

// snapshot reads the function's (pid 0: none), this process's and PostgreSQL's times.
// PostgreSQL's is every live server process plus what the ones that exited used (the
// postmaster's children's times).
func (m cpuMeter) snapshot(function int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), machine: machineBusy()}
	if function != 0 {
		s.function, _, _, _, _ = procTimes(function)
	}
	s.client, _, _, _, _ = procTimes(os.Getpid())
	if m.postmaster == 0 {
		return s
	}
	own, sys, children, childrenSys, _ := procTimes(m.postmaster)
	s.postgres, s.postgresKernel = own+children, sys+childrenSys
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == m.postmaster {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// ppid is the fourth field; server processes are the postmaster's children.
		st := string(b)
		i := strings.LastIndexByte(st, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(st[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(m.postmaster) {
			continue
		}
		t, sys, _, _, _ := procTimes(pid)
		s.postgres += t
		s.postgresKernel += sys
	}
	return s
}

// perRequest turns two snapshots into CPU per request; extraClient adds a client process
// measured otherwise (pgbench).
func perRequest(a, b cpuSnapshot, requests int, extraClient time.Duration, cpus int) CPU {
	if requests <= 0 {
		return CPU{}
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(requests) }
	c := CPU{Function: us(b.function - a.function), Client: us(b.client - a.client + extraClient), PostgreSQL: us(b.postgres - a.postgres),
		PostgreSQLKernel: us(b.postgresKernel - a.postgresKernel)}
	if wall := b.at.Sub(a.at); wall > 0 {
		total := (b.function - a.function) + (b.client - a.client + extraClient) + (b.postgres - a.postgres)
		c.Busy = total.Seconds() / wall.Seconds()
		c.Others = max(0, (b.machine-a.machine-total).Seconds()/wall.Seconds())
	}
	return c
}

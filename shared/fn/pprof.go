package fn

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

// Profiling is opt-in: with PPROF_ADDR set (e.g. 127.0.0.1:6061) a function also serves Go
// profiles on that address, a separate listener from the API so the gateway never routes to
// it. Only loopback addresses are accepted: profiles show the program's internals and must
// not be reachable from the network. Off by default; `make bench` turns it on for the
// instance it profiles.
//
//	GET /debug/pprof/profile?seconds=N   CPU profile over N seconds (default 10, at most 60)
//	GET /debug/pprof/allocs              allocations since start (go tool pprof -sample_index=alloc_space)
//	GET /debug/pprof/heap                live heap
//	GET /debug/pprof/goroutine           goroutines
//
// The files are in the format `go tool pprof` reads.

// pprofHandler serves the profiles. It uses runtime/pprof directly rather than importing
// net/http/pprof, which would register itself on http.DefaultServeMux in every function.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		seconds := 10
		if v := r.URL.Query().Get("seconds"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 60 {
				http.Error(w, "seconds: want 1-60", http.StatusBadRequest)
				return
			}
			seconds = n
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, "a CPU profile is already running", http.StatusConflict)
			return
		}
		select {
		case <-time.After(time.Duration(seconds) * time.Second):
		case <-r.Context().Done():
		}
		pprof.StopCPUProfile()
	})
	mux.HandleFunc("GET /debug/pprof/{name}", func(w http.ResponseWriter, r *http.Request) {
		p := pprof.Lookup(r.PathValue("name"))
		if p == nil {
			http.Error(w, "no such profile", http.StatusNotFound)
			return
		}
		if p.Name() == "heap" || p.Name() == "allocs" {
			runtime.GC() // up-to-date statistics, as net/http/pprof's ?gc=1
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_ = p.WriteTo(w, 0)
	})
	return mux
}

// listenPprof opens the profiling listener when addr is set; nil when it is not.
func listenPprof(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("PPROF_ADDR: want host:port on the loopback interface, e.g. 127.0.0.1:6061 (%v)", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("PPROF_ADDR: %q is not a loopback address; profiles must not be reachable from the network", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PPROF_ADDR: cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// servePprof starts the profiling server when PPROF_ADDR is set, and returns what stops it.
func (rt *Runtime) servePprof() (stop func(), err error) {
	ln, err := listenPprof(rt.Settings.PprofAddr)
	if ln == nil || err != nil {
		return func() {}, err
	}
	srv := &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	rt.Log.Info("profiling", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

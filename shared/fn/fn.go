// Package fn is the runtime every function runs on: it reads PORT and the common settings,
// logs JSON, serves /_/health and /_/ready, puts the operation behind the common middleware,
// and drains in-flight requests on SIGTERM.
package fn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/config"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Settings are the runtime's own, common to every function.
type Settings struct {
	Port            int           `envconfig:"PORT" default:"8080"`
	LogLevel        slog.Level    `envconfig:"LOG_LEVEL" default:"info"`
	MaxBodyBytes    int64         `envconfig:"MAX_BODY_BYTES" default:"65536"`
	ReadTimeout     time.Duration `envconfig:"READ_TIMEOUT" default:"10s"`
	WriteTimeout    time.Duration `envconfig:"WRITE_TIMEOUT" default:"30s"`
	IdleTimeout     time.Duration `envconfig:"IDLE_TIMEOUT" default:"120s"`
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"20s"`
	PprofAddr       string        `envconfig:"PPROF_ADDR"` // opt-in Go profiles on a loopback address (pprof.go)
}

// Runtime is what a function's setup gets: its name, logger, settings, and ways to
// register what readiness depends on and what to close at shutdown.
type Runtime struct {
	Name     string
	Log      *slog.Logger
	Settings Settings
	checks   []func(context.Context) error
	closers  []func()
	draining atomic.Bool
}

// Setup builds a function's handler from its configuration.
type Setup func(ctx context.Context, rt *Runtime) (http.Handler, error)

// Load reads a function's own settings; see package config.
func (rt *Runtime) Load(spec any) error { return config.Load(spec) }

// DB opens the function's connection pool (lazily: no connection is made until the first
// query) and makes /_/ready depend on reaching the database.
func (rt *Runtime) DB() (*pgxpool.Pool, error) {
	var cfg db.Config
	if err := config.Load(&cfg); err != nil {
		return nil, err
	}
	pool, err := db.Open(cfg)
	if err != nil {
		return nil, err
	}
	rt.Ready(func(ctx context.Context) error { return pool.Ping(ctx) })
	rt.OnClose(pool.Close)
	return pool, nil
}

// Sealer builds the envelope-encryption sealer from SEAL_KEY (see package seal).
func (rt *Runtime) Sealer() (*seal.Sealer, error) {
	var cfg seal.Config
	if err := config.Load(&cfg); err != nil {
		return nil, err
	}
	return seal.New(cfg)
}

// Ready adds a readiness check.
func (rt *Runtime) Ready(check func(context.Context) error) { rt.checks = append(rt.checks, check) }

// OnClose adds something to release after the last request finished.
func (rt *Runtime) OnClose(f func()) { rt.closers = append(rt.closers, f) }

// Main runs a function until SIGTERM or SIGINT and exits the process.
func Main(name string, setup Setup) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Run(ctx, name, setup, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Run is Main without the process: it serves until ctx ends, then drains.
func Run(ctx context.Context, name string, setup Setup, logOut io.Writer) error {
	rt := &Runtime{Name: name}
	if err := config.Load(&rt.Settings); err != nil {
		return err
	}
	rt.Log = slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: rt.Settings.LogLevel})).With("function", name)
	slog.SetDefault(rt.Log)
	stopPprof, err := rt.servePprof()
	if err != nil {
		return err
	}
	defer stopPprof()
	handler, err := setup(ctx, rt)
	if err != nil {
		return err
	}
	defer func() {
		for i := len(rt.closers) - 1; i >= 0; i-- {
			rt.closers[i]()
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /_/health", func(w http.ResponseWriter, r *http.Request) {
		_ = JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /_/ready", rt.ready)
	mux.Handle("/", handler)

	srv := &http.Server{
		Addr:              fmt.Sprintf(":%d", rt.Settings.Port),
		Handler:           Wrap(mux, Options{Name: name, Logger: rt.Log, MaxBodyBytes: rt.Settings.MaxBodyBytes}),
		ReadTimeout:       rt.Settings.ReadTimeout,
		ReadHeaderTimeout: rt.Settings.ReadTimeout,
		WriteTimeout:      rt.Settings.WriteTimeout,
		IdleTimeout:       rt.Settings.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(rt.Log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("PORT: cannot listen on %s: %w", srv.Addr, err)
	}
	rt.Log.Info("listening", "port", rt.Settings.Port)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	rt.draining.Store(true)
	rt.Log.Info("draining", "timeout", rt.Settings.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), rt.Settings.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	rt.Log.Info("stopped")
	return nil
}

func (rt *Runtime) ready(w http.ResponseWriter, r *http.Request) {
	if rt.draining.Load() {
		WriteProblem(w, r, Errorf(http.StatusServiceUnavailable, CodeUnavailable, "Shutting down."))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for _, check := range rt.checks {
		if err := check(ctx); err != nil {
			Logger(ctx).Warn("not ready", "err", err.Error())
			p := Errorf(http.StatusServiceUnavailable, CodeUnavailable, "Not ready: the database cannot be reached.")
			p.RetryAfter = 2 * time.Second
			WriteProblem(w, r, p)
			return
		}
	}
	_ = JSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

package fn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/config"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// These tests set PORT and friends with t.Setenv, so they cannot run in parallel.

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// keepDefaultLogger undoes the slog.SetDefault that Run does.
func keepDefaultLogger(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
}

func waitHealthy(t *testing.T, client *http.Client, base string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("Run returned before serving: %v", err)
		default:
		}
		res, err := client.Get(base + "/_/health")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				if strings.TrimSpace(string(body)) != `{"status":"ok"}` {
					t.Fatalf("health body = %s", body)
				}
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("/_/health never answered 200")
}

func TestRunServesHealthReadinessAndDrainsOnShutdown(t *testing.T) {
	keepDefaultLogger(t)
	port := freePort(t)
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("LOG_LEVEL", "debug")
	t.Setenv("SHUTDOWN_TIMEOUT", "10s")

	var dbDown, closed atomic.Bool
	started, release := make(chan struct{}), make(chan struct{})
	setup := func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
		if rt.Name != "citizen-reports" || rt.Settings.Port != port || rt.Settings.ShutdownTimeout != 10*time.Second || rt.Log == nil {
			return nil, fmt.Errorf("runtime not set up: %+v", rt.Settings)
		}
		rt.Ready(func(ctx context.Context) error {
			if dbDown.Load() {
				return errors.New("dial tcp 10.0.0.5:5432: connection refused")
			}
			return nil
		})
		rt.OnClose(func() { closed.Store(true) })
		r := fn.NewRouter()
		r.Handle("GET /api/v1/reports", func(w http.ResponseWriter, r *http.Request) error {
			return fn.JSON(w, http.StatusOK, []string{"pothole"})
		})
		r.Handle("GET /api/v1/slow-report", func(w http.ResponseWriter, r *http.Request) error {
			close(started)
			<-release
			return fn.JSON(w, http.StatusOK, map[string]string{"report": "done"})
		})
		return r, nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- fn.Run(ctx, "citizen-reports", setup, logs) }()

	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHealthy(t, client, base, done)

	res, err := client.Get(base + "/_/ready")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ready"}` {
		t.Fatalf("/_/ready = %d %s, want 200 ready", res.StatusCode, body)
	}

	res, err = client.Get(base + "/api/v1/reports")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Request-Id") == "" {
		t.Fatalf("operation answered %d without the middleware", res.StatusCode)
	}

	res, err = client.Get(base + "/api/v1/unknown")
	if err != nil {
		t.Fatal(err)
	}
	readProblem(t, res, http.StatusNotFound, fn.CodeNotFound)
	res.Body.Close()

	dbDown.Store(true)
	res, err = client.Get(base + "/_/ready")
	if err != nil {
		t.Fatal(err)
	}
	readProblem(t, res, http.StatusServiceUnavailable, fn.CodeUnavailable)
	res.Body.Close()
	if res.Header.Get("Retry-After") == "" {
		t.Error("not-ready answer has no Retry-After")
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the failing check was not logged:\n%s", logs)
	}
	dbDown.Store(false)

	// A slow request is in flight when the platform asks the function to stop.
	slow := make(chan *http.Response, 1)
	slowErr := make(chan error, 1)
	go func() {
		res, err := client.Get(base + "/api/v1/slow-report")
		if err != nil {
			slowErr <- err
			return
		}
		slow <- res
	}()
	select {
	case <-started:
	case err := <-slowErr:
		t.Fatalf("slow request: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("slow request never reached the handler")
	}
	cancel()

	// New connections are refused while the old request drains...
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err != nil {
			refused = true
			break
		} else {
			c.Close()
		}
	}
	if !refused {
		t.Error("the listener stayed open after shutdown began")
	}
	// ...and Run waits for it.
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a request was still in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	if closed.Load() {
		t.Fatal("OnClose ran before the in-flight request finished")
	}

	close(release)
	select {
	case res := <-slow:
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"report":"done"}` {
			t.Fatalf("drained request = %d %s, want 200", res.StatusCode, body)
		}
	case err := <-slowErr:
		t.Fatalf("the in-flight request was cut off: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request never completed")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after a graceful drain", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
	if !closed.Load() {
		t.Error("OnClose did not run")
	}

	var listening, stopped bool
	for _, m := range logLines(t, logs.String()) {
		if m["function"] != "citizen-reports" {
			t.Errorf("log record without the function name: %v", m)
		}
		listening = listening || m["msg"] == "listening" && m["port"] == float64(port)
		stopped = stopped || m["msg"] == "stopped"
	}
	if !listening || !stopped {
		t.Errorf("missing listening/stopped records:\n%s", logs)
	}
}

func TestRunRejectsABadPortSetting(t *testing.T) {
	keepDefaultLogger(t)
	t.Setenv("PORT", "abc")
	called := false
	err := fn.Run(context.Background(), "citizen-reports", func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
		called = true
		return http.NotFoundHandler(), nil
	}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORT") || !strings.Contains(err.Error(), "abc") {
		t.Fatalf("Run = %v, want an error naming PORT and its value", err)
	}
	if called {
		t.Error("setup ran despite a bad setting")
	}
}

func TestRunRejectsOtherBadSettingsByName(t *testing.T) {
	keepDefaultLogger(t)
	for name, value := range map[string]string{
		"LOG_LEVEL":        "chatty",
		"MAX_BODY_BYTES":   "64k",
		"SHUTDOWN_TIMEOUT": "20",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("PORT", strconv.Itoa(freePort(t)))
			t.Setenv(name, value)
			err := fn.Run(context.Background(), "citizen-reports", func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
				return http.NotFoundHandler(), nil
			}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("Run = %v, want an error naming %s", err, name)
			}
		})
	}
}

func TestRunReportsAPortInUse(t *testing.T) {
	keepDefaultLogger(t)
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("PORT", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	var closed bool
	err = fn.Run(context.Background(), "citizen-reports", func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
		rt.OnClose(func() { closed = true })
		return http.NotFoundHandler(), nil
	}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("Run = %v, want an error naming PORT", err)
	}
	if !closed {
		t.Error("what setup opened was not closed")
	}
}

func TestRunReturnsTheSetupError(t *testing.T) {
	keepDefaultLogger(t)
	t.Setenv("PORT", strconv.Itoa(freePort(t)))
	want := errors.New("DATABASE_URL: required, not set")
	err := fn.Run(context.Background(), "citizen-reports", func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
		return nil, want
	}, io.Discard)
	if !errors.Is(err, want) {
		t.Fatalf("Run = %v, want the setup error", err)
	}
}

// noMountedSecrets points the OpenFaaS secret mount at an empty directory.
func noMountedSecrets(t *testing.T) {
	old := config.SecretsDir
	config.SecretsDir = t.TempDir()
	t.Cleanup(func() { config.SecretsDir = old })
}

func TestRuntimeDBNeedsADatabaseURL(t *testing.T) {
	keepDefaultLogger(t)
	noMountedSecrets(t)
	t.Setenv("PORT", strconv.Itoa(freePort(t)))
	t.Setenv("DATABASE_URL", "")
	t.Setenv("DATABASE_URL_FILE", "")
	err := fn.Run(context.Background(), "citizen-reports", func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
		_, err := rt.DB()
		return nil, err
	}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("Run = %v, want an error naming DATABASE_URL", err)
	}
}

func TestRuntimeDBMakesReadinessDependOnTheDatabase(t *testing.T) {
	keepDefaultLogger(t)
	noMountedSecrets(t)
	port := freePort(t)
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("DATABASE_URL", fmt.Sprintf("postgres://citizen:pw@127.0.0.1:%d/openplatform?sslmode=disable", freePort(t)))
	t.Setenv("DB_CONNECT_TIMEOUT", "1s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- fn.Run(ctx, "citizen-reports", func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
			if _, err := rt.DB(); err != nil { // lazy: opening does not connect
				return nil, err
			}
			return fn.NewRouter(), nil
		}, io.Discard)
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHealthy(t, client, base, done)
	res, err := client.Get(base + "/_/ready")
	if err != nil {
		t.Fatal(err)
	}
	readProblem(t, res, http.StatusServiceUnavailable, fn.CodeUnavailable)
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestRuntimeSealerReadsSEALKEY(t *testing.T) {
	keepDefaultLogger(t)
	noMountedSecrets(t)
	t.Setenv("PORT", "abc") // Sealer is tried outside Run: only its own settings matter
	rt := &fn.Runtime{}
	t.Setenv("SEAL_KEY", "")
	if _, err := rt.Sealer(); err == nil || !strings.Contains(err.Error(), "SEAL_KEY") {
		t.Fatalf("Sealer without a key = %v, want an error naming SEAL_KEY", err)
	}
	t.Setenv("SEAL_KEY", seal.NewKey())
	s, err := rt.Sealer()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.OpenString("test", s.SealString("test", "hello")); err != nil || got != "hello" {
		t.Fatalf("round trip = %q, %v", got, err)
	}
}

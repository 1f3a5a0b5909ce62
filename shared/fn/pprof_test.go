package fn_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
)

// runWithPprof runs a function with PPROF_ADDR set as given and returns its API base URL and
// a channel with Run's result; the function stops when the test ends.
func runWithPprof(t *testing.T, pprofAddr string) (string, <-chan error) {
	t.Helper()
	keepDefaultLogger(t)
	port := freePort(t)
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("PPROF_ADDR", pprofAddr)
	setup := func(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
		r := fn.NewRouter()
		r.Handle("GET /api/v1/ping", func(w http.ResponseWriter, r *http.Request) error {
			return fn.JSON(w, http.StatusOK, "pong")
		})
		return r, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(finished)
		done <- fn.Run(ctx, "profiled", setup, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return fmt.Sprintf("http://127.0.0.1:%d", port), done
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestPprofServesProfilesOnItsOwnLoopbackListenerWhenAsked(t *testing.T) {
	pprofPort := freePort(t)
	base, done := runWithPprof(t, fmt.Sprintf("127.0.0.1:%d", pprofPort))
	waitHealthy(t, http.DefaultClient, base, done)
	prof := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", pprofPort)

	gzipMagic := []byte{0x1f, 0x8b} // profiles are gzipped protocol buffers
	for _, name := range []string{"allocs", "heap", "goroutine"} {
		status, body := get(t, prof+name)
		if status != http.StatusOK || !bytes.HasPrefix(body, gzipMagic) {
			t.Errorf("%s: status %d, %d bytes starting %q; want 200 and a gzipped profile", name, status, len(body), body[:min(len(body), 8)])
		}
	}
	start := time.Now()
	status, body := get(t, prof+"profile?seconds=1")
	if status != http.StatusOK || !bytes.HasPrefix(body, gzipMagic) {
		t.Errorf("profile: status %d, %d bytes; want 200 and a gzipped profile", status, len(body))
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("a 1-second CPU profile came back after %v", took)
	}
	if status, _ := get(t, prof+"profile?seconds=600"); status != http.StatusBadRequest {
		t.Errorf("profile?seconds=600: status %d, want 400", status)
	}
	if status, _ := get(t, prof+"no-such-profile"); status != http.StatusNotFound {
		t.Errorf("unknown profile: status %d, want 404", status)
	}
	// The API port does not serve profiles.
	if status, _ := get(t, base+"/debug/pprof/allocs"); status != http.StatusNotFound {
		t.Errorf("the API port answered /debug/pprof/allocs with %d, want 404", status)
	}
}

func TestPprofIsOffByDefault(t *testing.T) {
	base, done := runWithPprof(t, "")
	waitHealthy(t, http.DefaultClient, base, done)
	if status, _ := get(t, base+"/debug/pprof/allocs"); status != http.StatusNotFound {
		t.Errorf("/debug/pprof/allocs answered %d without PPROF_ADDR, want 404", status)
	}
}

func TestPprofRefusesAddressesOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6061", ":6061", "10.1.2.3:6061", "example.com:6061", "6061"} {
		t.Run(addr, func(t *testing.T) {
			_, done := runWithPprof(t, addr)
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "PPROF_ADDR") {
					t.Fatalf("Run = %v, want an error naming PPROF_ADDR", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run kept going with a non-loopback PPROF_ADDR")
			}
		})
	}
}

// Package e2e is the end-to-end story: the real function binaries behind the gateway,
// on a real PostgreSQL, driven over HTTP as vendors, administrators and citizens would.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/infra/devstack/stack"
)

var platform *stack.Stack

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	data, err := os.MkdirTemp("", "jlb-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(data)
	_ = os.Chmod(data, 0o755) // PostgreSQL may run as another user
	// Event delivery at test speed: PingSources every second, broker backoffs a twentieth of
	// the Triggers' (retry 10 from 1s: about 50 seconds in all).
	platform, err = stack.Start(context.Background(), stack.Options{Root: root, DataDir: data, Log: os.Stderr,
		PingInterval: time.Second, BrokerBackoffScale: 0.05})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot start the platform:", err)
		return 1
	}
	defer platform.Stop()
	return m.Run()
}

func repoRoot() (string, error) {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("e2e: no go.work above the working directory")
		}
		dir = parent
	}
}

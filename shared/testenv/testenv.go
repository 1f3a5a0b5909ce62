// Package testenv gives tests real infrastructure: a PostgreSQL server (TEST_DATABASE_URL, or
// a throwaway cluster started from the machine's binaries) and a fresh, migrated database per
// test, cloned from a template so tests run in parallel and leave nothing behind.
//
// A package that uses it runs its tests through Main:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/migrations"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
	"github.com/jinlaiban/openplatform/shared/objstore/locals3"
	"github.com/jinlaiban/openplatform/shared/pgcluster"
	"github.com/jinlaiban/openplatform/shared/seal"
)

var (
	serverURL    string // a URL of the server's "postgres" database
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Main runs the package's tests against TEST_DATABASE_URL or a throwaway cluster, and exits.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		serverURL = u
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "jlb-testpg-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	_ = os.Chmod(dir, 0o755) // the server may run as another user
	cluster, err := pgcluster.New(pgcluster.Options{Dir: filepath.Join(dir, "pg")})
	if err == nil {
		err = cluster.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: cannot start PostgreSQL:", err)
		_ = os.RemoveAll(dir)
		return 1
	}
	serverURL = cluster.URL("postgres")
	code := m.Run()
	_ = cluster.Destroy()
	_ = os.RemoveAll(dir)
	return code
}

// ServerURL is the URL of the test server's maintenance database.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	if serverURL == "" {
		tb.Fatal("testenv: no server; run the package's tests through testenv.Main (TestMain)")
	}
	return serverURL
}

// DatabaseURL creates a fresh migrated database for this test and returns its URL.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	base := ServerURL(tb)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx, base) })
	if templateErr != nil {
		tb.Fatalf("testenv: template database: %v", templateErr)
	}
	name := "t_" + randomHex(8)
	if err := exec(ctx, base, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName)); err != nil {
		tb.Fatalf("testenv: create database: %v", err)
	}
	tb.Cleanup(func() {
		_ = exec(context.Background(), base, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return WithDatabase(base, name)
}

// Pool opens a pool on a fresh migrated database, closed when the test ends.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), DatabaseURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// Sealer returns a Sealer with a fresh random key.
func Sealer(tb testing.TB) *seal.Sealer {
	tb.Helper()
	s, err := seal.New(seal.Config{Key: seal.NewKey()})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// WithDatabase returns u with its database name replaced.
func WithDatabase(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	parsed.Path = "/" + name
	return parsed.String()
}

// ensureTemplate builds the migrated template once per schema, safely across the parallel
// test processes of one `go test ./...` run sharing a server.
func ensureTemplate(ctx context.Context, base string) (string, error) {
	name := "tmpl_" + migrations.Fingerprint()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(727374)`); err != nil {
		return "", err
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(727374)`) //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	for _, stmt := range []string{
		`DROP DATABASE IF EXISTS ` + building + ` WITH (FORCE)`,
		`CREATE DATABASE ` + building,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", err
		}
	}
	if err := migrations.Apply(ctx, WithDatabase(base, building), nil); err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

func exec(ctx context.Context, u, sql string) error {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Store returns a bucket on an in-process S3-compatible server, for this test alone.
func Store(tb testing.TB) *bucket.Store {
	tb.Helper()
	srv := httptest.NewServer(locals3.Memory())
	tb.Cleanup(srv.Close)
	s, err := bucket.New(objstore.Config{Endpoint: srv.URL, Bucket: "test-" + randomHex(4), AccessKeyID: "test", SecretKey: "test"})
	if err != nil {
		tb.Fatalf("testenv: store: %v", err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		tb.Fatalf("testenv: bucket: %v", err)
	}
	return s
}

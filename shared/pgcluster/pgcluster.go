// Package pgcluster runs a throwaway PostgreSQL server from the machine's own binaries, for
// tests, the local stack and benchmarks. It finds the binaries under
// /usr/lib/postgresql/*/bin or on PATH. When run as root it runs the server as the
// "postgres" (or "nobody") user, since PostgreSQL refuses to run as root.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options shape a cluster.
type Options struct {
	Dir     string   // data lives in Dir/data; created if missing, kept if present
	Port    int      // 0 picks a free port
	Durable bool     // false turns off fsync: fast, and fine for data nobody keeps
	Params  []string // extra "name=value" server settings
}

// Cluster is a running (or stopped) server.
type Cluster struct {
	opts  Options
	bin   string
	cred  *syscall.Credential
	owner *user.User
}

// ErrNoBinaries means PostgreSQL is not installed; `make tools` installs it.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin or on PATH (Debian: apt-get install postgresql)")

// FindBinaries returns the directory holding initdb and postgres, newest version first.
func FindBinaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			d := filepath.Dir(real)
			if isExec(filepath.Join(d, "postgres")) {
				return d, nil
			}
		}
	}
	return "", ErrNoBinaries
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// New prepares a cluster in opts.Dir, running initdb the first time.
func New(opts Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, bin: bin}
	if os.Geteuid() == 0 {
		if err := c.dropPrivileges(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(opts.Dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return c, nil
	}
	out, err := c.command("initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-instructions").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return c, nil
}

func (c *Cluster) dropPrivileges() error {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		c.owner = u
		return nil
	}
	return errors.New("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as")
}

func (c *Cluster) dataDir() string { return filepath.Join(c.opts.Dir, "data") }

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		cmd.Dir = "/"
	}
	return cmd
}

// Port is the TCP port the server listens on (after Start).
func (c *Cluster) Port() int { return c.opts.Port }

// URL is a connection string for database name on this server.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.opts.Port, database)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start(ctx context.Context) error {
	if c.opts.Port == 0 {
		p, err := FreePort()
		if err != nil {
			return err
		}
		c.opts.Port = p
	}
	settings := []string{
		"listen_addresses=127.0.0.1",
		"port=" + strconv.Itoa(c.opts.Port),
		"unix_socket_directories=",
		"max_connections=200",
		"shared_buffers=128MB",
	}
	if !c.opts.Durable {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	}
	settings = append(settings, c.opts.Params...)
	var opts []string
	for _, s := range settings {
		opts = append(opts, "-c "+quoteOpt(s))
	}
	logFile := filepath.Join(c.opts.Dir, "server.log")
	out, err := c.command("pg_ctl", "-D", c.dataDir(), "-l", logFile, "-w", "-t", "60",
		"-o", strings.Join(opts, " "), "start").CombinedOutput()
	if err != nil {
		tail, _ := os.ReadFile(logFile)
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, strings.TrimSpace(string(out)), lastLines(string(tail), 10))
	}
	return c.waitReady(ctx)
}

func quoteOpt(s string) string {
	if strings.ContainsAny(s, " '") || strings.HasSuffix(s, "=") {
		name, val, _ := strings.Cut(s, "=")
		return name + "='" + strings.ReplaceAll(val, "'", `\'`) + "'"
	}
	return s
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server did not accept connections: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops the server (fast shutdown: open sessions are ended, data is kept).
func (c *Cluster) Stop() error {
	out, err := c.command("pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Is server running?") {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Destroy stops the server and removes its files.
func (c *Cluster) Destroy() error {
	err := c.Stop()
	if rmErr := os.RemoveAll(c.opts.Dir); err == nil {
		err = rmErr
	}
	return err
}

// FreePort asks the kernel for a free TCP port on the loopback interface.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Dump returns a plain-SQL dump of a database (schema and data), for tests that check what
// is stored at rest.
func (c *Cluster) Dump(database string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, "pg_dump"), "--no-owner", c.URL(database))
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("pg_dump: %w", err)
	}
	return out, nil
}

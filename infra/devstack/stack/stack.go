// Package stack runs the whole platform on one machine: PostgreSQL (a throwaway cluster
// under the data folder, or DATABASE_URL), the migrate job, every function built from the
// workspace and run as its own process on its own port, and the gateway in front of them.
// `make dev` and the end-to-end tests both start the platform through it.
package stack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/jinlaiban/openplatform/infra/devstack/gateway"
	"github.com/jinlaiban/openplatform/infra/devstack/samplevendor"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/pgcluster"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// oneShot functions are jobs run to completion, not servers.
var oneShot = map[string]bool{"migrate": true}

// Options shape a stack.
type Options struct {
	Root         string            // the repository (holds go.work)
	DataDir      string            // everything the stack keeps: database, secrets, logs, binaries
	GatewayAddr  string            // e.g. "127.0.0.1:8080"; port 0 picks a free one
	FunctionPort int               // first function port; 0 picks free ports
	DatabaseURL  string            // use this database instead of a throwaway cluster
	S3Endpoint   string            // use this S3-compatible store instead of the in-process one
	Durable      bool              // fsync the throwaway cluster (keep it for make dev)
	AdminLogin   string            // the seeded administrator (default "admin")
	Env          map[string]string // extra environment for every function
	Log          io.Writer         // the stack's own messages
	// Event delivery (broker.go, scheduler.go): the broker's backoff delays are multiplied by
	// BrokerBackoffScale (default 1; tests shrink them), the PingSources fire every
	// PingInterval (default one minute; negative: never).
	BrokerBackoffScale float64
	PingInterval       time.Duration
}

// Stack is a running platform.
type Stack struct {
	opts          Options
	Cluster       *pgcluster.Cluster // nil when DatabaseURL was given
	DatabaseURL   string
	GatewayURL    string
	Functions     map[string]*Function
	AdminLogin    string
	AdminPassword string // set only when the administrator was created by this start
	LogDir        string
	S3            objstore.Config // the object store the functions use
	SampleVendor  string          // the sample vendor service's address
	gateway       *http.Server
	s3            *http.Server
	vendor        *http.Server
	Broker        *Broker    // plays the Knative Broker and its Triggers (broker.go)
	Scheduler     *Scheduler // plays the PingSources (scheduler.go)
	eventing      *Eventing
}

// Function is one running function process.
type Function struct {
	Name    string
	URL     string
	Binary  string
	LogFile string
	cmd     *exec.Cmd
	done    chan struct{}
	env     []string
	logFrom int64 // the log's size when this process started: its own lines follow
}

// Start brings the platform up; Stop takes it down. On error everything started is stopped.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	if o.AdminLogin == "" {
		o.AdminLogin = "admin"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	s = &Stack{opts: o, Functions: map[string]*Function{}, AdminLogin: o.AdminLogin, LogDir: filepath.Join(o.DataDir, "logs")}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	for _, d := range []string{s.LogDir, s.binDir(), s.secretDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := s.startDatabase(ctx); err != nil {
		return s, fmt.Errorf("database: %w", err)
	}
	if err := s.startObjectStore(ctx); err != nil {
		return s, fmt.Errorf("object store: %w", err)
	}
	names, err := functionNames(o.Root)
	if err != nil {
		return s, err
	}
	s.say("building %d functions…", len(names))
	if err := s.build(ctx, names); err != nil {
		return s, err
	}
	keyFile, err := s.sealKey()
	if err != nil {
		return s, err
	}
	// The development stack admits http://localhost service addresses (the sample vendor
	// service runs there); a real deployment never sets ALLOW_HTTP_LOCALHOST.
	superAppFile, err := s.secretFile("superapp-token", func() string { return auth.NewToken("superapp_") })
	if err != nil {
		return s, err
	}
	// Development settings: http://localhost service addresses, simulator citizens signing in
	// with codes from the development SMS provider. A real deployment sets none of these.
	common := append([]string{"DATABASE_URL=" + s.DatabaseURL, "SEAL_KEY_FILE=" + keyFile, "TRUSTED_PROXY_HOPS=1",
		"LOG_LEVEL=info", "ALLOW_HTTP_LOCALHOST=true", "SUPERAPP_TOKEN_FILE=" + superAppFile, "CITIZEN_SIGNIN_ENABLED=true",
		"SMS_PROVIDER=dev"}, s.s3Env()...)
	for _, k := range sortedKeys(o.Env) {
		common = append(common, k+"="+o.Env[k])
	}
	if err := s.migrate(ctx, common); err != nil {
		return s, err
	}
	if err := s.seedCitizens(ctx, keyFile); err != nil {
		return s, fmt.Errorf("seeding citizens: %w", err)
	}
	if err := s.startEvents(); err != nil {
		return s, err
	}
	port := o.FunctionPort
	taken := map[int]bool{}
	for _, name := range names {
		if oneShot[name] {
			continue
		}
		p := port
		if p == 0 {
			// A free port, and not one already handed to another function: the kernel may
			// give the same free port twice in a row.
			for p == 0 || taken[p] {
				if p, err = pgcluster.FreePort(); err != nil {
					return s, err
				}
			}
			taken[p] = true
		} else {
			port++
		}
		s.Functions[name] = &Function{Name: name, URL: fmt.Sprintf("http://127.0.0.1:%d", p), Binary: filepath.Join(s.binDir(), name),
			LogFile: filepath.Join(s.LogDir, name+".log"), env: []string{fmt.Sprintf("PORT=%d", p)}}
	}
	for _, name := range names { // every address is known now: functions can be told each other's
		if f := s.Functions[name]; f != nil {
			f.env = append(append(f.env, s.eventEnv(name)...), common...)
			if err := f.start(); err != nil {
				return s, err
			}
		}
	}
	for _, f := range s.Functions {
		if err := waitReady(ctx, f); err != nil {
			return s, err
		}
	}
	if err := s.startGateway(); err != nil {
		return s, err
	}
	if err := s.startSampleVendor(); err != nil {
		return s, err
	}
	s.startScheduler()
	return s, nil
}

func (s *Stack) say(format string, args ...any) { fmt.Fprintf(s.opts.Log, format+"\n", args...) }
func (s *Stack) binDir() string                 { return filepath.Join(s.opts.DataDir, "bin") }
func (s *Stack) secretDir() string              { return filepath.Join(s.opts.DataDir, "secrets") }

func (s *Stack) startDatabase(ctx context.Context) error {
	if s.opts.DatabaseURL != "" {
		s.DatabaseURL = s.opts.DatabaseURL
		return nil
	}
	c, err := pgcluster.New(pgcluster.Options{Dir: filepath.Join(s.opts.DataDir, "pg"), Durable: s.opts.Durable})
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	s.Cluster = c
	s.DatabaseURL = c.URL("postgres")
	return nil
}

// functionNames lists the function modules under functions/.
func functionNames(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "functions", e.Name(), "go.mod")); err == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (s *Stack) build(ctx context.Context, names []string) error {
	args := []string{"build", "-o", s.binDir() + string(os.PathSeparator)}
	for _, n := range names {
		args = append(args, "./functions/"+n)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.opts.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// sealKey returns the file holding the stack's encryption key, made on first start and kept
// with the data (the data is unreadable without it).
func (s *Stack) sealKey() (string, error) { return s.secretFile("seal-key", seal.NewKey) }

// secretFile returns the path of a secret kept with the data, made by newValue the first time.
func (s *Stack) secretFile(name string, newValue func() string) (string, error) {
	path := filepath.Join(s.secretDir(), name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(path, []byte(newValue()+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return path, nil
}

// SuperAppToken is the super-app backend's credential for sso-ticket in this stack.
func (s *Stack) SuperAppToken() string {
	b, _ := os.ReadFile(filepath.Join(s.secretDir(), "superapp-token"))
	return strings.TrimSpace(string(b))
}

// migrate runs the migrate job, which also seeds the administrator when there is none.
func (s *Stack) migrate(ctx context.Context, env []string) error {
	password := auth.NewPassword()
	pwFile := filepath.Join(s.secretDir(), "bootstrap-admin-password")
	if err := os.WriteFile(pwFile, []byte(password), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwFile)
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir(), "migrate"))
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "BOOTSTRAP_ADMIN_LOGIN="+s.AdminLogin, "BOOTSTRAP_ADMIN_PASSWORD_FILE="+pwFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("migrate: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "migrate: created administrator") {
			s.AdminPassword = password
		}
	}
	return nil
}

func (f *Function) start() error {
	logFile, err := os.OpenFile(f.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if st, err := logFile.Stat(); err == nil {
		f.logFrom = st.Size()
	}
	f.cmd = exec.Command(f.Binary)
	f.cmd.Env = append(os.Environ(), f.env...)
	f.cmd.Stdout, f.cmd.Stderr = logFile, logFile
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches the stack, which stops functions in order
	if err := f.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	f.done = make(chan struct{})
	go func() {
		_ = f.cmd.Wait()
		logFile.Close()
		close(f.done)
	}()
	return nil
}

// listening reports whether this process has logged that it listens on its port.
func (f *Function) listening() bool {
	b, err := os.ReadFile(f.LogFile)
	if err != nil || int64(len(b)) < f.logFrom {
		return false
	}
	return bytes.Contains(b[f.logFrom:], []byte(`"msg":"listening"`))
}

// Exited reports whether the function's process has ended.
func (f *Function) Exited() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

func (f *Function) stop() {
	if f.cmd == nil || f.cmd.Process == nil {
		return
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(15 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
}

// waitReady waits until the function answers ready on its address — and it is this process
// that answers: it must have logged that it listens (another program that took the port
// first would otherwise pass for it).
func waitReady(ctx context.Context, f *Function) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(f.URL + "/_/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && f.listening() {
				return nil
			}
		}
		if f.Exited() || time.Now().After(deadline) {
			tail, _ := os.ReadFile(f.LogFile)
			return fmt.Errorf("%s did not become ready; its log ends:\n%s", f.Name, lastLines(string(tail), 15))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Stack) startGateway() error {
	table, err := gateway.LoadTable(filepath.Join(s.opts.Root, "infra", "gateway", "routes.yaml"))
	if err != nil {
		return err
	}
	upstream := map[string]*url.URL{}
	for _, name := range table.Functions() {
		f, ok := s.Functions[name]
		if !ok {
			return fmt.Errorf("route table names function %q, which does not exist under functions/", name)
		}
		upstream[name], _ = url.Parse(f.URL)
	}
	addr := s.opts.GatewayAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(s.opts.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.gateway = &http.Server{Handler: gateway.New(table, upstream, log), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.gateway.Serve(ln) }()
	s.GatewayURL = "http://" + ln.Addr().String()
	return nil
}

// Stop stops the gateway, the functions (draining them), then the database.
func (s *Stack) Stop() {
	if s.gateway != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.gateway.Shutdown(ctx)
		cancel()
	}
	s.stopEvents()
	for _, f := range s.Functions {
		f.stop()
	}
	for _, srv := range []*http.Server{s.vendor, s.s3} {
		if srv != nil {
			_ = srv.Close()
		}
	}
	if s.Cluster != nil {
		if err := s.Cluster.Stop(); err != nil {
			s.say("stopping PostgreSQL: %v", err)
		}
	}
}

// startSampleVendor serves the sample vendor service, which calls the platform through the
// gateway like a vendor's backend would.
func (s *Stack) startSampleVendor() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.vendor = &http.Server{Handler: samplevendor.New(s.GatewayURL).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.vendor.Serve(ln) }()
	s.SampleVendor = "http://" + ln.Addr().String()
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Command devstack runs the whole platform locally (`make dev`): PostgreSQL, migrations,
// every function as its own process, and the gateway on one port. Ctrl-C stops it; the data
// stays in .devstack until `make dev-reset`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/jinlaiban/openplatform/infra/devstack/stack"
)

func main() {
	root := flag.String("root", ".", "the repository (holds go.work)")
	data := flag.String("data", "", "where the stack keeps its data (default <root>/.devstack)")
	addr := flag.String("addr", envOr("DEV_ADDR", "127.0.0.1:8080"), "gateway address (env DEV_ADDR)")
	port := flag.Int("function-port", 8101, "first function port; the rest follow")
	flag.Parse()
	if *data == "" {
		*data = filepath.Join(*root, ".devstack")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *root, *data, *addr, *port); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, data, addr string, port int) error {
	root, _ = filepath.Abs(root)
	data, _ = filepath.Abs(data)
	s, err := stack.Start(ctx, stack.Options{Root: root, DataDir: data, GatewayAddr: addr, FunctionPort: port,
		DatabaseURL: os.Getenv("DATABASE_URL"), S3Endpoint: os.Getenv("S3_ENDPOINT"), Durable: true, Log: os.Stdout})
	if err != nil {
		return err
	}
	defer s.Stop()
	fmt.Println()
	fmt.Println("  晋来办 open platform is running")
	fmt.Printf("  %-15s%s   (every public API path)\n", "gateway", s.GatewayURL)
	fmt.Printf("  %-15s%s/   (sign in: %s/console/)\n", "web console", s.GatewayURL, s.GatewayURL)
	fmt.Printf("  %-15s%s/simulator/   (test citizens; codes in %s/api/v1/dev/sms?mobile=…)\n", "simulator", s.GatewayURL, s.GatewayURL)
	for _, name := range sortedNames(s) {
		fmt.Printf("  %-15s%s\n", name, s.Functions[name].URL)
	}
	fmt.Printf("  %-15s%s\n", "database", s.DatabaseURL)
	fmt.Printf("  %-15s%s (bucket %s)\n", "object store", s.S3.Endpoint, s.S3.Bucket)
	fmt.Printf("  %-15s%s/apps/<appCode>/ (use as a service address)\n", "sample vendor", s.SampleVendor)
	fmt.Printf("  %-15s%s\n", "logs", s.LogDir)
	fmt.Print("  test citizens ")
	for _, c := range stack.TestCitizens {
		fmt.Printf("%s (%s)  ", c.Mobile, c.Level)
	}
	fmt.Println()
	if s.AdminPassword != "" {
		fmt.Println()
		fmt.Println("  Administrator created — this password is shown only now:")
		fmt.Printf("    login %s   password %s\n", s.AdminLogin, s.AdminPassword)
		fmt.Println("  Sign in and change it:")
		fmt.Printf("    curl -s -X POST %s/api/v1/sessions -H 'Content-Type: application/json' \\\n", s.GatewayURL)
		fmt.Printf("      -d '{\"login\":\"%s\",\"password\":\"%s\"}'\n", s.AdminLogin, s.AdminPassword)
	} else {
		fmt.Printf("\n  Administrator %q exists (its password was shown at the first start; `make dev-reset` starts over).\n", s.AdminLogin)
	}
	fmt.Println("\n  Ctrl-C stops everything; the data stays until `make dev-reset`.")
	<-ctx.Done()
	fmt.Println("\nstopping…")
	return nil
}

func sortedNames(s *stack.Stack) []string {
	var names []string
	for n := range s.Functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

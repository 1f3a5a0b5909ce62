// Command bench is `make bench`: see the README, "Benchmarks".
//
//	go run ./infra/bench/cmd/bench -root . -duration 5s -levels 1,4,16,64
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/jinlaiban/openplatform/infra/bench"
)

func main() {
	var cfg bench.Config
	var levels, ops, only, env string
	flag.StringVar(&cfg.Root, "root", ".", "the repository (holds go.work)")
	flag.StringVar(&cfg.Out, "out", "", "where results go (default <root>/bench/out)")
	flag.DurationVar(&cfg.Duration, "duration", 0, "each measurement (default 5s)")
	flag.DurationVar(&cfg.Warmup, "warmup", 0, "warm-up before each measurement (default 1s)")
	flag.StringVar(&levels, "levels", "", "concurrency levels, comma-separated (default 1,4,16,64)")
	flag.IntVar(&cfg.Citizens, "citizens", 0, "citizens in the directory (default 100000)")
	flag.IntVar(&cfg.Apps, "apps", 0, "approved applications (default 1000)")
	flag.StringVar(&ops, "ops", "", "operations, comma-separated (default sso-exchange,user-info,send-sms,send-message,todo-create)")
	flag.IntVar(&cfg.ColdStartRuns, "starts", 0, "cold starts per program (default 21)")
	flag.StringVar(&only, "start-only", "", "functions to cold-start, comma-separated (default all)")
	flag.StringVar(&env, "env", "", "more settings for every function, K=V,K=V (reported with the results)")
	flag.BoolVar(&cfg.NoGateway, "no-gateway", false, "skip the measurements through the gateway")
	flag.BoolVar(&cfg.NoMicro, "no-micro", false, "skip the Go micro-benchmarks")
	flag.BoolVar(&cfg.NoProfiles, "no-profiles", false, "do not profile functions that miss a target")
	flag.Parse()
	for _, l := range split(levels) {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -levels: %q is not a positive number\n", l)
			os.Exit(2)
		}
		cfg.Levels = append(cfg.Levels, n)
	}
	cfg.Ops, cfg.ColdStartOnly = split(ops), split(only)
	for _, kv := range split(env) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: -env: %q is not K=V\n", kv)
			os.Exit(2)
		}
		if cfg.Env == nil {
			cfg.Env = map[string]string{}
		}
		cfg.Env[k] = v
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := bench.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

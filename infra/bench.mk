# Benchmarks: `make bench` measures the hot paths against their ceilings (pgbench running the
# same SQL on the same database, a bare Go net/http server), cold start and memory against a
# minimal Go server, and the Go micro-benchmarks. Included by the Makefile; see the README, "Benchmarks".
#
#   make bench                                   (about 10 minutes on 2 CPUs)
#   make bench BENCH_DURATION=10s BENCH_LEVELS=1,8,32
#   make bench-compare OLD=bench/out/20250101-120000.json   (against bench/out/latest.json)
#
# Results go to $(BENCH_OUT) (git-ignored): <stamp>.json, <stamp>.svg, <stamp>/ (ceiling
# scripts, profiles), and latest.json / latest.svg.

BENCH_OUT      ?= bench/out
BENCH_DURATION ?= 5s
BENCH_LEVELS   ?= 1,4,16,64
BENCH_FLAGS    ?=

.PHONY: bench bench-compare

bench: tools ## measure hot paths, cold start and memory against their ceilings (results in bench/out)
	$(GO) run ./infra/bench/cmd/bench -root . -out $(BENCH_OUT) -duration $(BENCH_DURATION) -levels $(BENCH_LEVELS) $(BENCH_FLAGS)

bench-compare: ## compare two benchmark runs: make bench-compare OLD=bench/out/<stamp>.json [NEW=…]
	@test -n "$(OLD)" || { echo "usage: make bench-compare OLD=bench/out/<stamp>.json [NEW=bench/out/latest.json]"; exit 2; }
	$(GO) run ./infra/bench/cmd/compare $(OLD) $(or $(NEW),$(BENCH_OUT)/latest.json)

# The two commands: `make dev` runs the platform locally, `make test` proves it.
SHELL    := /bin/bash
GO       ?= go
MODULES  := $(shell $(GO) list -m -f '{{.Dir}}' 2>/dev/null)
PACKAGES := $(addsuffix /...,$(MODULES))
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEVDATA  ?= .devstack

.PHONY: dev dev-reset test check build tools help

include infra/deploy.mk
include infra/browser.mk
include infra/bench.mk

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "%-18s %s\n", $$1, $$2 }'

dev: tools ## run the whole platform locally (gateway on 127.0.0.1:8080; Ctrl-C stops it)
	@$(GO) build -o $(DEVDATA)/bin/devstack ./infra/devstack
	@$(DEVDATA)/bin/devstack -root . -data $(DEVDATA)

dev-reset: ## wipe the local platform's data (database, keys, logs)
	@if pgrep -f "$(abspath $(DEVDATA))/bin/" >/dev/null; then echo "stop make dev first"; exit 1; fi
	rm -rf $(DEVDATA)

test: tools check build ## run every module's tests against real PostgreSQL
	$(GO) test -count=1 $(PACKAGES)

check: ## formatting, vet, and every function module tidy enough to build on its own
	@unformatted=$$(gofmt -l $(MODULES)); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PACKAGES)
	@for d in functions/*/; do (cd $$d && GOWORK=off $(GO) mod tidy -diff >/dev/null) || { echo "$$d: go.mod/go.sum not tidy: run (cd $$d && GOWORK=off go mod tidy)"; exit 1; }; done

build: ## every function as a static binary (as the images are built)
	CGO_ENABLED=0 $(GO) build -o /dev/null $(addprefix ./,$(patsubst $(CURDIR)/%,%,$(filter $(CURDIR)/functions/%,$(MODULES))))

tools: browser-tools ## install what a fresh machine lacks: PostgreSQL's server binaries (and Chromium)
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL server binaries (Debian package postgresql)…"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

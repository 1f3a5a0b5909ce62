#!/usr/bin/env bash
# images-check: what can be checked of the images without reaching a registry.
#
#  1. Every function builds the way ko builds it (.ko.yaml): CGO_ENABLED=0, -trimpath,
#     -ldflags '-s -w', for linux/amd64 and linux/arm64.
#  2. When ko and crane are installed, ko really builds every function's image: against a
#     throwaway registry on 127.0.0.1 (crane registry serve) and a stand-in base image (an
#     empty image holding the nonroot user), since the real base image cannot be pulled here.
#     ko's own parsing of .ko.yaml runs too; only defaultBaseImage is overridden.
#
# Usage: infra/checks/images-check.sh (from anywhere); make images-check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
GO=${GO:-go}
mapfile -t fns < <(for m in functions/*/go.mod; do basename "$(dirname "$m")"; done)

echo "images-check: go build (CGO_ENABLED=0 -trimpath -ldflags='-s -w') of ${#fns[@]} functions"
for arch in amd64 arm64; do
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath -ldflags='-s -w' -o /dev/null \
		$(printf './functions/%s ' "${fns[@]}")
	echo "  linux/$arch: ok"
done

if ! command -v ko >/dev/null || ! command -v crane >/dev/null; then
	echo "images-check: ko or crane not installed: skipping the ko build"
	echo "  (go install github.com/google/ko@latest github.com/google/go-containerregistry/cmd/crane@latest)"
	exit 0
fi

port=${IMAGES_CHECK_PORT:-5055}
reg=127.0.0.1:$port
work=$(mktemp -d)
crane registry serve --address "$reg" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do crane catalog --insecure "$reg" >/dev/null 2>&1 && break; sleep 0.1; done

# The stand-in base: one layer with /etc/passwd naming the nonroot user (65532).
mkdir -p "$work/base/etc"
echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$work/base/etc/passwd"
tar -C "$work/base" -cf "$work/base.tar" etc
crane append --insecure -f "$work/base.tar" -t "$reg/base/static:check" >/dev/null 2>&1
crane mutate --insecure --set-platform linux/amd64 "$reg/base/static:check" -t "$reg/base/static:check" >/dev/null 2>&1

echo "images-check: ko build -B of ${#fns[@]} functions (registry $reg, stand-in base image)"
KO_DOCKER_REPO=$reg/openplatform KO_DEFAULTBASEIMAGE=$reg/base/static:check \
	ko build -B --insecure-registry --platform=linux/amd64 --sbom=none \
	$(printf './functions/%s ' "${fns[@]}") >"$work/refs" 2>"$work/ko.log" || { cat "$work/ko.log"; exit 1; }
# Each image holds the function's binary, built as .ko.yaml says (go version -m reads the
# build settings recorded in it).
for fn in "${fns[@]}"; do
	ref=$(grep "/openplatform/$fn@sha256:" "$work/refs") || { echo "  $fn: no image"; exit 1; }
	mkdir -p "$work/fs/$fn"
	crane export --insecure "$ref" - | tar -C "$work/fs/$fn" -xf - "/ko-app/$fn" 2>/dev/null
	bin=$work/fs/$fn/ko-app/$fn
	settings=$($GO version -m "$bin")
	for want in 'CGO_ENABLED=0' '-trimpath=true'; do
		grep -qF -- "$want" <<<"$settings" || { echo "  $fn: binary not built with $want"; echo "$settings"; exit 1; }
	done
	# -ldflags is not recorded with -trimpath; -s shows as a binary without a symbol table.
	if $GO tool nm "$bin" >/dev/null 2>&1; then echo "  $fn: binary has symbols: not built with -ldflags='-s -w'"; exit 1; fi
	echo "  $fn: $ref (CGO_ENABLED=0, -trimpath, -ldflags='-s -w')"
done

# The Knative manifests resolve: every ko:// reference becomes a built image's digest.
if command -v kubectl >/dev/null; then
	kubectl kustomize infra/knative >"$work/knative.yaml"
	KO_DOCKER_REPO=$reg/openplatform KO_DEFAULTBASEIMAGE=$reg/base/static:check \
		ko resolve -B --insecure-registry --platform=linux/amd64 --sbom=none -f "$work/knative.yaml" >"$work/resolved.yaml" 2>"$work/ko.log" ||
		{ cat "$work/ko.log"; exit 1; }
	if grep -q 'ko://' "$work/resolved.yaml"; then echo "  ko resolve left ko:// references"; exit 1; fi
	echo "images-check: ko resolve of infra/knative: $(grep -c "image: $reg/openplatform/" "$work/resolved.yaml") images resolved to digests"
fi
echo "images-check: ok"

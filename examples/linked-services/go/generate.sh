#!/usr/bin/env bash
# Generates gen/ from the contract in ../../../proto with buf (the repository's,
# `npx buf`) and the Go plugins protoc-gen-go and protoc-gen-go-grpc, at the
# versions go.mod pins as tools. `go install tool` builds the plugins into a
# cache outside the repository (only the first time takes a while).
#   ./generate.sh          rewrite gen/
#   ./generate.sh --check  leave gen/ alone; fail when it is not what the contract generates (CI)
set -euo pipefail
cd "$(dirname "$0")"

plugins="${XDG_CACHE_HOME:-$HOME/.cache}/account-deletion-service/go-plugins"
GOWORK=off GOBIN="$plugins" go install tool
export PATH="$plugins:$PATH"
buf() { npx --no-install buf "$@"; }

if [ "${1:-}" != "--check" ]; then
  buf generate
  exit 0
fi

fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
buf generate --output "$fresh"
if ! diff -r gen "$fresh/gen"; then
  echo "examples/linked-services/go/gen differs from what proto/ generates; run examples/linked-services/go/generate.sh and commit" >&2
  exit 1
fi
echo "examples/linked-services/go/gen is up to date"

# shellcheck shell=bash
# Sourced by the build-*.sh scripts: one cache directory per set of pinned versions,
# either complete or absent, filled by one build at a time.
#
#   tool_cache_open DIR BINARY...   prints DIR and exits when it holds every BINARY;
#                                   otherwise takes DIR's build lock (a second caller
#                                   waits, then finds the cache full) and prepares
#                                   DIR.partial and the Go build environment
#   tool_cache_close DIR            publishes DIR.partial as DIR and prints DIR

# shellcheck disable=SC2034 # used by the scripts that source this file
tool_cache_root=${TRACKER_TOOLS_CACHE:-$HOME/.cache/workflow-tracker}

_tool_cache_complete() {
  local dir=$1 binary; shift
  for binary in "$@"; do [ -x "$dir/$binary" ] || return 1; done
}

tool_cache_open() {
  local dir=$1; shift
  if _tool_cache_complete "$dir" "$@"; then echo "$dir"; exit 0; fi
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
  if _tool_cache_complete "$dir" "$@"; then echo "$dir"; exit 0; fi
  command -v go >/dev/null || { echo "$(basename "$0"): Go is required" >&2; exit 1; }
  rm -rf "$dir.partial" && mkdir -p "$dir.partial"
  export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
  tool_cache_started=$(date +%s)
}

tool_cache_close() {
  local dir=$1
  rm -rf "$dir" && mv "$dir.partial" "$dir"
  echo "$(basename "$0"): built in $(( $(date +%s) - tool_cache_started ))s" >&2
  echo "$dir"
}

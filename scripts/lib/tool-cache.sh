# shellcheck shell=bash
# Sourced by the build-*.sh scripts: one cache directory per set of inputs, either
# complete or absent, filled by one build at a time.
#
#   cache_begin DIR ENTRY...        returns 1 when DIR holds every ENTRY (an executable
#                                   or a directory); otherwise takes DIR's build lock
#                                   (a second caller waits, then finds the cache full
#                                   and gets 1 too), prepares an empty DIR.partial and
#                                   returns 0: build into DIR.partial, then cache_end
#   cache_end DIR                   publishes DIR.partial as DIR, releases the lock
#   tool_cache_open DIR BINARY...   cache_begin for a Go build: prints DIR and exits
#                                   when the cache is full, else prepares the Go build
#                                   environment
#   tool_cache_close DIR            cache_end, then prints DIR

# shellcheck disable=SC2034 # used by the scripts that source this file
tool_cache_root=${TRACKER_TOOLS_CACHE:-$HOME/.cache/workflow-tracker}

_tool_cache_complete() {
  local dir=$1 entry; shift
  for entry in "$@"; do [ -x "$dir/$entry" ] || return 1; done
}

cache_begin() {
  local dir=$1; shift
  if _tool_cache_complete "$dir" "$@"; then return 1; fi
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
  if _tool_cache_complete "$dir" "$@"; then exec 9>&-; return 1; fi
  rm -rf "$dir.partial" && mkdir -p "$dir.partial"
  tool_cache_started=$(date +%s)
}

cache_end() {
  local dir=$1
  rm -rf "$dir" && mv "$dir.partial" "$dir"
  exec 9>&-
  echo "$(basename "$0"): built $(basename "$dir") in $(( $(date +%s) - tool_cache_started ))s" >&2
}

tool_cache_open() {
  local dir=$1
  cache_begin "$@" || { echo "$dir"; exit 0; }
  command -v go >/dev/null || { echo "$(basename "$0"): Go is required" >&2; exit 1; }
  export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
}

tool_cache_close() {
  cache_end "$1"
  echo "$1"
}

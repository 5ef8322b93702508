#!/usr/bin/env bash
# Build Sprocket, the WDL engine, from crates.io at the pinned version (`--locked`:
# the crate's own lock file), into a cache keyed by that version and the Rust
# toolchain. The engines test tier runs it on its local backend.
#
# Prints the cache directory holding bin/sprocket. A second call with the same pin and
# toolchain returns at once. Override the cache root with TRACKER_TOOLS_CACHE; the
# build runs at low priority (nice) so that it does not starve the tests beside it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
sprocket_version=0.33.0

command -v cargo >/dev/null || { echo "build-sprocket: cargo (Rust) is required" >&2; exit 1; }
toolchain=$(rustc --version | cut -d' ' -f2)
source "$repo/scripts/lib/tool-cache.sh"
dir="$tool_cache_root/sprocket-$sprocket_version-rust-$toolchain"
cache_begin "$dir" bin/sprocket || { echo "$dir"; exit 0; }

echo "build-sprocket: building sprocket $sprocket_version with Rust $toolchain (a cold build takes many minutes)" >&2
# The crate download cache and the build directory outlive a failed attempt, so a retry resumes.
CARGO_TARGET_DIR="$tool_cache_root/sprocket-target" nice -n 10 \
  cargo install sprocket --version "$sprocket_version" --locked --root "$dir.partial" --quiet
rm -f "$dir.partial/.crates.toml" "$dir.partial/.crates2.json"

cache_end "$dir"
echo "$dir"

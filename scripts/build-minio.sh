#!/usr/bin/env bash
# Build the MinIO server from its Go module at the version pinned in tools/minio/go.mod,
# into a cache keyed by that pin. Benchmarks (and the `minio` test marker) use it as a
# local S3 server whose listing cost does not grow with the bucket, unlike moto's.
#
# Prints the cache directory holding the binary. A second call with the same pin
# returns at once. Override the cache root with TRACKER_TOOLS_CACHE.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
minio_version=v0.0.0-20260212201848-7aac2a2c5b7c

key=$(cat "$repo"/tools/minio/go.mod "$repo"/tools/minio/go.sum | sha256sum | cut -c1-12)
source "$repo/scripts/lib/tool-cache.sh"
bin="$tool_cache_root/minio-$minio_version-$key"
tool_cache_open "$bin" minio

# The version MinIO reports, from the pseudo-version: 20260212201848 -> 2026-02-12T20:18:48Z.
stamp=${minio_version#v0.0.0-}; commit=${stamp#*-}; stamp=${stamp%%-*}
released="${stamp:0:4}-${stamp:4:2}-${stamp:6:2}T${stamp:8:2}:${stamp:10:2}:${stamp:12:2}Z"
pkg=github.com/minio/minio/cmd
minio_ldflags="-s -w -X $pkg.Version=$released -X $pkg.ReleaseTag=RELEASE.${released//:/-}"
minio_ldflags+=" -X $pkg.CommitID=$commit -X $pkg.ShortCommitID=$commit -X $pkg.CopyrightYear=${stamp:0:4}"

cd "$repo/tools/minio"
echo "build-minio: building minio $minio_version" >&2
go build -trimpath -ldflags "$minio_ldflags" -o "$bin.partial/minio" github.com/minio/minio

tool_cache_close "$bin"

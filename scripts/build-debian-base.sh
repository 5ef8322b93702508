#!/usr/bin/env bash
# The base image the Dockerfile builds on where the registry's python:3.11-slim cannot
# be pulled: a Debian bookworm root filesystem made by debootstrap from the apt mirror
# this machine uses, with Debian's Python 3.11 (python3, python3-venv), committed into
# buildah's storage. The root filesystem is cached under the tools cache, keyed by the
# suite and the package list.
#
# Prints the image's name (localhost/debian-base:bookworm-KEY, also tagged
# localhost/debian-base:bookworm). Override the mirror with TRACKER_DEBIAN_MIRROR.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
suite=bookworm
packages=python3,python3-venv,ca-certificates,netbase,passwd
key=$(echo "$suite $packages" | sha256sum | cut -c1-12)
source "$repo/scripts/lib/tool-cache.sh"
source "$repo/scripts/lib/buildah.sh"
base="$tool_cache_root/debian-base-$suite-$key"
image=localhost/debian-base:$suite-$key

apt_mirror() {
  # The first Debian archive (not the security one) in apt's sources, one-line or deb822.
  local url
  url=$(grep -hoE '^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+' \
          /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -oE 'https?://[^[:space:]]+' | grep -E '/debian/?$' | head -n1 || true)
  echo "${url:-http://deb.debian.org/debian}"
}

if cache_begin "$base" rootfs; then
  mirror=${TRACKER_DEBIAN_MIRROR:-$(apt_mirror)}
  echo "build-debian-base: debootstrap $suite from $mirror" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$base.partial/rootfs" "$mirror" \
    > "$base.partial/debootstrap.log" 2>&1 || { tail -n 20 "$base.partial/debootstrap.log" >&2; exit 1; }
  chroot "$base.partial/rootfs" apt-get clean
  rm -rf "$base.partial/rootfs"/var/lib/apt/lists/* "$base.partial/rootfs"/var/log/*.log \
         "$base.partial/rootfs"/var/cache/debconf/*-old
  cache_end "$base"
fi

if ! bh_image_exists "$image"; then
  exec 9>"$base.lock"
  flock 9
  if ! bh_image_exists "$image"; then
    container=$(bh from scratch)
    cp -a "$base/rootfs/." "$(bh mount "$container")/"
    bh umount "$container" >/dev/null
    bh config --os linux --arch "$(dpkg --print-architecture)" \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
      --cmd python3 --label org.opencontainers.image.base.name="debian:$suite (debootstrap)" "$container"
    bh commit --quiet --rm "$container" "$image" >/dev/null
    echo "build-debian-base: committed $image" >&2
  fi
  exec 9>&-
fi
bh tag "$image" "localhost/debian-base:$suite"
echo "$image"

#!/usr/bin/env bash
# Build the Dockerfile with buildah (no daemon, no registry, no package index in the
# build) and export the image for runc, into a cache keyed by everything it is built
# from: the Dockerfile, the build context .dockerignore selects, the base image and the
# wheels.
#
# - the base: scripts/build-debian-base.sh (Debian bookworm by debootstrap), or
#   TRACKER_IMAGE_BASE, a base image already in buildah's storage;
# - the wheels of the dependencies, built here with pip (the versions pinned to the
#   ones installed in the virtualenv the tests use), cached by pyproject.toml and
#   those pins, and handed to the build as wheelhouse/ with PIP_NO_INDEX=1.
#
# Prints the cache directory: rootfs/ (the image's file system, for a runc bundle),
# config.json (the image's OCI config: Env, User, WorkingDir, Cmd) and oci/ (the image
# as an OCI layout, tag workflow-tracker:dev). A second call with the same inputs
# returns at once.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${TRACKER_VENV:-$repo/.venv}
source "$repo/scripts/lib/tool-cache.sh"
source "$repo/scripts/lib/buildah.sh"
base=${TRACKER_IMAGE_BASE:-$("$repo/scripts/build-debian-base.sh")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The dependencies' wheels, with the versions the tests run, and the project's build
# requirements (for `pip wheel .` in the build), keyed by those lists alone.
"$venv/bin/python" -m pip freeze --exclude-editable > "$work/constraints.txt"
"$venv/bin/python" -c "import tomllib, sys; p = tomllib.load(open(sys.argv[1], 'rb')); print('\n'.join(p['project']['dependencies'] + p['build-system']['requires']))" \
  "$repo/pyproject.toml" > "$work/requirements.txt"
wheels_key=$(cat "$work/requirements.txt" "$work/constraints.txt" | sha256sum | cut -c1-12)
wheels="$tool_cache_root/wheels-$wheels_key"
if cache_begin "$wheels" wheelhouse; then
  echo "build-image: building the dependencies' wheels" >&2
  "$venv/bin/python" -m pip wheel --quiet --only-binary=:all: --wheel-dir "$wheels.partial/wheelhouse" \
    --requirement "$work/requirements.txt" --constraint "$work/constraints.txt"
  cache_end "$wheels"
fi

# The build context, by .dockerignore's rules: what it lets in, minus what it keeps out.
context="$work/context"
mkdir -p "$context"
mapfile -t included < <(sed -n 's|^!\(.*[^/]\)/*$|\1|p' "$repo/.dockerignore")
mapfile -t excluded < <(grep -vE '^(#|!|\*$|$)' "$repo/.dockerignore")
present=()
for path in "${included[@]}"; do [ -e "$repo/$path" ] && present+=("$path"); done
tar -C "$repo" "${excluded[@]/#/--exclude=}" -cf - "${present[@]}" | tar -C "$context" -xf -
cp "$repo/.dockerignore" "$context/"
key=$( (cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum
        cat "$repo/Dockerfile"; echo "$base $(bh inspect --type image --format '{{.FromImageID}}' "$base")"
        echo "$wheels_key") | sha256sum | cut -c1-12)
out="$tool_cache_root/image-$key"
if cache_begin "$out" rootfs oci; then
  cp -al "$wheels/wheelhouse" "$context/wheelhouse"
  tag="localhost/workflow-tracker:$key"
  echo "build-image: building $tag on $base" >&2
  bh bud --quiet --isolation chroot --network host --layers=false --pull=false \
    --build-arg PYTHON_IMAGE="$base" --build-arg PIP_NO_INDEX=1 \
    --file "$repo/Dockerfile" --tag "$tag" "$context" > "$out.partial/build.log" 2>&1 \
    || { tail -n 40 "$out.partial/build.log" >&2; exit 1; }
  bh inspect --type image "$tag" \
    | "$venv/bin/python" -c 'import json, sys; json.dump(json.load(sys.stdin)["OCIv1"]["config"], sys.stdout, indent=2)' \
    > "$out.partial/config.json"
  bh push --quiet "$tag" "oci:$out.partial/oci:workflow-tracker:dev"
  container=$(bh from --pull=false "$tag")
  mkdir "$out.partial/rootfs"
  cp -a "$(bh mount "$container")/." "$out.partial/rootfs/"
  bh umount "$container" >/dev/null
  bh rm "$container" >/dev/null
  bh rmi "$tag" >/dev/null
  cache_end "$out"
fi
touch "$out"
# Images of other inputs nobody built or used for two hours (each is ~600 MB; a test
# session calls this script when it starts, which keeps its image).
find "$tool_cache_root" -maxdepth 1 -name 'image-*' ! -name '*.lock' ! -name "image-$key" -mmin +120 \
  -exec rm -rf {} +
echo "$out"

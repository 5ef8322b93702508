# shellcheck shell=bash
# Sourced by build-debian-base.sh and build-image.sh: buildah without a daemon or a
# registry, on the vfs storage driver (no overlay or FUSE needed), its storage in the
# tools cache.
# shellcheck disable=SC2154 # tool_cache_root comes from tool-cache.sh, sourced first
buildah_storage=$tool_cache_root/containers

bh() {
  buildah --root "$buildah_storage/storage" --runroot "$buildah_storage/run" --storage-driver vfs "$@"
}

bh_image_exists() {
  bh inspect --type image "$1" >/dev/null 2>&1
}

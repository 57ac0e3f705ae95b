# . e2e/image/env.sh — points podman and buildah at the storage `npm run image` builds into (vfs, under
# ~/.cache/chainsmith/image/; the files are written by e2e/image/build.sh), e.g. then:
#   podman run --rm localhost/chainsmith:dev --help
#   podman image inspect localhost/chainsmith:dev
export CONTAINERS_STORAGE_CONF="${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}/image/storage.conf"
export CONTAINERS_CONF="${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}/image/containers.conf"

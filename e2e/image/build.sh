#!/usr/bin/env bash
# npm run image [-- TAG] — builds the repository's Dockerfile into a local image (default localhost/chainsmith:dev;
# also CHAINSMITH_IMAGE) with buildah, on a machine with no Docker engine and no reachable container registry:
#
#   1. tools      buildah, podman, mmdebstrap, runc, uidmap from Debian (apt-get, only when missing)
#   2. bases      e2e/image/base.sh: NODE_IMAGE and RUNTIME_IMAGE assembled from Debian's nodejs 20 packages
#                 (mmdebstrap), cached by package versions
#   3. build      `buildah bud` of the unchanged Dockerfile with those two build args; `npm ci` in the build stages
#                 fetches from the npm registry; --layers, so a warm rebuild only redoes the steps whose inputs changed
#   4. size       the image's size, from `podman image inspect`
#
# Storage (vfs driver, chroot isolation) and the rootfs tarballs live in ~/.cache/chainsmith/image/; set
# CONTAINERS_STORAGE_CONF and CONTAINERS_CONF as e2e/image/common.sh does to use the image with podman or buildah
# yourself, e.g. `. e2e/image/env.sh; podman run --rm localhost/chainsmith:dev --help`.
# Each step prints its time; logs go to ~/.cache/chainsmith/logs/build-image*.log. Builds are niced and serialised by
# a lock, so this can run next to the tests and next to another `npm run image`.
set -euo pipefail
. "$(dirname "$0")/common.sh"

TAG=${1:-${CHAINSMITH_IMAGE:-localhost/chainsmith:dev}}
CONTEXT=${IMAGE_CONTEXT:-$REPO_ROOT}   # the build context (and its Dockerfile); the checkout by default
: "${IMAGE_LOCK_TIMEOUT:=3600}"
: "${IMAGE_BUILD_TIMEOUT:=2400}"
T0=$(date +%s)
mkdir -p "$IMAGE_CACHE"
exec 7>"$IMAGE_CACHE/build.lock"
if ! flock -n 7; then
  say "image: another image build holds $IMAGE_CACHE/build.lock; waiting (at most ${IMAGE_LOCK_TIMEOUT}s)"
  flock -w "$IMAGE_LOCK_TIMEOUT" 7 || die "timed out waiting for $IMAGE_CACHE/build.lock"
fi

step_start=$(date +%s)
step_done() {
  say "image: $1 in $(( $(date +%s) - step_start ))s"
  step_start=$(date +%s)
}

ensure_image_tools
write_containers_conf
step_done "tools (buildah $(buildah --version | awk '{print $3}'), podman $(podman --version | awk '{print $3}'))"

BASES=$(bash "$IMAGE_SCRIPTS/base.sh")
NODE_IMAGE=$(printf '%s\n' "$BASES" | sed -n 's/^NODE_IMAGE=//p')
NODE_DEB=$(printf '%s\n' "$BASES" | sed -n 's/^NODE_DEB=//p')
RUNTIME_IMAGE=$(printf '%s\n' "$BASES" | sed -n 's/^RUNTIME_IMAGE=//p')
[ -n "$NODE_IMAGE" ] && [ -n "$RUNTIME_IMAGE" ] || die "e2e/image/base.sh printed no base images"
step_done "base images ($NODE_IMAGE, $RUNTIME_IMAGE)"

# inputs_hash: the build context as the Dockerfile sees it (every file .dockerignore lets through; its entries are
# top-level names and `*.ext` patterns), the Dockerfile and the base images. A tagged image carrying the same hash
# (label dev.chainsmith.build-inputs) is up to date: with vfs even an all-cached `buildah bud` copies each stage's
# base (~1 GB of small files), minutes on a busy machine, so an unchanged context is not built again.
inputs_hash() {
  local ignored
  ignored=$(grep -vE '^[[:space:]]*(#|$)' "$CONTEXT/.dockerignore" 2>/dev/null | sed 's#/$##' | tr '\n' ' ')
  {
    printf '%s\n' "$NODE_IMAGE" "$RUNTIME_IMAGE"
    cd "$CONTEXT"
    find . -type f ! -path './.git/*' ! -path './node_modules/*' ! -path './.stack/*' -printf '%P\n' |
      awk -v ign="$ignored" '
        BEGIN { n = split(ign, a, " "); for (i = 1; i <= n; i++) if (a[i] ~ /^\*\./) ext[substr(a[i], 2)] = 1; else skip[a[i]] = 1 }
        { top = $0; sub(/\/.*/, "", top); if (top in skip) next
          if (index($0, "/") == 0) for (e in ext) if (substr($0, length($0) - length(e) + 1) == e) next
          print }' |
      LC_ALL=C sort | xargs -r -d '\n' sha256sum
    sha256sum Dockerfile
  } | sha256sum | cut -c1-32
}
INPUTS=$(inputs_hash)
if [ "$(podman image inspect --format '{{index .Labels "dev.chainsmith.build-inputs"}}' "$TAG" 2>/dev/null)" = "$INPUTS" ]; then
  SIZE=$(podman image inspect --format '{{.Size}}' "$TAG")
  step_done "no build: $TAG is up to date (context, Dockerfile and bases unchanged; inputs $INPUTS)"
  say "image: $TAG: $(( SIZE / 1000000 )) MB, Debian nodejs $NODE_DEB; checked in $(( $(date +%s) - T0 ))s"
  exit 0
fi

LOG=$(build_log image)
say "image: buildah bud -t $TAG (log: $LOG)"
# --pull=never: the bases are local and no registry is reachable. --network host: chroot isolation shares the host's
# network anyway; `npm ci` reaches the npm registry through it. BUILDAH_ISOLATION=chroot (common.sh): no nested
# container runtime needed for RUN.
# RUN steps trust what this machine trusts: its CA bundle is mounted over the build base's for the RUN steps only (not
# stored in any layer), so `npm ci` works behind a TLS-intercepting proxy as the machine's own npm does.
CA_BUNDLE=${IMAGE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
CA_MOUNT=()
[ ! -f "$CA_BUNDLE" ] || CA_MOUNT=(--volume "$CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro")
BUILD_TIMEOUT=$IMAGE_BUILD_TIMEOUT run_logged "buildah bud $TAG" "$LOG" \
  ionice -c 2 -n 7 buildah bud --layers --pull=never --isolation chroot --network host "${CA_MOUNT[@]}" \
  --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
  --label "dev.chainsmith.build-inputs=$INPUTS" \
  -f "$CONTEXT/Dockerfile" -t "$TAG" "$CONTEXT"
step_done "buildah bud"

# vfs keeps every layer as a full copy, so each build whose inputs changed adds gigabytes. The unnamed images this build
# made or reused (its layer cache, the `--> ID` lines of its log) are kept for the next build; every other unnamed
# image is an older build's and is removed, children before parents. (`buildah rmi --prune` would also drop this
# build's own cache: its last steps are images no other image builds on.)
prune_stale_layers() {
  local keep pass id removed
  keep=$(grep -oE '^--> (Using cache )?[0-9a-f]{11,64}' "$LOG" | awk '{print substr($NF, 1, 11)}' | sort -u)
  for pass in 1 2 3 4 5 6 7 8 9 10 11 12; do
    removed=0
    for id in $(podman images --all --noheading --format '{{.ID}} {{.Repository}}' | awk '$2 == "<none>" {print $1}'); do
      printf '%s\n' "$keep" | grep -qx "${id:0:11}" && continue
      podman rmi "$id" >/dev/null 2>&1 && removed=1
    done
    [ "$removed" = 1 ] || break
  done
}
prune_stale_layers
SIZE=$(podman image inspect --format '{{.Size}}' "$TAG")
ID=$(podman image inspect --format '{{.Id}}' "$TAG" | cut -c1-12)
step_done "pruning older builds' layers (storage now $(du -sm "$IMAGE_CACHE/storage" | cut -f1) MB)"
say "image: $TAG ($ID): $(( SIZE / 1000000 )) MB, Debian nodejs $NODE_DEB; built in $(( $(date +%s) - T0 ))s"
say "image: run it with: . e2e/image/env.sh && podman run --rm $TAG --help"

#!/usr/bin/env bash
# e2e/image/base.sh — the two base images the Dockerfile builds on, assembled from Debian packages with mmdebstrap
# (no container registry is reachable from here), imported into buildah's storage under ~/.cache/chainsmith/image/:
#
#   localhost/chainsmith-base/node-build:<key>    NODE_IMAGE, for the `build` and `deps` stages: Debian's essential
#                                                 packages (a shell for RUN), nodejs, npm, ca-certificates
#   localhost/chainsmith-base/node-runtime:<key>  RUNTIME_IMAGE, distroless-like: nodejs and the libraries it links,
#                                                 CA certificates, /etc/passwd with `nonroot` (65532), node also at
#                                                 /nodejs/bin/node (the Dockerfile's ENTRYPOINT); no shell, no apt,
#                                                 no dpkg, no npm
#
# <key> is a hash of the Debian package versions apt resolves for nodejs, npm and ca-certificates today (and of this
# script), so a new nodejs or a security update makes new bases and the old ones are dropped. The rootfs tarballs are
# kept next to the storage, so a wiped storage re-imports them without mmdebstrap.
# Prints NODE_DEB=<the nodejs package version>, NODE_IMAGE=… and RUNTIME_IMAGE=…; progress goes to stderr, logs to ~/.cache/chainsmith/logs.
set -euo pipefail
. "$(dirname "$0")/common.sh"

ensure_image_tools
write_containers_conf
BASE_DIR=$IMAGE_CACHE/base
APT_DIR=$IMAGE_CACHE/apt
mkdir -p "$BASE_DIR" "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$APT_DIR/etc/preferences.d"
SOURCES=(
  "deb $IMAGE_DEBIAN_MIRROR $IMAGE_DEBIAN_SUITE main"
  "deb $IMAGE_DEBIAN_MIRROR $IMAGE_DEBIAN_SUITE-updates main"
  "deb $IMAGE_DEBIAN_SECURITY_MIRROR $IMAGE_DEBIAN_SUITE-security main"
)
printf '%s\n' "${SOURCES[@]}" >"$APT_DIR/etc/sources.list"
: >"$APT_DIR/status"   # an empty dpkg database: apt then lists every package the closure needs

# --- the key: which package versions a build would get today ---------------------------------------------------
# A private apt configuration (its own lists, no dpkg state), so the machine's own apt (bookworm) is left alone.
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list" -o "Dir::Etc::SourceParts=-"
  -o "Dir::Etc::Preferences=-" -o "Dir::Etc::PreferencesParts=$APT_DIR/etc/preferences.d"
  -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::State::status=$APT_DIR/status"
  -o "Dir::Cache::Archives=$APT_DIR/archives" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "APT::Architecture=amd64" -o "APT::Sandbox::User=root" -o "Acquire::Retries=3" -o "Acquire::Languages=none")
LOG=$(build_log image-base)
T=$(date +%s)
BUILD_TIMEOUT=600 run_logged "apt-get update ($IMAGE_DEBIAN_SUITE package lists)" "$LOG" apt-get "${APT_OPTS[@]}" update
VERSIONS=$(apt-get "${APT_OPTS[@]}" -s install --no-install-recommends nodejs npm ca-certificates 2>>"$LOG" |
  sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' | sort)
[ -n "$VERSIONS" ] || die "apt could not resolve nodejs, npm and ca-certificates in $IMAGE_DEBIAN_SUITE; see $LOG"
NODE_VERSION=$(printf '%s\n' "$VERSIONS" | sed -n 's/^nodejs=//p')
KEY=$( { printf '%s\n' "$IMAGE_DEBIAN_SUITE" "$VERSIONS"; cat "$0"; } | sha256sum | cut -c1-16)
BUILD_REF=localhost/chainsmith-base/node-build:$KEY
RUNTIME_REF=localhost/chainsmith-base/node-runtime:$KEY
say "base images: Debian $IMAGE_DEBIAN_SUITE, nodejs $NODE_VERSION, $(printf '%s\n' "$VERSIONS" | wc -l) packages; key $KEY ($(( $(date +%s) - T ))s)"

have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# import TARBALL REF ARGS...: a one-layer image from a rootfs tarball (buildah from scratch + add + commit), with
# `buildah config` ARGS.
import() {
  local tarball=$1 ref=$2 ctr; shift 2
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$tarball" / >/dev/null
  buildah config --os linux --arch amd64 --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "org.opencontainers.image.description=chainsmith test base: Debian $IMAGE_DEBIAN_SUITE, nodejs $NODE_VERSION" \
    "$@" "$ctr"
  buildah commit --quiet --rm "$ctr" "$ref" >/dev/null
}

# New bases (a new key): nothing stored so far can be reused on top of them, so every image goes (vfs: gigabytes).
if ! have_image "$BUILD_REF" || ! have_image "$RUNTIME_REF"; then
  buildah rmi --all --force >/dev/null 2>&1 || true
fi

# --- NODE_IMAGE: for the builder stages ----------------------------------------------------------------------
BUILD_TAR=$BASE_DIR/node-build-$KEY.tar
if ! have_image "$BUILD_REF"; then
  if [ ! -s "$BUILD_TAR" ]; then
    T=$(date +%s)
    say "mmdebstrap: $IMAGE_DEBIAN_SUITE essential + nodejs npm ca-certificates (log: $LOG)"
    BUILD_TIMEOUT=1200 run_logged "mmdebstrap node-build" "$LOG" \
      mmdebstrap --variant=essential --include=nodejs,npm,ca-certificates --aptopt='Acquire::Retries "3"' \
      "$IMAGE_DEBIAN_SUITE" "$BASE_DIR/.tmp-node-build.tar" "${SOURCES[@]}"
    mv "$BASE_DIR/.tmp-node-build.tar" "$BUILD_TAR"
    say "  node-build rootfs: $(du -m "$BUILD_TAR" | cut -f1) MB in $(( $(date +%s) - T ))s"
  fi
  import "$BUILD_TAR" "$BUILD_REF" --cmd '["node"]'
fi

# --- RUNTIME_IMAGE: distroless-like ------------------------------------------------------------------------
# `--variant=extract` unpacks nodejs and its dependencies (libc, libnode, OpenSSL, ICU, …) without installing
# anything: no Essential packages, so no shell, no coreutils, no dpkg, no apt. runtime_rootfs then adds what distroless
# adds: the merged-/usr links, users, CA certificates (from node-build, where ca-certificates' postinst made the
# bundle), node at /nodejs/bin/node, and a package list for image scanners (var/lib/dpkg/status.d, as distroless has,
# written by the extract hook while the .deb files are still there).
runtime_rootfs() {
  local r=$1 d sh
  for d in bin sbin lib lib64; do mkdir -p "$r/usr/$d"; ln -sfn "usr/$d" "$r/$d"; done
  mkdir -p "$r/nodejs/bin" "$r/usr/lib/ssl" "$r/root" "$r/home/nonroot" "$r/tmp"
  ln -sfn /usr/bin/node "$r/nodejs/bin/node"
  tar -C "$r" -xf "$BUILD_TAR" ./etc/ssl ./usr/share/ca-certificates
  ln -sfn /etc/ssl/certs "$r/usr/lib/ssl/certs"
  ln -sfn /etc/ssl/certs/ca-certificates.crt "$r/usr/lib/ssl/cert.pem"
  printf '%s\n' root:x:0:0:root:/root:/sbin/nologin nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin \
    nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin >"$r/etc/passwd"
  printf '%s\n' root:x:0: nobody:x:65534: nonroot:x:65532: >"$r/etc/group"
  chown 65532:65532 "$r/home/nonroot"
  chmod 700 "$r/root" "$r/home/nonroot"
  chmod 1777 "$r/tmp"
  rm -rf "$r/etc/apt" "$r/var/lib/apt" "$r/var/cache/apt" "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/status" \
    "$r/var/lib/dpkg/alternatives" "$r/var/lib/dpkg/triggers" "$r/var/log" "$r/dev" \
    "$r/usr/share/man" "$r/usr/share/lintian" "$r/usr/share/bash-completion" "$r/usr/share/gdb"
  find "$r/usr/share/doc" -type f ! -name copyright -delete
  for sh in sh bash dash; do
    [ ! -e "$r/usr/bin/$sh" ] || die "the runtime base has a shell (/usr/bin/$sh): it must have none"
  done
}

RUNTIME_TAR=$BASE_DIR/node-runtime-$KEY.tar
if ! have_image "$RUNTIME_REF"; then
  if [ ! -s "$RUNTIME_TAR" ]; then
    T=$(date +%s)
    TREE=$BASE_DIR/.tmp-node-runtime
    rm -rf "$TREE"
    say "mmdebstrap: $IMAGE_DEBIAN_SUITE nodejs only, extracted (log: $LOG)"
    # shellcheck disable=SC2016  # "$1" is the rootfs, expanded by mmdebstrap's hook shell
    BUILD_TIMEOUT=1200 run_logged "mmdebstrap node-runtime" "$LOG" \
      mmdebstrap --variant=extract --include=nodejs --format=directory --aptopt='Acquire::Retries "3"' \
      --extract-hook='set -e; mkdir -p "$1/var/lib/dpkg/status.d"
        for deb in "$1"/var/cache/apt/archives/*.deb; do
          p=$(dpkg-deb -f "$deb" Package)
          { dpkg-deb -f "$deb" Package Version Architecture Source Maintainer Homepage
            echo "Status: install ok installed"; } >"$1/var/lib/dpkg/status.d/$p"
        done' \
      "$IMAGE_DEBIAN_SUITE" "$TREE" "${SOURCES[@]}"
    runtime_rootfs "$TREE"
    tar --numeric-owner -C "$TREE" -cf "$BASE_DIR/.tmp-node-runtime.tar" .
    mv "$BASE_DIR/.tmp-node-runtime.tar" "$RUNTIME_TAR"
    rm -rf "$TREE"
    say "  node-runtime rootfs: $(du -m "$RUNTIME_TAR" | cut -f1) MB in $(( $(date +%s) - T ))s"
  fi
  import "$RUNTIME_TAR" "$RUNTIME_REF" --user 65532:65532 --workingdir / --entrypoint '["/nodejs/bin/node"]'
fi

# Bases of an earlier key (an older nodejs) are dropped, images and tarballs alike.
for f in "$BASE_DIR"/node-*.tar; do
  case "$f" in *"-$KEY.tar") ;; *) rm -rf "$f" ;; esac
done
buildah images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | { grep '^localhost/chainsmith-base/' || true; } |
  while read -r old; do
    case "$old" in *":$KEY") ;; *) buildah rmi "$old" >/dev/null 2>&1 || true ;; esac
  done

echo "NODE_DEB=$NODE_VERSION"
echo "NODE_IMAGE=$BUILD_REF"
echo "RUNTIME_IMAGE=$RUNTIME_REF"

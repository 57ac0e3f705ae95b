# Shared by e2e/image/*.sh (sourced, not executed): where the image build keeps its state, the Debian tools it needs,
# and the flags that make buildah and podman work on a machine with no container engine, no registry and no systemd.
# Builds on e2e/stack/common.sh (say, die, run_logged, apt_install, build logs in ~/.cache/chainsmith/logs).
# shellcheck source=../stack/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../stack" && pwd)/common.sh"

IMAGE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${IMAGE_CACHE:=$CACHE/image}"
export IMAGE_CACHE
# The Debian release the local base images are assembled from. Node 20 is the Node major the tests run on; bookworm
# (Debian 12, what the Dockerfile's public bases use) has only nodejs 18, trixie (Debian 13) has nodejs 20.19.
: "${IMAGE_DEBIAN_SUITE:=trixie}"
: "${IMAGE_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
: "${IMAGE_DEBIAN_SECURITY_MIRROR:=http://deb.debian.org/debian-security}"

# The tools, all from Debian: buildah builds the Dockerfile, podman runs the image (e2e/image.e2e.ts), mmdebstrap
# assembles the base images, runc is the OCI runtime (crun 1.8 refuses this machine's hybrid cgroup v1/v2 layout:
# "cgroups in hybrid mode not supported, drop all controllers from cgroupv2"), uidmap gives newuidmap.
IMAGE_TOOLS=(buildah podman mmdebstrap runc uidmap conmon golang-github-containers-common)

# ensure_image_tools: installs whichever of IMAGE_TOOLS is missing (apt_install, log build-apt-image-tools.log).
ensure_image_tools() {
  local missing=() p
  for p in "${IMAGE_TOOLS[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] || apt_install image-tools "${missing[@]}"
}

# Storage and engine settings for buildah and podman alike, in files under IMAGE_CACHE (CONTAINERS_STORAGE_CONF and
# CONTAINERS_CONF), so a test's `podman run` sees the images `npm run image` built: the vfs driver (no overlay or
# fuse needed), cgroupfs (no systemd), events to a file (no journald), runc, and limits this machine grants: rootful
# podman asks for nofile=1048576 and a high nproc by default, which the sandboxed machine refuses ("setrlimit
# `RLIMIT_NOFILE`: Operation not permitted"; nproc fails above 32768 here although `ulimit -Hu` says 96362), so
# nofile is this shell's hard limit and nproc 4096 (the controller runs a dozen threads).
write_containers_conf() {
  mkdir -p "$IMAGE_CACHE/storage" "$IMAGE_CACHE/runroot" "$IMAGE_CACHE/tmp"
  cat >"$IMAGE_CACHE/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$IMAGE_CACHE/storage"
runroot = "$IMAGE_CACHE/runroot"
CONF
  cat >"$IMAGE_CACHE/containers.conf" <<CONF
[containers]
netns = "host"
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$IMAGE_CACHE/events.log"
runtime = "runc"
image_copy_tmp_dir = "$IMAGE_CACHE/tmp"
CONF
  export CONTAINERS_STORAGE_CONF="$IMAGE_CACHE/storage.conf" CONTAINERS_CONF="$IMAGE_CACHE/containers.conf"
  export TMPDIR="$IMAGE_CACHE/tmp" BUILDAH_ISOLATION=chroot
}

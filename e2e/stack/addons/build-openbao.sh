#!/usr/bin/env bash
# Builds OpenBao (a Vault-compatible server with the transit engine) into the cache and prints the
# binary's path. OpenBao's v2.x tags carry the module path github.com/openbao/openbao (no /v2), which
# makes them invalid Go module versions: no module proxy can serve them. So we build a pinned source tree,
# $CHAINSMITH_CACHE/src/openbao-$OPENBAO_VERSION, made once from the tag of a git checkout:
#   git -C openbao archive v2.6.2 | tar -x -C ~/.cache/chainsmith/src/openbao-v2.6.2
# The tree is its own main module, so its replace directives (./api, ./sdk) apply; its dependencies come
# from the module proxy.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/kms-versions.sh"
OUT="$CACHE/bin/bao-$OPENBAO_VERSION"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "openbao-$OPENBAO_VERSION")
SRC="$CACHE/src/openbao-$OPENBAO_VERSION"
[ -f "$SRC/go.mod" ] ||
  die "no OpenBao source at $SRC: put a git archive of tag $OPENBAO_VERSION of github.com/openbao/openbao there (see this script's header)"
acquire_go_lock "$LOG"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
# The cloud auto-unseal wrappers (Alibaba, AWS, Azure, GCP, OCI KMS) are refused by the module proxy here.
# A dev server never auto-unseals through a cloud, so the build copy drops them (the cached source stays
# untouched); the Shamir seal's logger option came from the AWS wrapper package and is dropped with it.
W="$CACHE/build/openbao-$OPENBAO_VERSION"
rm -rf "$W" && mkdir -p "$W" && cp -R "$SRC/." "$W/" && cd "$W"
CLOUD_SEALS='alicloudkms|awskms|azurekeyvault|gcpckms|ocikms'
sed -i -E -e "/wrappers\/($CLOUD_SEALS)\/v2\"/d" -e "/^\s*($CLOUD_SEALS)\.Type:/d" helper/kmsplugin/wrapper.go
sed -i -E -e "/wrappers\/awskms\/v2\"/d" \
  -e 's/wrapper\.SetConfig\(context\.Background\(\), awskms\.WithLogger\([^)]*\)\)\)/wrapper.SetConfig(context.Background())/' vault/core.go
for m in alicloudkms awskms azurekeyvault gcpckms ocikms; do
  go mod edit -droprequire="github.com/openbao/go-kms-wrapping/wrappers/$m/v2"
done
say "building OpenBao $OPENBAO_VERSION (cold: 10-20 minutes on 2 cores; log: $LOG)"
mkdir -p "$CACHE/bin"
export CGO_ENABLED=0 GOFLAGS=-trimpath
run_logged "building OpenBao" "$LOG" go build -ldflags '-s -w' -o "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
rm -rf "$W"
say "built $OUT"
echo "$OUT"

#!/usr/bin/env bash
# Builds OpenBao (a Vault-compatible server with the transit engine) into the cache and prints the
# binary's path. OpenBao's v2.x tags carry the module path github.com/openbao/openbao (no /v2), so
# the Go module proxy cannot serve them as versions; we build a pinned source tree instead:
#   1. $CHAINSMITH_CACHE/src/openbao-$OPENBAO_VERSION if present (a `git archive` of the tag), else
#   2. `go mod download github.com/openbao/openbao@$OPENBAO_VERSION` where a proxy serves it.
# The source tree is its own main module, so its replace directives (./api, ./sdk) apply.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/kms-versions.sh"
OUT="$CACHE/bin/bao-$OPENBAO_VERSION"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "openbao-$OPENBAO_VERSION")
SRC="$CACHE/src/openbao-$OPENBAO_VERSION"
if [ ! -f "$SRC/go.mod" ]; then
  J=$(go mod download -json "github.com/openbao/openbao@$OPENBAO_VERSION" 2>>"$LOG") ||
    die "no OpenBao source at $SRC (git archive $OPENBAO_VERSION of github.com/openbao/openbao there) and the module proxy does not serve github.com/openbao/openbao@$OPENBAO_VERSION; see $LOG"
  mkdir -p "$SRC" && cp -R "$(go_mod_field "$J" Dir)/." "$SRC/" && chmod -R u+w "$SRC"
fi
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

#!/usr/bin/env bash
# Builds local-kms (an AWS KMS-compatible server, github.com/nsmithuk/local-kms) into the cache and
# prints the binary's path. local-kms tags releases without a "v" ("3.12.0"), so the Go module proxy
# lists no versions for it; we build a pinned source tree instead:
#   1. $CHAINSMITH_CACHE/src/local-kms-$LOCAL_KMS_REV if present (a `git archive` of that commit), else
#   2. the module proxy's copy of $LOCAL_KMS_MODULE_VERSION when one is set and served.
# Its go.mod has no replace directives; its dependencies come from the module proxy.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/kms-versions.sh"
: "${LOCAL_KMS_MODULE_VERSION:=}"
OUT="$CACHE/bin/local-kms-$LOCAL_KMS_REV"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "local-kms-$LOCAL_KMS_REV")
SRC="$CACHE/src/local-kms-$LOCAL_KMS_REV"
if [ ! -f "$SRC/go.mod" ]; then
  [ -n "$LOCAL_KMS_MODULE_VERSION" ] ||
    die "no local-kms source at $SRC (git archive $LOCAL_KMS_REV of github.com/nsmithuk/local-kms there) and no LOCAL_KMS_MODULE_VERSION to download"
  J=$(go mod download -json "github.com/nsmithuk/local-kms@$LOCAL_KMS_MODULE_VERSION" 2>>"$LOG") ||
    die "the module proxy does not serve github.com/nsmithuk/local-kms@$LOCAL_KMS_MODULE_VERSION; see $LOG"
  mkdir -p "$SRC" && cp -R "$(go_mod_field "$J" Dir)/." "$SRC/" && chmod -R u+w "$SRC"
fi
acquire_go_lock "$LOG"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
say "building local-kms $LOCAL_KMS_REV (cold: a minute or two; log: $LOG)"
mkdir -p "$CACHE/bin"
# local-kms listens on ":$PORT" (every interface); the build copy takes PORT as a full listen address so
# the stack can bind it to 127.0.0.1 only (PORT=127.0.0.1:NNNN). The cached source stays untouched.
W="$CACHE/build/local-kms-$LOCAL_KMS_REV"
rm -rf "$W" && mkdir -p "$W" && cp -R "$SRC/." "$W/" && cd "$W"
grep -q 'http.ListenAndServe(":"+port' src/server.go || die "local-kms $LOCAL_KMS_REV: listen call not found in src/server.go"
sed -i 's/http\.ListenAndServe(":"+port/http.ListenAndServe(port/' src/server.go
export CGO_ENABLED=0 GOFLAGS=-trimpath
run_logged "building local-kms" "$LOG" go build -ldflags "-s -w -X main.Version=$LOCAL_KMS_REV" -o "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
rm -rf "$W"
say "built $OUT"
echo "$OUT"

#!/usr/bin/env bash
# A/B of the controller: the working tree's build against another revision's, on the same workload, in one
# session, rounds interleaved (base, new, base, new, …) so that drift in the machine's load hits both alike.
# The harness is the working tree's; only the controller under test differs (BENCH_CHAINSMITH_MAIN).
#
#   bash bench/ab.sh REV [ROUNDS] [bench/run.ts options…]
#   bash bench/ab.sh 1a49a06 3 --workloads burst --configs 1
#
# Prints one row per run and the mean of each side for runs/s and CPU s/run.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bash bench/ab.sh REV [ROUNDS] [bench options]}
ROUNDS=${2:-3}
shift $(($# >= 2 ? 2 : 1))
OPTS=("$@")
[ ${#OPTS[@]} -gt 0 ] || OPTS=(--workloads burst --configs 1)
OUT=$(mktemp -d /tmp/chainsmith-ab.XXXXXX)
BASE="$OUT/base-tree"
git worktree add --detach "$BASE" "$REV" >/dev/null
trap 'git worktree remove --force "$BASE" >/dev/null 2>&1 || true' EXIT
ln -s "$PWD/node_modules" "$BASE/node_modules"
# an older tree may not type-check against today's node_modules (its tests, e2e or bench); tsc still emits src/
(cd "$BASE" && npx tsc -p tsconfig.json >/dev/null) || true
[ -f "$BASE/dist/src/cli/main.js" ] || { echo "could not build $REV" >&2; exit 1; }
npm run build >/dev/null
for i in $(seq 1 "$ROUNDS"); do
  for side in base new; do
    main=$PWD/dist/src/cli/main.js
    [ "$side" = base ] && main=$BASE/dist/src/cli/main.js
    BENCH_CHAINSMITH_MAIN=$main node --import tsx bench/run.ts --quick --no-build --arms chainsmith "${OPTS[@]}" \
      --out "$OUT/$side-$i.md" >"$OUT/$side-$i.log" 2>&1
  done
done
node -e '
const fs = require("fs");
const dir = process.argv[1];
const sums = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) {
  const side = f.split("-")[0];
  for (const line of fs.readFileSync(`${dir}/${f}`, "utf8").split("\n")) {
    const c = line.split("|").map((s) => s.trim());
    if (c[3] !== "chainsmith") continue;
    console.log(`${f.padEnd(12)} ${c[1]} ${c[2]}: runs/s ${c[6]}, CPU s/run ${c[11]}`);
    const k = `${side} ${c[1]} ${c[2]}`;
    (sums[k] ??= []).push([Number(c[6]), Number(c[11])]);
  }
}
for (const [k, v] of Object.entries(sums)) {
  const mean = (i) => (v.reduce((a, x) => a + x[i], 0) / v.length).toFixed(i === 0 ? 1 : 5);
  console.log(`mean ${k} (${v.length} runs): runs/s ${mean(0)}, CPU s/run ${mean(1)}`);
}' "$OUT"
echo "reports and logs: $OUT"

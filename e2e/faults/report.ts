// Prints the rows the fault suite measured (.stack/faults/results/*.json) as the Markdown table of
// docs/reliability.md: `node --import tsx e2e/faults/report.ts`.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { faultsDir, type ResultRow } from './lib.js';

const dir = join(faultsDir(), 'results');
const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) {
  console.error(`no results in ${dir}: run the fault suite first (npm run faults, or npm run e2e)`);
  process.exit(1);
}
console.log('| scenario | mode | runs | lost | duplicated | falsely marked | failed | time to recover (s) | notes |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const f of files) {
  const r = JSON.parse(await readFile(join(dir, f), 'utf8')) as ResultRow & { at: string };
  const rec = r.recoverySeconds.length ? r.recoverySeconds.map((s) => s.toFixed(1)).join(', ') : '—';
  console.log(
    `| ${r.scenario} | ${r.mode} | ${r.runs} | ${r.lost} | ${r.duplicated} | ${r.falselyMarked} | ${r.failed} | ${rec} | ${(r.notes ?? '').replace(/\|/g, '\\|')} (${r.at}) |`,
  );
}

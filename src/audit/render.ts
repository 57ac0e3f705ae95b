// The readable audit report: totals per namespace, the oldest pending run, sign latency, then the runs that
// are not signed and why (capped; `--json` has them all).
import { formatDuration } from './duration.js';
import type { AuditResult } from './audit.js';
import { STATES, type StateCounts } from './summary.js';

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** Renders the report as text; at most `maxRuns` unsigned runs are listed. */
export function renderAuditText(r: AuditResult, maxRuns = 100): string {
  const s = r.summary;
  const lines = [`chainsmith audit — ${r.scope}${r.sinceSeconds !== undefined ? `, completed in the last ${formatDuration(r.sinceSeconds)}` : ''} (${r.generatedAt})`, ''];
  const head = ['NAMESPACE', 'SIGNED', 'FAILED', 'SKIPPED', 'PENDING', 'TOTAL'];
  const count = (c: StateCounts) => [...STATES.map((st) => String(c[st])), String(c.total)];
  lines.push(...table([head, ...s.namespaces.map((n) => [n.namespace, ...count(n)]), ['TOTAL', ...count(s.totals)]]));
  lines.push('');
  lines.push(s.oldestPending ? `oldest pending: ${s.oldestPending.kind} ${s.oldestPending.namespace}/${s.oldestPending.name}, completed ${formatDuration(s.oldestPending.ageSeconds)} ago` : 'oldest pending: none');
  lines.push(
    s.signLatency.count > 0
      ? `completion → signed: p50 ${formatDuration(s.signLatency.p50Seconds!)}, p95 ${formatDuration(s.signLatency.p95Seconds!)} (${s.signLatency.count} run(s) with chainsmith.dev/signed-at)`
      : 'completion → signed: no runs with chainsmith.dev/signed-at',
  );
  const unsigned = r.runs.filter((e) => e.state !== 'signed');
  if (unsigned.length > 0) {
    lines.push('', 'Runs not signed:');
    const order = { failed: 0, pending: 1, skipped: 2, signed: 3 };
    const shown = [...unsigned].sort((a, b) => order[a.state] - order[b.state]).slice(0, maxRuns);
    lines.push(
      ...table([
        ['STATE', 'KIND', 'RUN', 'WHY'],
        ...shown.map((e) => [e.state, e.kind, `${e.namespace}/${e.name}`, e.state === 'pending' ? `completed ${e.ageSeconds !== undefined ? formatDuration(e.ageSeconds) : '?'} ago, not signed yet` : (e.reason ?? '')]),
      ]).map((l) => `  ${l}`),
    );
    if (unsigned.length > shown.length) lines.push(`  … ${unsigned.length - shown.length} more (use --json for all)`);
  }
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `note: ${n}`));
  return lines.join('\n') + '\n';
}

// The readable audit report: totals per namespace, the oldest pending run, sign latency, then the runs that
// are not signed and why (capped; `--json` has them all). Namespaces, names, reasons and notes come from the
// cluster (run authors write annotations and Event notes): escaped, so they cannot rewrite the terminal.
import { formatDuration } from './duration.js';
import type { AuditResult } from './audit.js';
import type { AuditEntry } from './classify.js';
import { CHAINS_CONFIG, STATES, type StateCounts } from './summary.js';
import { escapeTerminal as e } from '../text/terminal.js';

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

function why(x: AuditEntry): string {
  if (x.state !== 'pending') return e(x.reason ?? '');
  return `completed ${x.ageSeconds !== undefined ? formatDuration(x.ageSeconds) : '?'} ago, not signed yet`;
}

/** Renders the report as text; at most `maxRuns` unsigned runs are listed. */
export function renderAuditText(r: AuditResult, maxRuns = 100): string {
  const s = r.summary;
  const since = r.sinceSeconds !== undefined ? `, completed in the last ${formatDuration(r.sinceSeconds)}` : '';
  const policy = r.policy !== undefined ? `, signing policy ${r.policy}` : '';
  const lines = [`chainsmith audit — ${e(r.scope)}${e(policy)}${since} (${r.generatedAt})`];
  const tlog = r.transparency;
  const tlogScope = tlog.manual ? 'manual: runs annotated chains.tekton.dev/transparency-upload: "true"' : 'true';
  lines.push(
    r.marks.verified
      ? r.marks.from
        ? `signed runs verified by their provenance read back from ${e(r.marks.from)}, with ${e(r.marks.key ?? '')}`
        : `signed marks verified with ${e(r.marks.key ?? '')}`
      : 'signed marks NOT verified (no --key/--kms): "signed" only means the run carries the annotation',
    tlog.enabled
      ? `transparency log on (${tlogScope}): signed runs without chains.tekton.dev/transparency are unlogged`
      : 'transparency log off in chains-config: transparency-log entries not checked',
    '',
  );
  // the UNVERIFIED column only means something when marks were checked, UNLOGGED when the tlog is on
  const states = STATES.filter(
    (st) => (st !== 'unverified' || r.marks.verified) && (st !== 'unlogged' || tlog.enabled || s.totals.unlogged > 0),
  );
  const head = ['NAMESPACE', ...states.map((st) => st.toUpperCase()), 'TOTAL'];
  const count = (c: StateCounts) => [...states.map((st) => String(c[st])), String(c.total)];
  const rows = s.namespaces.map((n) => [e(n.namespace), ...count(n)]);
  lines.push(...table([head, ...rows, ['TOTAL', ...count(s.totals)]]));
  lines.push('');
  const old = s.oldestPending;
  const oldest = old
    ? `${old.kind} ${e(`${old.namespace}/${old.name}`)}, completed ${formatDuration(old.ageSeconds)} ago`
    : 'none';
  lines.push(`oldest pending: ${oldest}`);
  lines.push(
    s.signLatency.count > 0
      ? `completion → signed: p50 ${formatDuration(s.signLatency.p50Seconds!)}, ` +
          `p95 ${formatDuration(s.signLatency.p95Seconds!)} ` +
          `(${s.signLatency.count} run(s) with chainsmith.dev/signed-at)`
      : 'completion → signed: no runs with chainsmith.dev/signed-at',
  );
  // only once some run was signed (or refused) under a SigningPolicy: clusters without policies see no change
  const policies = s.policies ?? []; // absent from summaries built by older code
  if (policies.some((x) => x.policy !== CHAINS_CONFIG)) {
    lines.push(
      '',
      'BY SIGNING POLICY (chainsmith.dev/signing-policy and …/policy-signer as written on each run; not verified):',
    );
    const policyHead = ['POLICY', 'SIGNER', ...states.map((st) => st.toUpperCase()), 'TOTAL'];
    const policyRows = policies.map((x) => [e(x.policy), e(x.signer), ...count(x)]);
    lines.push(...table([policyHead, ...policyRows]).map((l) => `  ${l}`));
  }
  const signers = s.signers ?? []; // absent from summaries built by older code
  if (signers.length > 0) {
    lines.push('', 'Keyless signing identities (the certificate on each run, chains.tekton.dev/cert-*; not verified):');
    const signerHead = ['IDENTITY', 'ISSUER', ...states.map((st) => st.toUpperCase()), 'TOTAL'];
    const signerRows = signers.map((x) => [e(x.identity), e(x.issuer || '(none)'), ...count(x)]);
    lines.push(...table([signerHead, ...signerRows]).map((l) => `  ${l}`));
  }
  const unsigned = r.runs.filter((x) => x.state !== 'signed');
  if (unsigned.length > 0) {
    lines.push('', 'Runs not (fully) signed:');
    const order = { unverified: 0, unlogged: 1, failed: 2, pending: 3, skipped: 4, signed: 5 };
    const shown = [...unsigned].sort((a, b) => order[a.state] - order[b.state]).slice(0, maxRuns);
    // the identity column only when some listed run was signed keylessly, the policy column under a policy
    const ids = shown.some((x) => x.signer);
    const identity = (x: AuditEntry): string[] => (ids ? [x.signer ? e(x.signer.identity) : '-'] : []);
    const pols = shown.some((x) => x.policy);
    const policy = (x: AuditEntry): string[] => (pols ? [x.policy ? e(x.policy) : '-'] : []);
    lines.push(
      ...table([
        ['STATE', 'KIND', 'RUN', ...(pols ? ['POLICY'] : []), ...(ids ? ['IDENTITY'] : []), 'WHY'],
        ...shown.map((x) => [x.state, x.kind, e(`${x.namespace}/${x.name}`), ...policy(x), ...identity(x), why(x)]),
      ]).map((l) => `  ${l}`),
    );
    if (unsigned.length > shown.length) lines.push(`  … ${unsigned.length - shown.length} more (use --json for all)`);
  }
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `note: ${e(n)}`));
  return lines.join('\n') + '\n';
}

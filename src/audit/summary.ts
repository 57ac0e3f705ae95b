// Totals over classified runs: per state, per namespace, the oldest pending run, and the completion → signed
// latency percentiles (nearest-rank, over runs chainsmith signed and timed), per keyless identity and per signing
// policy and signer.
import { policyFailureOf, type AuditEntry, type RunState } from './classify.js';

export const STATES: readonly RunState[] = ['signed', 'unverified', 'unlogged', 'failed', 'skipped', 'pending'];

export type StateCounts = Record<RunState, number> & { total: number };

export interface AuditSummary {
  totals: StateCounts;
  namespaces: Array<{ namespace: string } & StateCounts>;
  oldestPending?: { kind: string; namespace: string; name: string; ageSeconds: number };
  signLatency: { count: number; p50Seconds?: number; p95Seconds?: number };
  /** keyless signing identities (certificate SAN and issuer) and how many runs, per state, carry each; most first */
  signers: Array<{ identity: string; issuer: string } & StateCounts>;
  /**
   * per SigningPolicy (`<namespace>/<name>`; `chains-config` for runs without one, `(refused)` / `(conflict)` for
   * runs left unsigned by a `PolicyRefused` / `PolicyConflict` failure) and signer (the policy's signer, else the
   * keyless identity, else `chains-config`; `-` for those unsigned runs); most first
   */
  policies: Array<{ policy: string; signer: string } & StateCounts>;
}

/** The name a run's signing policy is counted under in `summary.policies`. */
export const CHAINS_CONFIG = 'chains-config';

/** The (policy, signer) group a run is counted under. */
export function policyGroupOf(e: AuditEntry): { policy: string; signer: string } {
  // refused or conflicting: nothing signed it, whatever the cluster's signer is
  const failure = policyFailureOf(e);
  if (failure) {
    return {
      policy: e.policy ?? (failure === 'PolicyRefused' ? '(refused)' : '(conflict)'),
      signer: e.policySigner ?? '-',
    };
  }
  return { policy: e.policy ?? CHAINS_CONFIG, signer: e.policySigner ?? e.signer?.identity ?? CHAINS_CONFIG };
}

const zero = (): StateCounts => ({
  signed: 0,
  unverified: 0,
  unlogged: 0,
  failed: 0,
  skipped: 0,
  pending: 0,
  total: 0,
});

/** The p-th percentile (0 < p ≤ 100) of sorted values, nearest-rank. */
export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Adds up the entries. */
export function summarise(entries: Iterable<AuditEntry>): AuditSummary {
  const totals = zero();
  const perNs = new Map<string, StateCounts>();
  const latencies: number[] = [];
  const bySigner = new Map<string, { identity: string; issuer: string } & StateCounts>();
  const byPolicy = new Map<string, { policy: string; signer: string } & StateCounts>();
  let oldest: AuditSummary['oldestPending'];
  for (const e of entries) {
    totals[e.state]++;
    totals.total++;
    let ns = perNs.get(e.namespace);
    if (!ns) perNs.set(e.namespace, (ns = zero()));
    ns[e.state]++;
    ns.total++;
    if (e.signLatencySeconds !== undefined) latencies.push(e.signLatencySeconds);
    if (e.signer) {
      const id = JSON.stringify([e.signer.identity, e.signer.issuer]);
      let c = bySigner.get(id);
      if (!c) bySigner.set(id, (c = { ...e.signer, ...zero() }));
      c[e.state]++;
      c.total++;
    }
    const group = policyGroupOf(e);
    const key = JSON.stringify([group.policy, group.signer]);
    let p = byPolicy.get(key);
    if (!p) byPolicy.set(key, (p = { ...group, ...zero() }));
    p[e.state]++;
    p.total++;
    if (e.state === 'pending' && e.ageSeconds !== undefined && (!oldest || e.ageSeconds > oldest.ageSeconds)) {
      oldest = { kind: e.kind, namespace: e.namespace, name: e.name, ageSeconds: e.ageSeconds };
    }
  }
  latencies.sort((x, y) => x - y);
  const signLatency: AuditSummary['signLatency'] = { count: latencies.length };
  const p50 = percentile(latencies, 50);
  const p95 = percentile(latencies, 95);
  if (p50 !== undefined) signLatency.p50Seconds = p50;
  if (p95 !== undefined) signLatency.p95Seconds = p95;
  const summary: AuditSummary = {
    totals,
    namespaces: [...perNs.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([namespace, c]) => ({ namespace, ...c })),
    signLatency,
    signers: [...bySigner.values()].sort(
      (a, b) => b.total - a.total || a.identity.localeCompare(b.identity) || a.issuer.localeCompare(b.issuer),
    ),
    policies: [...byPolicy.values()].sort(
      (a, b) => b.total - a.total || a.policy.localeCompare(b.policy) || a.signer.localeCompare(b.signer),
    ),
  };
  if (oldest) summary.oldestPending = oldest;
  return summary;
}

// `chainsmith audit`: lists completed runs page by page, classifies each from its annotations (and, for runs
// without a verdict, chainsmith's Events), and adds them up.
import type { KeyObject } from 'node:crypto';
import { managedByAllowed } from '../controller/decide.js';
import { LAST_FAILURE_ANNOTATION } from '../tekton/annotations.js';
import { classifyRun, type AuditEntry, type RunEvent, type RunSummary } from './classify.js';
import { policyGroupOf, summarise, type AuditSummary } from './summary.js';
import { summariseRun, type Cluster, type RunKind, type RunQuery } from './cluster.js';
import { checkPage, type ReadBack } from './read-back.js';

export interface AuditOptions {
  /** undefined = all namespaces */
  namespace?: string;
  /** only runs completed within this many seconds */
  sinceSeconds?: number;
  /** where chains-config lives */
  systemNamespace: string;
  now: number;
  pageSize?: number;
  /** verify each signed mark with this key (`--key`/`--kms`); without it marks are reported as written */
  markKey?: { key: KeyObject; name: string };
  /**
   * `--from BACKEND`: a signed run counts as verified when its provenance read back from that backend verifies with
   * `markKey` (instead of its annotations)
   */
  readBack?: ReadBack;
  /**
   * `--policy NAME`: only runs counted under this signing policy in `summary.policies`: `<namespace>/<name>`, a bare
   * `<name>` (in any namespace), `chains-config`, `(refused)` or `(conflict)`
   */
  policy?: string;
}

export interface AuditResult {
  generatedAt: string;
  scope: string;
  sinceSeconds?: number;
  /** `--policy NAME`: the report covers only the runs counted under it */
  policy?: string;
  summary: AuditSummary;
  /** every completed run in scope, signed ones included */
  runs: AuditEntry[];
  notes: string[];
  /** whether signed marks were verified, and with which key (`--key FILE` / `--kms REF`) */
  marks: { verified: boolean; key?: string; from?: string };
  /**
   * chains-config's `transparency.enabled` (`manual`: only for runs annotated `transparency-upload: "true"`): when
   * on, signed runs without a `chains.tekton.dev/transparency` entry it would have uploaded are `unlogged`
   */
  transparency: { enabled: boolean; manual: boolean };
}

const KINDS: RunKind[] = ['TaskRun', 'PipelineRun'];

/** Audits the runs in scope. */
export async function audit(cluster: Cluster, opts: AuditOptions): Promise<AuditResult> {
  const notes: string[] = [];
  const { config, note } = await cluster.chainsConfig(opts.systemNamespace);
  if (note) notes.push(note);
  const allowed = (m: string | undefined) => managedByAllowed(m, config);
  const markKeys = opts.markKey && !opts.readBack ? [opts.markKey.key] : undefined;
  const cutoff = opts.sinceSeconds !== undefined ? opts.now - opts.sinceSeconds * 1000 : undefined;

  const runs: AuditEntry[] = [];
  // runs without a verdict in their annotations: their Events decide between skipped and pending
  const undecided: RunSummary[] = [];
  for (const kind of KINDS) {
    const q = {
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
    };
    const inScope = (run: RunSummary) =>
      run.done && !(cutoff !== undefined && (!run.completionTime || Date.parse(run.completionTime) < cutoff));
    const summaries = opts.readBack
      ? readBackSummaries(cluster, kind, q, config, opts.readBack, inScope)
      : cluster.runSummaries(kind, q, markKeys, config);
    for await (const run of summaries) {
      if (!inScope(run)) continue;
      const first = classifyRun(run, [], { now: opts.now, managedByAllowed: allowed });
      if (!first) continue;
      if (first.state === 'pending' || (first.state === 'failed' && !run.annotations[LAST_FAILURE_ANNOTATION]))
        undecided.push(run);
      else runs.push(first);
    }
  }

  if (undecided.length > 0) {
    const namespaces = [...new Set(undecided.map((r) => r.namespace))];
    // one cluster-wide list beats many namespaced ones when the undecided runs are spread out
    const scopes: Array<string | undefined> =
      opts.namespace === undefined && namespaces.length > 20 ? [undefined] : namespaces;
    const events = new Map<string, RunEvent[]>();
    for (const ns of scopes) for (const [uid, list] of await cluster.chainsmithEvents(ns)) events.set(uid, list);
    for (const run of undecided) {
      const entry = classifyRun(run, events.get(run.uid) ?? [], { now: opts.now, managedByAllowed: allowed });
      if (entry) runs.push(entry);
    }
  }

  const wanted = opts.policy;
  const inReport = wanted === undefined ? runs : runs.filter((e) => isUnderPolicy(e, wanted));
  inReport.sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
  );
  const result: AuditResult = {
    generatedAt: new Date(opts.now).toISOString(),
    scope: opts.namespace === undefined ? 'all namespaces' : `namespace ${opts.namespace}`,
    summary: summarise(inReport),
    runs: inReport,
    notes,
    marks: opts.markKey
      ? { verified: true, key: opts.markKey.name, ...(opts.readBack ? { from: opts.readBack.reader.name } : {}) }
      : { verified: false },
    transparency: { enabled: config.transparency.enabled, manual: config.transparency.manual },
  };
  if (opts.sinceSeconds !== undefined) result.sinceSeconds = opts.sinceSeconds;
  if (wanted !== undefined) result.policy = wanted;
  return result;
}

/** Whether `--policy NAME` selects the run: its group in `summary.policies`, or a bare policy name in any namespace. */
export function isUnderPolicy(e: AuditEntry, name: string): boolean {
  const { policy } = policyGroupOf(e);
  return policy === name || (e.policy !== undefined && !name.includes('/') && policy.endsWith(`/${name}`));
}

/** Summaries of a kind's runs, each signed one in scope checked against what the backend stored, a page at a time. */
async function* readBackSummaries(
  cluster: Cluster,
  kind: RunKind,
  q: RunQuery,
  config: Parameters<typeof summariseRun>[2],
  rb: ReadBack,
  inScope: (run: RunSummary) => boolean,
): AsyncGenerator<RunSummary> {
  for await (const page of cluster.runPages(kind, q)) {
    const summaries = page.map((run) => summariseRun(run, undefined, config));
    await checkPage(page, summaries, rb, inScope);
    yield* summaries;
  }
}

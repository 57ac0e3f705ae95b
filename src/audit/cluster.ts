// The API reads and writes behind `audit` and `resign`: paged lists of runs (limit/continue, so 10,000+ runs
// stream through in pages and only a small summary of each is kept), chainsmith's Events, the cluster's
// chains-config, and merge patches of run annotations.
import type { KeyObject } from 'node:crypto';
import { DEFAULT_CONFIG, parseChainsConfig } from '../config/parse.js';
import type { ChainsConfig } from '../config/types.js';
import { CONFIGMAPS, EVENTS, KubeClient, PIPELINERUNS, TASKRUNS, type ResourceType } from '../kube/client.js';
import type { ClusterConnection } from '../kube/kubeconfig.js';
import { messageOf } from '../errors.js';
import { isDone } from '../tekton/accessors.js';
import type { Run } from '../tekton/types.js';
import { CHAINSMITH_CONTROLLER, SIGNED_ANNOTATION, TRANSPARENCY_ANNOTATION } from '../tekton/annotations.js';
import { verifyMark } from '../verify/mark.js';
import { shouldUploadTlog } from '../pipeline/sign-run.js';
import { decisionAnnotations, type RunEvent, type RunSummary } from './classify.js';
import { signingIdentityOf } from './identity.js';

export type RunKind = 'TaskRun' | 'PipelineRun';
const RESOURCE: Record<RunKind, ResourceType> = { TaskRun: TASKRUNS, PipelineRun: PIPELINERUNS };

/** The `reportingController` chainsmith's Events carry (src/observability/events.ts). */

/** Which runs to look at. */
export interface RunQuery {
  /** undefined = all namespaces */
  namespace?: string;
  labelSelector?: string;
  pageSize?: number;
}

interface Page<T> {
  items: T[];
  metadata?: { continue?: string };
}

/** Paged access to runs and Events for one kubeconfig. */
export class Cluster {
  private readonly client: KubeClient;

  constructor(readonly connection: ClusterConnection) {
    this.client = new KubeClient(connection);
  }

  /** Every run of a kind matching the query, one page at a time. */
  async *runPages(kind: RunKind, q: RunQuery): AsyncGenerator<Run[]> {
    yield* this.pages<Run>(RESOURCE[kind], q);
  }

  /**
   * Summaries of every run of a kind (payload annotations dropped as each page arrives). With `markKeys`, each
   * signed mark is verified on the whole object first (src/verify/mark.ts), so only the verdict is kept; with
   * `config`, each signed run is checked for the transparency-log entry that config asks for.
   */
  async *runSummaries(
    kind: RunKind,
    q: RunQuery,
    markKeys?: readonly KeyObject[],
    config?: ChainsConfig,
  ): AsyncGenerator<RunSummary> {
    for await (const page of this.runPages(kind, q)) for (const run of page) yield summariseRun(run, markKeys, config);
  }

  /** chainsmith's Events in a namespace (or everywhere), grouped by the uid of the run they are about. */
  async chainsmithEvents(namespace: string | undefined): Promise<Map<string, RunEvent[]>> {
    const byUid = new Map<string, RunEvent[]>();
    for await (const page of this.pages<KubeEvent>(EVENTS, { ...(namespace !== undefined ? { namespace } : {}) })) {
      for (const e of page) {
        if (e.reportingController !== CHAINSMITH_CONTROLLER) continue;
        const uid = e.regarding?.uid;
        if (!uid) continue;
        let list = byUid.get(uid);
        if (!list) byUid.set(uid, (list = []));
        list.push({
          reason: e.reason ?? '',
          note: e.note ?? '',
          type: e.type ?? '',
          time: e.eventTime ?? e.deprecatedLastTimestamp ?? e.metadata?.creationTimestamp ?? '',
        });
      }
    }
    return byUid;
  }

  /** The cluster's chains-config, or the defaults (with a note saying why) when it cannot be read. */
  async chainsConfig(systemNamespace: string): Promise<{ config: ChainsConfig; note?: string }> {
    try {
      const cm = await this.client.get<{ data?: Record<string, string> }>(CONFIGMAPS, systemNamespace, 'chains-config');
      if (!cm) return { config: DEFAULT_CONFIG, note: `no chains-config in ${systemNamespace}; using the defaults` };
      return { config: parseChainsConfig(cm.data ?? {}) };
    } catch (err) {
      return {
        config: DEFAULT_CONFIG,
        note: `chains-config in ${systemNamespace} not usable (${messageOf(err)}); using the defaults`,
      };
    }
  }

  /** JSON merge patch of a run's annotations (`null` deletes); a resourceVersion, when given, is a precondition. */
  async patchAnnotations(
    kind: RunKind,
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
    resourceVersion?: string,
  ): Promise<void> {
    const metadata = resourceVersion === undefined ? { annotations } : { resourceVersion, annotations };
    await this.client.mergePatch(RESOURCE[kind], namespace, name, { metadata });
  }

  private async *pages<T>(res: ResourceType, q: RunQuery): AsyncGenerator<T[]> {
    let cont: string | undefined;
    do {
      // errors name the verb and resource; the server's message names the namespace
      const page: Page<T> = await this.client.list<T>(res, q.namespace, {
        limit: q.pageSize ?? 500,
        continue: cont,
        labelSelector: q.labelSelector,
      });
      yield page.items ?? [];
      cont = page.metadata?.continue || undefined;
    } while (cont);
  }
}

interface KubeEvent {
  metadata?: { creationTimestamp?: string };
  reportingController?: string;
  regarding?: { uid?: string };
  reason?: string;
  note?: string;
  type?: string;
  eventTime?: string;
  deprecatedLastTimestamp?: string;
}

/**
 * The small summary audit keeps of a run, with the identity of its keyless signing certificate (if any); with
 * `markKeys`, the verdict on its signed mark; with `config`, whether a signed run lacks the transparency-log entry
 * that config uploads (the controller's own rule, `shouldUploadTlog`).
 */
export function summariseRun(run: Run, markKeys?: readonly KeyObject[], config?: ChainsConfig): RunSummary {
  const s: RunSummary = {
    kind: run.kind,
    namespace: run.metadata.namespace ?? '',
    name: run.metadata.name ?? '',
    uid: run.metadata.uid ?? '',
    done: isDone(run),
    annotations: decisionAnnotations(run.metadata.annotations),
  };
  if (run.status?.completionTime) s.completionTime = run.status.completionTime;
  if (run.spec?.managedBy !== undefined) s.managedBy = run.spec.managedBy;
  const signer = signingIdentityOf(run);
  if (signer) s.signer = signer;
  if (markKeys && s.annotations[SIGNED_ANNOTATION] === 'true') {
    const v = verifyMark(run, markKeys);
    s.mark = v.ok ? { verified: true, via: v.via } : { verified: false, why: v.why };
  }
  if (config && s.annotations[SIGNED_ANNOTATION] === 'true') {
    const entry = run.metadata.annotations?.[TRANSPARENCY_ANNOTATION];
    if (!entry && shouldUploadTlog(run, config))
      s.tlogMissing = { mode: config.transparency.manual ? 'manual' : 'true' };
  }
  return s;
}

// Watches a namespace's runs (or every namespace's) and records, per run, the first moment the harness saw
// `chains.tekton.dev/signed: "true"` on it, and optionally the annotations it carried then.
import type { KubeClient, KubeObject, ResourceType } from '../../src/kube/client.js';
import { watchObjects, type ObjectWatch } from '../../e2e/lib/kube.js';

export const SIGNED = 'chains.tekton.dev/signed';

export interface SignedWatchOptions {
  /** Keep each run's annotations as first seen signed (the policies workload checks who signed it). */
  keepAnnotations?: boolean;
}

export class SignedWatch {
  /**
   * run → epoch ms when seen signed. The key is the run's name when the watch is on one namespace, and
   * `<namespace>/<name>` when it is on every namespace (`ns` undefined).
   */
  readonly signedAt = new Map<string, number>();
  /** run (keyed as signedAt) → its annotations when first seen signed; only with `keepAnnotations`. */
  readonly annotationsAt = new Map<string, Record<string, string>>();
  private readonly watch: ObjectWatch;

  constructor(client: KubeClient, ns: string | undefined, res: ResourceType, opts: SignedWatchOptions = {}) {
    this.watch = watchObjects<KubeObject>(client, res, ns, (obj) => {
      const meta = obj.metadata as { name: string; namespace?: string; annotations?: Record<string, string> };
      const key = ns === undefined ? `${meta.namespace ?? ''}/${meta.name}` : meta.name;
      if (meta.annotations?.[SIGNED] === 'true' && !this.signedAt.has(key)) {
        this.signedAt.set(key, Date.now());
        if (opts.keepAnnotations) this.annotationsAt.set(key, { ...meta.annotations });
      }
    });
  }

  /** Resolves once the watch has its first list. */
  get synced(): Promise<void> {
    return this.watch.synced;
  }

  /** How many of `names` are signed. */
  countSigned(names: readonly string[]): number {
    let n = 0;
    for (const name of names) if (this.signedAt.has(name)) n++;
    return n;
  }

  stop(): void {
    this.watch.stop();
  }
}

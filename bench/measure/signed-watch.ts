// Watches a namespace's runs and records, per run name, the first moment the harness saw
// `chains.tekton.dev/signed: "true"` on it.
import type { KubeClient, KubeObject, ResourceType } from '../../src/kube/client.js';
import { watchObjects, type ObjectWatch } from '../../e2e/lib/kube.js';

export const SIGNED = 'chains.tekton.dev/signed';

export class SignedWatch {
  /** run name → epoch ms when seen signed. */
  readonly signedAt = new Map<string, number>();
  private readonly watch: ObjectWatch;

  constructor(client: KubeClient, ns: string, res: ResourceType) {
    this.watch = watchObjects<KubeObject>(client, res, ns, (obj) => {
      const meta = obj.metadata as { name: string; annotations?: Record<string, string> };
      if (meta.annotations?.[SIGNED] === 'true' && !this.signedAt.has(meta.name))
        this.signedAt.set(meta.name, Date.now());
    });
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

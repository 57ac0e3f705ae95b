// The harness's Kubernetes client: chainsmith's own (src/kube/, as e2e/lib/kube.ts makes it) with its one pool of
// keep-alive connections, and every request it sends counted so the workloads can subtract them from the API
// server's request totals. The load generator must stay cheap next to the controllers it measures.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { KubeClient } from '../../src/kube/client.js';
import { adminClient } from '../../e2e/lib/kube.js';

const run = promisify(execFile);

/** The admin client of a benchmark stack, counting its own requests. */
export class HarnessApi {
  readonly client: KubeClient;
  private sent = 0;

  constructor(
    private readonly kubeconfig: string,
    private readonly kubectl: string,
  ) {
    this.client = adminClient(kubeconfig, { onRequest: () => this.sent++ });
  }

  /** Resource requests sent so far (a watch counts once, when it is opened). */
  get resourceRequests(): number {
    return this.sent;
  }

  /** The API server's own /metrics text (a non-resource path: not in the request totals it reports). */
  async metrics(): Promise<string> {
    const { stdout } = await run(this.kubectl, ['--kubeconfig', this.kubeconfig, 'get', '--raw', '/metrics'], {
      maxBuffer: 256 << 20,
      timeout: 30_000,
    });
    return stdout;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.client.close();
  }
}

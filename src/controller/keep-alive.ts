// Connection reuse for the controller's API calls. @kubernetes/client-node 1.x builds a new https.Agent in
// KubeConfig.applySecurityAuthentication for every call, so every request opens a fresh TLS connection:
// a new SecureContext (the CA parsed again) and a full handshake, then the socket is thrown away. Under a
// burst that was most of the controller's busy CPU and a handshake's latency on every write (bench/RESULTS.md).
// This authenticator still applies the kubeconfig's credentials on every request (so rotated tokens and
// exec plugins keep working) but hands every request one shared keep-alive agent.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  createConfiguration,
  ServerConfiguration,
  type KubeConfig,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';

/** Applies a KubeConfig's authentication, then swaps its per-request agent for one reused keep-alive agent. */
export class KeepAliveAuthentication implements SecurityAuthentication {
  private agent: HttpAgent | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly maxSockets = 64,
  ) {}

  getName(): string {
    return 'kubeconfig-keep-alive';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kubeConfig.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    // proxy agents (socks, hpagent) subclass these; only the plain ones are replaced
    if (!this.agent && fresh?.constructor === HttpsAgent) {
      this.agent = new HttpsAgent({ ...(fresh as HttpsAgent).options, keepAlive: true, maxSockets: this.maxSockets });
    } else if (!this.agent && fresh?.constructor === HttpAgent) {
      this.agent = new HttpAgent({ keepAlive: true, maxSockets: this.maxSockets });
    }
    if (this.agent && (fresh?.constructor === HttpsAgent || fresh?.constructor === HttpAgent)) context.setAgent(this.agent);
  }

  /** Closes the pooled connections (shutdown). */
  close(): void {
    this.agent?.destroy();
  }
}

/** Like KubeConfig.makeApiClient, but every request of the client reuses `auth`'s keep-alive connections. */
export function makeKeepAliveApiClient<T>(
  kubeConfig: KubeConfig,
  auth: KeepAliveAuthentication,
  apiClientType: new (config: ReturnType<typeof createConfiguration>) => T,
): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  return new apiClientType(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
}

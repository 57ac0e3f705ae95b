// Where registry credentials for a run come from, in this order (docs/configuration.md "Registry credentials"):
// 1. the run's ServiceAccount `secrets` (docker-registry Secrets; reading them is opt-in RBAC) — never its
//    `imagePullSecrets`, which are often read-only (Chains, chains#1336 / #1883);
// 2. the controller's own docker config (`$DOCKER_CONFIG/config.json`): `credHelpers`, `credsStore`, `auths`;
// 3. the cloud keychains (ECR, Google, ACR) for their registry hosts, with the controller's cloud identity.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'winston';
import { SECRETS, SERVICEACCOUNTS, type ResourceType } from './client.js';
import { serviceAccountOf } from '../tekton/accessors.js';
import type { Run } from '../tekton/types.js';
import type { DockerAuthEntry, DockerConfigJson } from '../oci/auth.js';
import { cloudKeychain } from '../oci/cloud/index.js';
import { runCredentialHelper } from '../oci/credential-helper.js';
import {
  DockerConfigKeychain,
  MultiKeychain,
  type CachingKeychain,
  type Keychain,
  type LabelledDockerConfig,
} from '../oci/keychain.js';

export type { DockerConfigJson, DockerAuthEntry } from '../oci/auth.js';

/** Supplies the keychain that authenticates a run's registry requests. */
export interface RegistryCredentialSource {
  keychainFor(run: Run): Promise<Keychain>;
  /** the registry refused the credential resolved for it: a cached cloud token is minted again next time */
  refused?(registry: string): void;
}

/** The same keychain for every run: fixed docker configs (CLI use, tests), then optional further keychains. */
export class StaticCredentialSource implements RegistryCredentialSource {
  private readonly keychain: Keychain;

  constructor(configs: DockerConfigJson[] = [], more: Keychain[] = []) {
    this.keychain = new MultiKeychain([
      new DockerConfigKeychain(configs.map((config) => ({ config, source: 'docker config' }))),
      ...more,
    ]);
  }

  async keychainFor(): Promise<Keychain> {
    return this.keychain;
  }
}

/** The Secret fields registry auth reads. */
export interface SecretObject {
  type?: string;
  data?: Record<string, string>;
}

/** The ServiceAccount fields registry auth reads. */
export interface ServiceAccountObject {
  secrets?: Array<{ name?: string }>;
  imagePullSecrets?: Array<{ name?: string }>;
}

/** Reads one object by name; undefined when it does not exist (the KubeClient's `get`). */
export interface ObjectReader {
  get<T>(res: ResourceType, namespace: string, name: string): Promise<T | undefined>;
}

/** Decodes a docker-registry Secret (`kubernetes.io/dockerconfigjson` or legacy `kubernetes.io/dockercfg`). */
export function dockerConfigFromSecret(secret: SecretObject): DockerConfigJson | undefined {
  const data = secret.data ?? {};
  if (secret.type === 'kubernetes.io/dockerconfigjson' && data['.dockerconfigjson']) {
    return JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')) as DockerConfigJson;
  }
  if (secret.type === 'kubernetes.io/dockercfg' && data['.dockercfg']) {
    // The legacy format is the bare `auths` map.
    return {
      auths: JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8')) as Record<string, DockerAuthEntry>,
    };
  }
  return undefined;
}

/** Reads `<dir>/config.json`; undefined when absent. */
export async function readDockerConfigDir(dir: string): Promise<DockerConfigJson | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as DockerConfigJson;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Credentials from the run's ServiceAccount secrets, cached per namespace/ServiceAccount for `ttlMs`. */
export class KubernetesCredentialSource implements RegistryCredentialSource {
  private readonly client: ObjectReader;
  private readonly dockerConfigDir: string | undefined;
  private readonly ttlMs: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly cache = new Map<string, { keychain: Keychain; expiresAt: number }>();
  private readonly cloud: CachingKeychain;
  /** namespace/ServiceAccount pairs already warned about (later failures log at debug) */
  private readonly warned = new Set<string>();

  constructor(deps: {
    client: ObjectReader;
    dockerConfigDir?: string;
    ttlMs?: number;
    logger?: Logger;
    now?: () => number;
    /** the cloud keychains (default: ECR, Google, ACR with the controller's identity) */
    cloud?: CachingKeychain;
  }) {
    this.client = deps.client;
    this.cloud = deps.cloud ?? cloudKeychain();
    this.dockerConfigDir = deps.dockerConfigDir ?? process.env.DOCKER_CONFIG;
    this.ttlMs = deps.ttlMs ?? 30_000;
    this.logger = deps.logger;
    this.now = deps.now ?? Date.now;
  }

  /** The SA's `secrets`, then the controller's docker config (helpers included), then the cloud keychains. */
  async keychainFor(run: Run): Promise<Keychain> {
    const namespace = run.metadata.namespace ?? 'default';
    const sa = serviceAccountOf(run);
    const key = `${namespace}/${sa}`;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.keychain;
    const chain: Keychain[] = [new DockerConfigKeychain(await this.fromServiceAccount(namespace, sa))];
    if (this.dockerConfigDir) {
      const mounted = await readDockerConfigDir(this.dockerConfigDir);
      const source = `docker config ${path.join(this.dockerConfigDir, 'config.json')}`;
      if (mounted) chain.push(new DockerConfigKeychain([{ config: mounted, source }], runCredentialHelper));
    }
    chain.push(this.cloud);
    const keychain = new MultiKeychain(chain);
    this.cache.set(key, { keychain, expiresAt: this.now() + this.ttlMs });
    return keychain;
  }

  refused(registry: string): void {
    this.cloud.forget(registry);
  }

  private async fromServiceAccount(namespace: string, name: string): Promise<LabelledDockerConfig[]> {
    let account: ServiceAccountObject | undefined;
    try {
      account = await this.client.get<ServiceAccountObject>(SERVICEACCOUNTS, namespace, name);
      if (!account) throw new Error(`serviceaccounts "${name}" not found`);
    } catch (err) {
      // A missing SA is not fatal: anonymous or mounted credentials may still be enough to push.
      const forbidden = (err as { status?: number }).status === 403;
      const fields = { namespace, serviceAccount: name, error: String((err as Error).message ?? err) };
      // the least-privilege base install forbids this read on purpose: say how to allow it, once per account
      const key = `${namespace}/${name}`;
      const level = this.warned.has(key) ? 'debug' : 'warn';
      this.warned.add(key);
      this.logger?.[level](
        forbidden
          ? 'cannot read the run ServiceAccount (forbidden: ' +
              'bind ClusterRole chainsmith-controller-registry-auth in this namespace, ' +
              'or install manifests/components/run-registry-credentials; ' +
              'see docs/install.md "Scoping registry credentials"); using the controller’s own credentials only'
          : 'cannot read the run ServiceAccount; using the controller’s own credentials only',
        fields,
      );
      return [];
    }
    // `imagePullSecrets` are left out: they are pull credentials, often read-only, and one of them for the registry
    // would shadow a push credential (Chains stopped reading them too, chains#1883)
    const names = (account.secrets ?? []).map((s) => s.name);
    const seen = new Set<string>();
    const out: LabelledDockerConfig[] = [];
    for (const secretName of names) {
      if (!secretName || seen.has(secretName)) continue;
      seen.add(secretName);
      try {
        const secret = await this.client.get<SecretObject>(SECRETS, namespace, secretName);
        if (!secret) throw new Error(`secrets "${secretName}" not found`);
        const config = dockerConfigFromSecret(secret);
        if (config) out.push({ config, source: `ServiceAccount ${namespace}/${name} secret ${secretName}` });
      } catch (err) {
        this.logger?.warn('cannot read a ServiceAccount secret; skipping it', {
          namespace,
          serviceAccount: name,
          secret: secretName,
          error: String((err as Error).message ?? err),
        });
      }
    }
    return out;
  }
}

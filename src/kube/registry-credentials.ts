// Where registry credentials for a run come from: the run's ServiceAccount (its `secrets`, which are the
// push-capable ones, before its `imagePullSecrets`) plus an optional mounted `$DOCKER_CONFIG/config.json`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'winston';
import { SECRETS, SERVICEACCOUNTS, type ResourceType } from './client.js';
import { serviceAccountOf } from '../tekton/accessors.js';
import type { Run } from '../tekton/types.js';
import type { DockerAuthEntry, DockerConfigJson } from '../oci/auth.js';

export type { DockerConfigJson, DockerAuthEntry } from '../oci/auth.js';

/** Supplies the Docker configs to authenticate a run's registry pushes, in priority order. */
export interface RegistryCredentialSource {
  dockerConfigsFor(run: Run): Promise<DockerConfigJson[]>;
}

/** A fixed list of configs (CLI use, tests). */
export class StaticCredentialSource implements RegistryCredentialSource {
  constructor(private readonly configs: DockerConfigJson[] = []) {}

  /** The same configs for every run. */
  async dockerConfigsFor(): Promise<DockerConfigJson[]> {
    return this.configs;
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
  private readonly cache = new Map<string, { configs: DockerConfigJson[]; expiresAt: number }>();
  /** namespace/ServiceAccount pairs already warned about (later failures log at debug) */
  private readonly warned = new Set<string>();

  constructor(deps: {
    client: ObjectReader;
    dockerConfigDir?: string;
    ttlMs?: number;
    logger?: Logger;
    now?: () => number;
  }) {
    this.client = deps.client;
    this.dockerConfigDir = deps.dockerConfigDir ?? process.env.DOCKER_CONFIG;
    this.ttlMs = deps.ttlMs ?? 30_000;
    this.logger = deps.logger;
    this.now = deps.now ?? Date.now;
  }

  /** The SA's `secrets`, then its `imagePullSecrets`, then the mounted DOCKER_CONFIG. */
  async dockerConfigsFor(run: Run): Promise<DockerConfigJson[]> {
    const namespace = run.metadata.namespace ?? 'default';
    const sa = serviceAccountOf(run);
    const key = `${namespace}/${sa}`;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.configs;
    const configs = [...(await this.fromServiceAccount(namespace, sa))];
    if (this.dockerConfigDir) {
      const mounted = await readDockerConfigDir(this.dockerConfigDir);
      if (mounted) configs.push(mounted);
    }
    this.cache.set(key, { configs, expiresAt: this.now() + this.ttlMs });
    return configs;
  }

  private async fromServiceAccount(namespace: string, name: string): Promise<DockerConfigJson[]> {
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
              'see docs/install.md "Scoping registry credentials"); using mounted credentials only'
          : 'cannot read the run ServiceAccount; using mounted credentials only',
        fields,
      );
      return [];
    }
    const names = [
      ...(account.secrets ?? []).map((s) => s.name),
      ...(account.imagePullSecrets ?? []).map((s) => s.name),
    ];
    const seen = new Set<string>();
    const out: DockerConfigJson[] = [];
    for (const secretName of names) {
      if (!secretName || seen.has(secretName)) continue;
      seen.add(secretName);
      try {
        const secret = await this.client.get<SecretObject>(SECRETS, namespace, secretName);
        if (!secret) throw new Error(`secrets "${secretName}" not found`);
        const cfg = dockerConfigFromSecret(secret);
        if (cfg) out.push(cfg);
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

// Where registry credentials for a run come from: the run's ServiceAccount (its `secrets`, which are the
// push-capable ones, before its `imagePullSecrets`) plus an optional mounted `$DOCKER_CONFIG/config.json`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import type { Run } from '../tekton/types.js';
import type { DockerAuthEntry, DockerConfigJson } from './auth.js';

export type { DockerConfigJson, DockerAuthEntry } from './auth.js';

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

/** The ServiceAccount a run's pods use (`default` when unset), as Chains resolves it. */
export function serviceAccountOf(run: Run): string {
  const name = run.kind === 'TaskRun' ? run.spec.serviceAccountName : run.spec.taskRunTemplate?.serviceAccountName;
  return name && name !== '' ? name : 'default';
}

/** Decodes a docker-registry Secret (`kubernetes.io/dockerconfigjson` or legacy `kubernetes.io/dockercfg`). */
export function dockerConfigFromSecret(secret: V1Secret): DockerConfigJson | undefined {
  const data = secret.data ?? {};
  if (secret.type === 'kubernetes.io/dockerconfigjson' && data['.dockerconfigjson']) {
    return JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')) as DockerConfigJson;
  }
  if (secret.type === 'kubernetes.io/dockercfg' && data['.dockercfg']) {
    // The legacy format is the bare `auths` map.
    return { auths: JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8')) as Record<string, DockerAuthEntry> };
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
  private readonly core: CoreV1Api;
  private readonly dockerConfigDir: string | undefined;
  private readonly ttlMs: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly cache = new Map<string, { configs: DockerConfigJson[]; expiresAt: number }>();

  constructor(deps: { core: CoreV1Api; dockerConfigDir?: string; ttlMs?: number; logger?: Logger; now?: () => number }) {
    this.core = deps.core;
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
    let account;
    try {
      account = await this.core.readNamespacedServiceAccount({ name, namespace });
    } catch (err) {
      // A missing SA is not fatal: anonymous or mounted credentials may still be enough to push.
      this.logger?.warn('cannot read the run ServiceAccount; using mounted credentials only', { namespace, serviceAccount: name, error: String((err as Error).message ?? err) });
      return [];
    }
    const names = [...(account.secrets ?? []).map((s) => s.name), ...(account.imagePullSecrets ?? []).map((s) => s.name)];
    const seen = new Set<string>();
    const out: DockerConfigJson[] = [];
    for (const secretName of names) {
      if (!secretName || seen.has(secretName)) continue;
      seen.add(secretName);
      try {
        const secret = await this.core.readNamespacedSecret({ name: secretName, namespace });
        const cfg = dockerConfigFromSecret(secret);
        if (cfg) out.push(cfg);
      } catch (err) {
        this.logger?.warn('cannot read a ServiceAccount secret; skipping it', { namespace, serviceAccount: name, secret: secretName, error: String((err as Error).message ?? err) });
      }
    }
    return out;
  }
}

// Which credential a registry gets: keychains asked in a documented order (docs/configuration.md "Registry
// credentials"), as go-containerregistry's multi-keychain asks Chains' ones. A keychain answers for one registry
// with a credential and where it came from (the source names it in errors; the secret itself is never shown).
import { ChainsmithError } from '../errors.js';
import { credentialOf, registryOfAuthKey, type DockerConfigJson, type RegistryCredential } from './auth.js';
import { normaliseRegistry } from '../reference/reference.js';

/** A credential for one registry, and where it came from. */
export interface ResolvedCredential {
  credential: RegistryCredential;
  /** for messages: e.g. `docker config /etc/registry/config.json`, `ECR keychain (AWS SDK)`; never the secret */
  source: string;
  /** epoch ms after which the credential is no longer valid (cloud tokens); undefined when it does not expire */
  expiresAt?: number;
}

/** Answers which credential to send to a registry; undefined when it has none (the next keychain is asked). */
export interface Keychain {
  resolve(registry: string): Promise<ResolvedCredential | undefined>;
}

/** The keychains in order: the first one with a credential for the registry wins. */
export class MultiKeychain implements Keychain {
  constructor(private readonly keychains: readonly Keychain[]) {}

  async resolve(registry: string): Promise<ResolvedCredential | undefined> {
    for (const k of this.keychains) {
      const found = await k.resolve(registry);
      if (found) return found;
    }
    return undefined;
  }
}

/** Runs a Docker credential helper's `get` for a server; undefined when the helper has no credential for it. */
export type CredentialHelperGet = (
  helper: string,
  serverUrl: string,
) => Promise<{ username: string; secret: string } | undefined>;

/** A Docker config and what to call it in messages. */
export interface LabelledDockerConfig {
  config: DockerConfigJson;
  /** e.g. `ServiceAccount ns/builder secret push-creds`, `docker config /home/app/.docker/config.json` */
  source: string;
}

/**
 * Docker configs, in order. Within one config, as the docker CLI: the registry's `credHelpers` entry, else the
 * `credsStore` helper, else its `auths` entry. Helpers run only when `helpers` is given (the controller's own
 * config; a config from a Secret of a run's namespace never names a program to run).
 */
export class DockerConfigKeychain implements Keychain {
  constructor(
    private readonly configs: readonly LabelledDockerConfig[],
    private readonly helpers?: CredentialHelperGet,
  ) {}

  async resolve(registry: string): Promise<ResolvedCredential | undefined> {
    const wanted = normaliseRegistry(registry);
    for (const { config, source } of this.configs) {
      const helper = this.helpers ? helperFor(config, wanted) : undefined;
      if (helper !== undefined && this.helpers) {
        const found = await this.helpers(helper, serverUrlOf(wanted));
        if (found) return { credential: helperCredential(found), source: `${source} (docker-credential-${helper})` };
        continue;
      }
      for (const [key, entry] of Object.entries(config.auths ?? {})) {
        if (registryOfAuthKey(key) !== wanted) continue;
        const credential = credentialOf(entry);
        if (credential) return { credential, source };
      }
    }
    return undefined;
  }
}

function helperFor(config: DockerConfigJson, registry: string): string | undefined {
  for (const [key, name] of Object.entries(config.credHelpers ?? {}))
    if (registryOfAuthKey(key) === registry && typeof name === 'string' && name !== '') return name;
  return typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined;
}

// The docker CLI asks helpers for Docker Hub under its legacy index URL, and for every other registry by host.
function serverUrlOf(registry: string): string {
  return registry === 'index.docker.io' ? 'https://index.docker.io/v1/' : registry;
}

// A helper answering the user name `<token>` holds an identity token (OAuth2 refresh token), as docker reads it.
function helperCredential(found: { username: string; secret: string }): RegistryCredential {
  return found.username === '<token>'
    ? { kind: 'refresh-token', username: '', refreshToken: found.secret }
    : { kind: 'basic', username: found.username, password: found.secret };
}

/** How long before expiry a cached cloud credential is renewed: 5 minutes, or half its life when that is shorter. */
export function renewAt(obtainedAt: number, expiresAt: number): number {
  return expiresAt - Math.min(5 * 60_000, (expiresAt - obtainedAt) / 2);
}

/**
 * One credential per registry, kept until shortly before it expires (`renewAt`); concurrent resolutions share one
 * request. "None available" (no cloud identity here) is remembered for `negativeTtlMs`, so a cluster without a
 * cloud identity does not probe for one on every push. Failures are not remembered.
 */
export class CachingKeychain implements Keychain {
  private readonly cache = new Map<string, { value: ResolvedCredential | undefined; until: number }>();
  private readonly pending = new Map<string, Promise<ResolvedCredential | undefined>>();

  constructor(
    private readonly inner: Keychain,
    private readonly opts: { negativeTtlMs?: number; now?: () => number } = {},
  ) {}

  async resolve(registry: string): Promise<ResolvedCredential | undefined> {
    const now = (this.opts.now ?? Date.now)();
    const hit = this.cache.get(registry);
    if (hit && hit.until > now) return hit.value;
    const inflight = this.pending.get(registry);
    if (inflight) return inflight;
    const p = this.inner
      .resolve(registry)
      .then((value) => {
        const until = value
          ? value.expiresAt === undefined
            ? Number.POSITIVE_INFINITY
            : renewAt(now, value.expiresAt)
          : now + (this.opts.negativeTtlMs ?? 5 * 60_000);
        this.cache.set(registry, { value, until });
        return value;
      })
      .finally(() => this.pending.delete(registry));
    this.pending.set(registry, p);
    return p;
  }

  /** Forgets the credential of `registry` (the registry refused it): the next resolution asks again. */
  forget(registry: string): void {
    this.cache.delete(registry);
  }
}

/** A keychain failure, named by its source; `transient` when asking again later may help. */
export function keychainError(source: string, registry: string, detail: string, transient: boolean): ChainsmithError {
  return new ChainsmithError('RegistryUnauthorized', `registry ${registry}: ${source}: ${detail}`, { transient });
}

// Registry authentication: Docker config JSON look-up, WWW-Authenticate challenges, and bearer tokens.
import { createHash } from 'node:crypto';
import { normaliseRegistry } from '../reference/reference.js';

/** One `auths` entry of a Docker config.json (or a legacy `.dockercfg` entry). */
export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
}

/** A Docker config.json (`kubernetes.io/dockerconfigjson` Secret, `$DOCKER_CONFIG/config.json`). */
export interface DockerConfigJson {
  auths?: Record<string, DockerAuthEntry>;
  /** registry host → credential helper name (`docker-credential-<name>`) */
  credHelpers?: Record<string, string>;
  /** the credential helper for every registry without a `credHelpers` entry */
  credsStore?: string;
}

/** Credentials for one registry. */
export type RegistryCredential =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'refresh-token'; username: string; refreshToken: string }
  | { kind: 'bearer'; token: string };

/** One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"`. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

// The key of an `auths` entry may be a URL (`https://index.docker.io/v1/`) or `host[:port][/path]`.
export function registryOfAuthKey(key: string): string {
  let k = key.trim();
  const scheme = k.indexOf('://');
  if (scheme >= 0) k = k.slice(scheme + 3);
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  return normaliseRegistry(k);
}

/** The credential an `auths` entry holds, if any. */
export function credentialOf(entry: DockerAuthEntry): RegistryCredential | undefined {
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  if (entry.registrytoken) return { kind: 'bearer', token: entry.registrytoken };
  if (entry.identitytoken) return { kind: 'refresh-token', username, refreshToken: entry.identitytoken };
  if (username !== '' || password !== '') return { kind: 'basic', username, password };
  return undefined;
}

/** The first credential for `registry` in the configs, in order (first config that has one wins). */
export function credentialFor(configs: DockerConfigJson[], registry: string): RegistryCredential | undefined {
  const wanted = normaliseRegistry(registry);
  for (const cfg of configs) {
    for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
      if (registryOfAuthKey(key) !== wanted) continue;
      const cred = credentialOf(entry);
      if (cred) return cred;
    }
  }
  return undefined;
}

/** Parses a WWW-Authenticate header into its challenges (RFC 7235; quoted values may contain commas). */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && !' \t,="'.includes(header[i] as string)) i++;
    return header.slice(start, i);
  };
  let current: AuthChallenge | undefined;
  while (i < n) {
    skip();
    if (i >= n) break;
    const name = token();
    if (name === '') {
      i++;
      continue;
    }
    let j = i;
    while (j < n && (header[j] === ' ' || header[j] === '\t')) j++;
    if (header[j] === '=' && current) {
      i = j + 1;
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else value = token();
      current.params[name.toLowerCase()] = value;
    } else {
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** `repository:<repo>:<actions>` */
export function repositoryScope(repository: string, actions: Array<'pull' | 'push'>): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/** A stable, non-reversible identity of a credential, so cached tokens are never shared across credentials. */
export function credentialIdentity(cred: RegistryCredential | undefined): string {
  if (!cred) return 'anonymous';
  const material =
    cred.kind === 'basic'
      ? `${cred.username}:${cred.password}`
      : cred.kind === 'bearer'
        ? cred.token
        : cred.refreshToken;
  return createHash('sha256').update(`${cred.kind}\0${material}`).digest('hex').slice(0, 16);
}

/**
 * What a process learns about registries and keeps between clients: bearer tokens (by realm, service, scopes
 * and credential identity, until shortly before they expire), auth challenges and the scheme each speaks.
 */
export class TokenCache {
  private readonly entries = new Map<string, { token: string; expiresAt: number }>();
  private readonly challenges = new Map<string, AuthChallenge>();
  private readonly schemes = new Map<string, 'http' | 'https'>();
  private readonly inFlight = new Map<string, Promise<string>>();
  constructor(private readonly now: () => number = Date.now) {}

  /** The scheme a registry was found to speak (only probed for loopback and insecure registries). */
  scheme(registry: string): 'http' | 'https' | undefined {
    return this.schemes.get(registry);
  }

  /** Remembers the scheme a registry speaks. */
  setScheme(registry: string, scheme: 'http' | 'https'): void {
    this.schemes.set(registry, scheme);
  }

  /** The last auth challenge a registry sent, so new clients authenticate up front instead of after a 401. */
  challenge(registry: string): AuthChallenge | undefined {
    return this.challenges.get(registry);
  }

  /** Remembers a registry's auth challenge. */
  setChallenge(registry: string, challenge: AuthChallenge): void {
    this.challenges.set(registry, challenge);
  }

  /**
   * The live token for `key`, fetched with `fetch` when there is none. Requests that ask while a fetch is under
   * way wait for that one (a store uploads its blobs at once: one token request, not one per blob).
   */
  async obtain(key: string, fetch: () => Promise<{ token: string; expiresIn: number }>): Promise<string> {
    const live = this.get(key);
    if (live) return live;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = fetch()
        .then(({ token, expiresIn }) => {
          this.set(key, token, expiresIn);
          return token;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** A live token, or undefined. */
  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  /** Stores a token valid for `expiresInSeconds` (a 10% / 10 s safety margin is taken off). */
  set(key: string, token: string, expiresInSeconds: number): void {
    const margin = Math.min(10, expiresInSeconds * 0.1);
    this.entries.set(key, { token, expiresAt: this.now() + (expiresInSeconds - margin) * 1000 });
    // Bound the cache: drop expired entries once it grows.
    if (this.entries.size > 1000)
      for (const [k, v] of this.entries) if (v.expiresAt <= this.now()) this.entries.delete(k);
  }

  /** Forgets a token the registry rejected. */
  delete(key: string): void {
    this.entries.delete(key);
  }
}

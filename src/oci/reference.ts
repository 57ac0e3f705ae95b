// OCI references split for the registry client: `[registry/]path[:tag][@digest]` → registry, path, tag, digest.
// Parsed by the one grammar in grammar.ts that type hinting uses too, so the repositories we talk to, the
// signed `docker-reference`s and the names `verify` expects can never disagree.
import { ChainsmithError } from '../errors.js';
import { DEFAULT_REGISTRY, isTag, parseName, parseReferenceParts } from './grammar.js';

/**
 * A parsed reference. `registry` is named as go-containerregistry names it (`index.docker.io` for Docker Hub,
 * else as written); `repository` is the path inside the registry (`library/ubuntu`, `demo/app`).
 */
export interface OciReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = DEFAULT_REGISTRY;
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** A registry host name for look-ups (credentials, caches): Hub aliases → `index.docker.io`, lower case. */
export function normaliseRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** Parses an image reference; undefined when it is not a valid OCI reference (purls, URLs, upper case, `..` …). */
export function parseReference(input: string): OciReference | undefined {
  const r = parseReferenceParts(input);
  return r.ok ? r.value : undefined;
}

/** Parses a repository name (no tag, no digest), e.g. `storage.oci.repository`. */
export function parseRepository(input: string): OciReference | undefined {
  const r = parseName(input);
  return r.ok ? r.value : undefined;
}

/** `registry/repository`, the full repository name as cosign and Chains print it. */
export function repositoryName(ref: Pick<OciReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * The cosign attachment tag for a digest: `sha256:abc` + `.sig` → `sha256-abc.sig`. Throws InvalidReference when
 * the result is not a tag of the grammar (only `sha256:<64 hex>` digests make one).
 */
export function attachmentTag(digest: string, suffix: 'sig' | 'att' | 'sbom' | ''): string {
  if (!isSha256Digest(digest)) {
    const shown = JSON.stringify(digest.slice(0, 200));
    throw new ChainsmithError('InvalidReference', `attachment tags are made from sha256 digests, not ${shown}`);
  }
  const base = digest.replace(':', '-');
  const tag = suffix === '' ? base : `${base}.${suffix}`;
  if (!isTag(tag)) throw new ChainsmithError('InvalidReference', `${JSON.stringify(tag)} is not a valid tag`);
  return tag;
}

/** True for registries on the loopback interface, which are spoken to over plain http. */
export function isLoopbackRegistry(registry: string): boolean {
  let host = registry;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  host = host.toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The host that serves the registry API (Docker Hub's API is not on `index.docker.io`). */
export function apiHost(registry: string): string {
  const r = normaliseRegistry(registry);
  return r === DOCKER_HUB ? 'registry-1.docker.io' : r;
}

/** True for `sha256:<64 lower hex>`. */
export function isSha256Digest(digest: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(digest);
}

// OCI references split for the registry client: `[registry/]path[:tag][@digest]` → registry host, path,
// tag, digest. Naming (Docker Hub → `index.docker.io`, `library/` for one-segment Hub paths) is delegated to
// src/artifacts/reference.ts so that signed `docker-reference`s and the repositories we talk to agree.
import { normaliseRepository } from '../artifacts/reference.js';

/** A parsed reference. `repository` is the path inside the registry (`library/ubuntu`, `demo/app`). */
export interface OciReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'index.docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/** Normalises a registry host name: Docker Hub aliases become `index.docker.io`, case is folded. */
export function normaliseRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** Parses an image reference; undefined when it is not a valid OCI reference (purls, URLs, upper case …). */
export function parseReference(input: string): OciReference | undefined {
  let rest = input.trim();
  if (rest === '' || rest.includes('://')) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  let full: string;
  try {
    full = normaliseRepository(rest);
  } catch {
    return undefined;
  }
  const slash = full.indexOf('/');
  const registry = normaliseRegistry(full.slice(0, slash));
  const repository = full.slice(slash + 1);
  // go-containerregistry's weak validation admits empty path segments; no registry serves those.
  if (repository.split('/').some((p) => p === '')) return undefined;
  const ref: OciReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Parses a repository name (no tag, no digest), e.g. `storage.oci.repository`. */
export function parseRepository(input: string): OciReference | undefined {
  const ref = parseReference(input);
  if (!ref || ref.tag !== undefined || ref.digest !== undefined) return undefined;
  return ref;
}

/** `registry/repository`, the full repository name as cosign and Chains print it. */
export function repositoryName(ref: Pick<OciReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The cosign attachment tag for a digest: `sha256:abc` + `.sig` → `sha256-abc.sig`. */
export function attachmentTag(digest: string, suffix: 'sig' | 'att' | 'sbom' | ''): string {
  const base = digest.replace(':', '-');
  return suffix === '' ? base : `${base}.${suffix}`;
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
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/** True for `sha256:<64 lower hex>`. */
export function isSha256Digest(digest: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(digest);
}

// Image references, parsed once for every layer: type hinting, the registry client, storage and `verify` all
// read references through this module, which sits on the one strict grammar in grammar.ts (the distribution
// reference grammar) and names repositories exactly as go-containerregistry's `name.NewDigest`/`NewRepository`
// do (the normalised name becomes the subject name and the simplesigning `docker-reference`, and verifiers
// compare those strings). Docker Hub rules, in one place:
//  * the first path component is the registry iff it is `localhost` or contains `.` or `:`; no registry, or
//    `docker.io`, becomes `index.docker.io`; one-component Docker Hub paths get `library/`;
//  * for look-ups (credentials, token caches) the Hub aliases `registry-1.docker.io` and
//    `registry.hub.docker.com` are the same registry as `index.docker.io`.
// Digest references for type hinting: exactly one `@`; the digest must be `sha256:` + 64 lowercase hex
// (go-containerregistry's image digests); an optional `:tag` (`[\w][\w.-]{0,127}`) is stripped. The repository
// path is path components of the grammar joined by `/`, at least 2 characters, the whole name at most 255.
// go-containerregistry's weak validation accepts more (`..`, empty segments, `_`-led components, `%` in hosts …):
// such references are refused with InvalidReference (docs/compatibility.md).
import { ChainsmithError } from '../errors.js';
import { DEFAULT_REGISTRY, parseName, parseReferenceParts, quote } from './grammar.js';

export { DEFAULT_REGISTRY };

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

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** A registry host name for look-ups (credentials, caches): Hub aliases → `index.docker.io`, lower case. */
export function normaliseRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return HUB_ALIASES.has(lower) ? DEFAULT_REGISTRY : lower;
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

/** A parsed image digest reference. */
export interface ParsedImageReference {
  /** normalised repository name, e.g. `index.docker.io/library/ubuntu` */
  repository: string;
  /** `sha256:<64 hex>` */
  digest: string;
  /** the tag written in the reference, if any (it plays no part in the identity) */
  tag?: string;
}

type Failure = { ok: false; reason: 'InvalidDigest' | 'InvalidReference'; problem: string };
type Outcome<T> = { ok: true; value: T } | Failure;

/** Parses `repo[:tag]@sha256:hex`, explaining a failure (InvalidDigest for the digest part, else InvalidReference). */
export function parseImageReferenceDetailed(s: string): Outcome<ParsedImageReference> {
  const ats = s.split('@').length - 1;
  if (ats !== 1) {
    const problem =
      ats === 0
        ? `${quote(s)} has no digest (expected <repository>@sha256:<hex>)`
        : `${quote(s)} must contain exactly one "@"`;
    return { ok: false, reason: 'InvalidReference', problem };
  }
  // The image-digest rule is checked first so a bad digest is named as such whatever the name looks like.
  const digestWhy = imageDigestProblem(s.slice(s.indexOf('@') + 1));
  if (digestWhy) return { ok: false, reason: 'InvalidDigest', problem: digestWhy };
  const parsed = parseReferenceParts(s);
  if (!parsed.ok) {
    const reason = parsed.part === 'digest' ? 'InvalidDigest' : 'InvalidReference';
    return { ok: false, reason, problem: parsed.problem };
  }
  const { registry, repository, tag, digest } = parsed.value;
  const value: ParsedImageReference = { repository: `${registry}/${repository}`, digest: digest! };
  if (tag !== undefined) value.tag = tag;
  return { ok: true, value };
}

/**
 * Parses an OCI digest reference (`repo[:tag]@sha256:<hex>`) with go-containerregistry's Docker Hub
 * normalisation (`ubuntu@…` → `index.docker.io/library/ubuntu`). Undefined when invalid.
 */
export function parseImageReference(s: string): ParsedImageReference | undefined {
  const r = parseImageReferenceDetailed(s);
  return r.ok ? r.value : undefined;
}

/**
 * Normalises a repository name (no tag, no digest) the way go-containerregistry names it:
 * `ubuntu` → `index.docker.io/library/ubuntu`, `docker.io/x/y` → `index.docker.io/x/y`.
 * Throws ChainsmithError('InvalidReference') when it is not a valid repository.
 */
export function normaliseRepository(repo: string): string {
  const r = parseName(repo);
  if (!r.ok) throw new ChainsmithError('InvalidReference', `invalid repository: ${r.problem}`);
  return `${r.value.registry}/${r.value.repository}`;
}

/** An OCI image digest as go-containerregistry accepts it: exactly `sha256:` + 64 lowercase hex, untrimmed. */
export function isImageDigest(s: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

/** Why a string is not an OCI image digest (`sha256:` + 64 lowercase hex), or undefined when it is. */
export function imageDigestProblem(s: string): string | undefined {
  if (isImageDigest(s)) return undefined;
  if (!s.startsWith('sha256:')) return `image digests must be sha256:<64 hex>, got "${s}"`;
  const hex = s.slice('sha256:'.length);
  if (hex.length !== 64) return `sha256 digest must have 64 hex characters, got ${hex.length}`;
  return 'sha256 digest must be lowercase hex (0-9, a-f)';
}

// The one image-reference grammar every reference that enters chainsmith is parsed with: type hinting, storage
// (`storage.oci.repository`), `verify`, and names and digests a registry sends back. It is the distribution
// reference grammar (github.com/distribution/reference regexp.go), split and normalised exactly as
// go-containerregistry's `name` package does (first component is the registry iff it is `localhost` or contains
// `.` or `:`; `docker.io` and no registry → `index.docker.io`; one-component Hub paths get `library/`), so every
// name we accept is byte-identical to the subject name and `docker-reference` Tekton Chains writes for it.
// What ggcr's weak validation accepts beyond this grammar (`..`, empty segments, `%`, `_`-led components …) is
// refused: those strings would otherwise become request paths outside `/v2/<name>/`.

/** distribution's NameTotalLengthMax: the full repository name (`registry/path`) has at most this many characters. */
export const NAME_TOTAL_LENGTH_MAX = 255;
/** Longest reference string looked at; longer input is refused before any pattern runs (name + tag + sha512). */
export const REFERENCE_LENGTH_MAX = 1024;

export const DEFAULT_REGISTRY = 'index.docker.io';
const REGISTRY_ALIAS = 'docker.io';

// distribution/reference regexp.go, anchored. `\w` is ASCII-only in both Go's RE2 and non-`u` JavaScript.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';
const REMOTE_NAME_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::([0-9]+))?$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** Characters a reference may contain at all; anything else (`%`, `?`, `#`, `\`, spaces, controls) is refused. */
const REFERENCE_CHARS = /^[A-Za-z0-9._\-/:@[\]]*$/;

/** A reference split and named as go-containerregistry names it. */
export interface ReferenceParts {
  /** `index.docker.io` for Docker Hub, else the registry as written (case kept, as ggcr keeps it) */
  registry: string;
  /** the path inside the registry, `library/` added for one-component Docker Hub names */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Which part of a reference is broken: the digest (after `@`) or the name/tag before it. */
export type ReferenceFailure = { ok: false; part: 'digest' | 'name'; problem: string };
export type ReferenceOutcome = { ok: true; value: ReferenceParts } | ReferenceFailure;

function fail(part: 'digest' | 'name', problem: string): ReferenceFailure {
  return { ok: false, part, problem };
}

/** A string quoted for a message: JSON escapes control characters, the rest of the escaping is the printer's. */
export function quote(s: string, max = 300): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

function badCharacter(s: string): string | undefined {
  if (REFERENCE_CHARS.test(s)) return undefined;
  const c = [...s].find((ch) => !REFERENCE_CHARS.test(ch))!;
  const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `${quote(s)} contains the character U+${code}, which no image reference may contain`;
}

// The OCI image spec's registered algorithms: their encoded part is lowercase hex of a fixed length.
const REGISTERED_DIGESTS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };

/**
 * Why a digest is not `algorithm:hex` per the distribution grammar (with the OCI image spec's rule for sha256 and
 * sha512: lowercase hex of 64 / 128 digits), or undefined.
 */
export function digestGrammarProblem(digest: string): string | undefined {
  if (digest.length > REFERENCE_LENGTH_MAX) return `digest is longer than ${REFERENCE_LENGTH_MAX} characters`;
  if (!DIGEST_RE.test(digest)) return `digest ${quote(digest)} is not <algorithm>:<hex> (at least 32 hex digits)`;
  const algorithm = digest.slice(0, digest.indexOf(':'));
  const registered = Object.hasOwn(REGISTERED_DIGESTS, algorithm) ? REGISTERED_DIGESTS[algorithm] : undefined;
  if (registered && !registered.test(digest.slice(algorithm.length + 1))) {
    const digits = algorithm === 'sha256' ? 64 : 128;
    return `digest ${quote(digest)} must be ${algorithm}:<lowercase hex of ${digits} digits>`;
  }
  return undefined;
}

/** True for a digest of the distribution grammar (sha256 and sha512 as the OCI image spec registers them). */
export function isGrammarDigest(digest: string): boolean {
  return digestGrammarProblem(digest) === undefined;
}

/** True for a tag of the distribution grammar (`[\w][\w.-]{0,127}`). */
export function isTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** Why a registry host[:port] is not a domain of the grammar (or its port is not 1–65535), or undefined. */
export function registryProblem(registry: string): string | undefined {
  const m = DOMAIN_RE.exec(registry);
  if (!m) return `registry ${quote(registry)} is not a valid host[:port]`;
  const port = m[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return `registry ${quote(registry)} has an invalid port`;
  }
  return undefined;
}

/** Why a repository path (without registry) is not a remote-name of the grammar, or undefined. */
export function pathProblem(path: string): string | undefined {
  const runes = [...path].length;
  // go-containerregistry's own lower bound; the grammar's upper bound is on the whole name (checked later).
  if (runes < 2 || runes > NAME_TOTAL_LENGTH_MAX) {
    return `repository ${quote(path)} must be between 2 and 255 characters`;
  }
  if (REMOTE_NAME_RE.test(path)) return undefined;
  if (/[A-Z]/.test(path)) return `repository ${quote(path)} must be lowercase`;
  if (path.split('/').some((c) => c === '')) return `repository ${quote(path)} has an empty path component`;
  return (
    `repository ${quote(path)} is not a valid path: components are lowercase letters and digits joined by ` +
    `".", "_", "__" or dashes, separated by "/"`
  );
}

/** True for a repository path (`library/ubuntu`, `team/app`) of the grammar, at most 255 characters. */
export function isRepositoryPath(path: string): boolean {
  return path.length >= 2 && path.length <= NAME_TOTAL_LENGTH_MAX && REMOTE_NAME_RE.test(path);
}

/** Splits a name (no tag, no digest) into registry and path, validates both, and names it as ggcr does. */
export function parseName(name: string): ReferenceOutcome {
  if (name === '') return fail('name', 'a repository name must be specified');
  const bad = badCharacter(name);
  if (bad) return fail('name', bad);
  let registry = '';
  let path = name;
  const slash = name.indexOf('/');
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (first === 'localhost' || first.includes('.') || first.includes(':')) {
      registry = first;
      path = name.slice(slash + 1);
    }
  }
  const pathWhy = pathProblem(path);
  if (pathWhy) return fail('name', pathWhy);
  if (registry !== '') {
    const registryWhy = registryProblem(registry);
    if (registryWhy) return fail('name', registryWhy);
  }
  if (registry === '' || registry === REGISTRY_ALIAS) registry = DEFAULT_REGISTRY;
  const repository = !path.includes('/') && registry === DEFAULT_REGISTRY ? `library/${path}` : path;
  const full = `${registry}/${repository}`;
  if (full.length > NAME_TOTAL_LENGTH_MAX) {
    return fail('name', `repository name ${quote(full)} is longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return { ok: true, value: { registry, repository } };
}

/**
 * Parses `name[:tag][@digest]`. The digest is checked against the distribution grammar only; callers that need
 * a particular algorithm (image digests are `sha256:<64 hex>`) check that afterwards.
 */
export function parseReferenceParts(input: string): ReferenceOutcome {
  if (input.length > REFERENCE_LENGTH_MAX) {
    return fail('name', `reference is longer than ${REFERENCE_LENGTH_MAX} characters`);
  }
  const parts = input.split('@');
  if (parts.length > 2) return fail('name', `${quote(input)} must contain at most one "@"`);
  const [base, digest] = parts as [string, string | undefined];
  if (digest !== undefined) {
    const why = digestGrammarProblem(digest);
    if (why) return fail('digest', why);
  }
  const bad = badCharacter(base);
  if (bad) return fail('name', bad);
  let name = base;
  let tag: string | undefined;
  // A last `:` after the last `/` starts a tag; one before it belongs to a registry port.
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) {
    name = base.slice(0, colon);
    tag = base.slice(colon + 1);
    if (tag === '') return fail('name', `${quote(base)} must specify a tag name after the colon`);
    if (!TAG_RE.test(tag)) {
      return fail('name', `tag ${quote(tag)} must be 1–128 of A-Z a-z 0-9 _ . - and must not start with "." or "-"`);
    }
  }
  const parsed = parseName(name);
  if (!parsed.ok) return parsed;
  const value: ReferenceParts = { ...parsed.value };
  if (tag !== undefined) value.tag = tag;
  if (digest !== undefined) value.digest = digest;
  return { ok: true, value };
}

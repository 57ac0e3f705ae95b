// OCI digest references parsed and named exactly as go-containerregistry's `name.NewDigest` (weak validation,
// the mode Chains uses), because the normalised name becomes the subject name and the simplesigning
// `docker-reference`, and verifiers compare those strings. Rules (vendor/github.com/google/go-containerregistry/pkg/name):
//  * exactly one `@`; the digest must be `sha256:` + 64 lowercase hex;
//  * an optional `:tag` (1–128 of [A-Za-z0-9_.-]) is stripped;
//  * the first path component is the registry iff it is `localhost` or contains `.` or `:`; it must be a valid
//    RFC 3986 authority; `docker.io` and no registry become `index.docker.io`;
//  * the repository path is 2–255 characters of [a-z0-9_-./]; one-component Docker Hub paths get `library/`.
import { ChainsmithError } from '../errors.js';
import { imageDigestProblem } from './digest.js';

export const DEFAULT_REGISTRY = 'index.docker.io';
const REGISTRY_ALIAS = 'docker.io';
const REPOSITORY_CHARS = /^[a-z0-9_\-./]*$/;
const TAG_CHARS = /^[A-Za-z0-9_.-]*$/;
// Go's url.Parse accepts these ASCII characters in a host (unreserved, sub-delims, ':', '[', ']', '<', '>', '"');
// bytes >= 0x80 pass too. '%' would be unescaped (so the host would differ) and is therefore rejected.
const HOST_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"\u0080-\uffff]*$/;

/** A parsed image digest reference. */
export interface ParsedImageReference {
  /** normalised repository name, e.g. `index.docker.io/library/ubuntu` */
  repository: string;
  /** `sha256:<64 hex>` */
  digest: string;
  /** the tag written in the reference, if any (it plays no part in the identity) */
  tag?: string;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: 'InvalidDigest' | 'InvalidReference'; problem: string };

function fail(reason: 'InvalidDigest' | 'InvalidReference', problem: string): { ok: false; reason: 'InvalidDigest' | 'InvalidReference'; problem: string } {
  return { ok: false, reason, problem };
}

/** go-containerregistry's checkRegistry: `url.Parse("//" + name).Host == name`. */
function registryProblem(registry: string): string | undefined {
  if (!HOST_CHARS.test(registry)) return `registry "${registry}" is not a valid host[:port]`;
  let hostEnd = registry.length;
  if (registry.startsWith('[')) {
    const close = registry.lastIndexOf(']');
    if (close < 0) return `registry "${registry}" is missing "]"`;
    hostEnd = close + 1;
  } else {
    const colon = registry.lastIndexOf(':');
    if (colon >= 0) hostEnd = colon;
  }
  const port = registry.slice(hostEnd);
  if (port !== '' && !/^:[0-9]*$/.test(port)) return `registry "${registry}" has an invalid port`;
  return undefined;
}

function repositoryProblem(path: string): string | undefined {
  const runes = [...path].length;
  if (runes < 2 || runes > 255) return `repository "${path}" must be between 2 and 255 characters`;
  if (!REPOSITORY_CHARS.test(path)) return `repository "${path}" may only contain lowercase letters, digits and _-./`;
  return undefined;
}

/** go-containerregistry's NewRepository + Repository.Name(). */
function parseRepository(name: string): Outcome<string> {
  if (name === '') return fail('InvalidReference', 'a repository name must be specified');
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
  const repoProblem = repositoryProblem(path);
  if (repoProblem) return fail('InvalidReference', repoProblem);
  const regProblem = registryProblem(registry);
  if (regProblem) return fail('InvalidReference', regProblem);
  if (registry === '' || registry === REGISTRY_ALIAS) registry = DEFAULT_REGISTRY;
  const implicitNamespace = !path.includes('/') && registry === DEFAULT_REGISTRY;
  return { ok: true, value: `${registry}/${implicitNamespace ? `library/${path}` : path}` };
}

/** go-containerregistry's NewTag (weak): the normalised repository name and the tag, if one is written. */
function parseTagged(name: string): Outcome<{ repository: string; tag?: string }> {
  const parts = name.split(':');
  let base = name;
  let tag = '';
  // A last `:` segment that contains `/` is a registry port, not a tag.
  if (parts.length > 1 && !parts[parts.length - 1]!.includes('/')) {
    base = parts.slice(0, -1).join(':');
    tag = parts[parts.length - 1]!;
    if (tag === '') return fail('InvalidReference', `"${name}" must specify a tag name after the colon`);
  }
  if (tag !== '') {
    const runes = [...tag].length;
    if (runes > 128 || !TAG_CHARS.test(tag)) return fail('InvalidReference', `tag "${tag}" may only contain up to 128 of A-Z a-z 0-9 _ . -`);
  }
  const repo = parseRepository(base);
  if (!repo.ok) return repo;
  return { ok: true, value: tag === '' ? { repository: repo.value } : { repository: repo.value, tag } };
}

/** Parses `repo[:tag]@sha256:hex`, explaining a failure (reason InvalidDigest for the digest part, else InvalidReference). */
export function parseImageReferenceDetailed(s: string): Outcome<ParsedImageReference> {
  const parts = s.split('@');
  if (parts.length !== 2) {
    return fail('InvalidReference', parts.length === 1 ? `"${s}" has no digest (expected <repository>@sha256:<hex>)` : `"${s}" must contain exactly one "@"`);
  }
  const [base, digest] = parts as [string, string];
  const digestWhy = imageDigestProblem(digest);
  if (digestWhy) return fail('InvalidDigest', digestWhy);
  // Like NewDigest: try base as a tagged name; if that fails, parse it as a plain repository (which then fails
  // with the repository's own message, since a ':' is not a repository character).
  const tagged = parseTagged(base);
  if (tagged.ok) {
    return { ok: true, value: tagged.value.tag === undefined ? { repository: tagged.value.repository, digest } : { repository: tagged.value.repository, digest, tag: tagged.value.tag } };
  }
  const repo = parseRepository(base);
  if (!repo.ok) return tagged.problem.startsWith('tag') || tagged.problem.includes('tag name') ? tagged : repo;
  return { ok: true, value: { repository: repo.value, digest } };
}

/**
 * Parses an OCI digest reference (`repo[:tag]@sha256:<hex>`) as go-containerregistry does, with Docker Hub
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
  const r = parseRepository(repo);
  if (!r.ok) throw new ChainsmithError('InvalidReference', `invalid repository: ${r.problem}`);
  return r.value;
}

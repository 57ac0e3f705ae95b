// OCI digest references for type hinting, named exactly as go-containerregistry's `name.NewDigest` names them
// (the normalised name becomes the subject name and the simplesigning `docker-reference`, and verifiers compare
// those strings), but validated by the one strict grammar in src/oci/grammar.ts (the distribution reference
// grammar), which the registry client, storage and `verify` use as well. Rules:
//  * exactly one `@`; the digest must be `sha256:` + 64 lowercase hex (go-containerregistry's image digests);
//  * an optional `:tag` (`[\w][\w.-]{0,127}`) is stripped;
//  * the first path component is the registry iff it is `localhost` or contains `.` or `:`; it must be a
//    domain of the grammar (host components, IPv4 or bracketed IPv6, optional port); `docker.io` and no
//    registry become `index.docker.io`;
//  * the repository path is path components of the grammar joined by `/`, at least 2 characters, and the whole
//    name is at most 255 characters; one-component Docker Hub paths get `library/`.
// go-containerregistry's weak validation accepts more (`..`, empty segments, `_`-led components, `%` in hosts …):
// such references are refused with InvalidReference (docs/compatibility.md).
import { ChainsmithError } from '../errors.js';
import { DEFAULT_REGISTRY, parseName, parseReferenceParts, quote } from '../oci/grammar.js';
import { imageDigestProblem } from './digest.js';

export { DEFAULT_REGISTRY };

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

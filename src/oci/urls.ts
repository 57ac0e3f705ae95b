// Every URL the registry client sends a request to is built here from validated parts, and checked once more
// before it is used: it stays on the registry's origin, under `/v2/<name>/`, with no `..`, no percent-encoding, no
// backslash, no fragment, and a query only where the distribution API has one. Registry-supplied upload
// `Location`s are accepted only on the same origin and under `/v2/<name>/blobs/uploads/`.
import { ChainsmithError } from '../errors.js';
import { isGrammarDigest, isRepositoryPath, isTag, quote } from '../reference/grammar.js';

/** What a request is for; the URL is derived from it and nothing else. */
export type RequestTarget =
  | { kind: 'manifest'; reference: string }
  | { kind: 'blob'; digest: string }
  | { kind: 'referrers'; digest: string }
  /** POST `/v2/<name>/blobs/uploads/` (optionally `?mount=&from=`) */
  | { kind: 'start-upload'; query?: Record<string, string> }
  /** a session URL the registry gave in `Location` (already checked by `uploadLocation`), plus our query */
  | { kind: 'upload-session'; url: URL; query?: Record<string, string> };

function refuse(detail: string): ChainsmithError {
  return new ChainsmithError('RegistryError', detail);
}

// Raw text that must not reach a request line: path tricks a server might decode after our checks.
const UNSAFE_RAW = /(?:^|[/\\])\.\.?(?:[/\\?#]|$)|%|\\|#|[\u0000-\u0020\u007f-\u009f]/;

/** The `/v2/<name>/` prefix of a repository, refusing a name outside the grammar. */
export function repositoryPrefix(repository: string): string {
  if (!isRepositoryPath(repository)) throw refuse(`repository ${quote(repository)} is not a valid repository path`);
  return `/v2/${repository}/`;
}

/** The URL of a request, from the registry's base (`scheme://host/`) and validated parts. */
export function registryUrl(base: URL, repository: string, target: RequestTarget): URL {
  const prefix = repositoryPrefix(repository);
  let url: URL;
  switch (target.kind) {
    case 'manifest':
      if (!isTag(target.reference) && !isGrammarDigest(target.reference)) {
        throw refuse(`${quote(target.reference)} is neither a tag nor a digest`);
      }
      url = new URL(`${prefix}manifests/${target.reference}`, base);
      break;
    case 'blob':
    case 'referrers':
      if (!isGrammarDigest(target.digest)) throw refuse(`${quote(target.digest)} is not a digest`);
      url = new URL(`${prefix}${target.kind === 'blob' ? 'blobs' : 'referrers'}/${target.digest}`, base);
      break;
    case 'start-upload':
      url = new URL(`${prefix}blobs/uploads/`, base);
      break;
    case 'upload-session':
      url = new URL(target.url);
      break;
  }
  if (target.kind === 'start-upload' || target.kind === 'upload-session') {
    for (const [k, v] of Object.entries(target.query ?? {})) url.searchParams.set(k, v);
  }
  assertRegistryUrl(url, base, repository, target.kind === 'start-upload' || target.kind === 'upload-session');
  return url;
}

/** Throws unless `url` is on the registry's origin, under `/v2/<repository>/`, with nothing that could leave it. */
export function assertRegistryUrl(url: URL, base: URL, repository: string, queryAllowed: boolean): void {
  const prefix = repositoryPrefix(repository);
  const problem =
    url.origin !== base.origin
      ? `another origin (${url.origin})`
      : url.username !== '' || url.password !== ''
        ? 'credentials in the URL'
        : !url.pathname.startsWith(prefix)
          ? `a path outside ${prefix}`
          : UNSAFE_RAW.test(url.pathname)
            ? 'a dot segment, a percent-encoding, a backslash or a control character in the path'
            : url.hash !== ''
              ? 'a fragment'
              : !queryAllowed && url.search !== ''
                ? 'a query'
                : undefined;
  if (problem) throw refuse(`refusing a request URL with ${problem}: ${quote(url.pathname.slice(0, 200))}`);
}

/**
 * The upload session URL a registry named in `Location` (absolute or relative). Only the registry's own origin and
 * `/v2/<repository>/blobs/uploads/…` are accepted; the registry's query (session state) is kept.
 */
export function uploadLocation(base: URL, repository: string, location: string): URL {
  const prefix = `${repositoryPrefix(repository)}blobs/uploads/`;
  const rawPath = location.split('?')[0]!;
  if (location.length > 8192 || UNSAFE_RAW.test(rawPath) || /[#\u0000-\u0020\u007f-\u009f\\]/.test(location)) {
    throw refuse(`upload Location ${quote(location.slice(0, 200))} contains path tricks or forbidden characters`);
  }
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    throw refuse(`upload Location ${quote(location.slice(0, 200))} is not a URL`);
  }
  if (url.origin !== base.origin) {
    throw refuse(`upload Location points to another origin (${quote(url.origin)}); not followed`);
  }
  if (!url.pathname.startsWith(prefix)) {
    throw refuse(`upload Location ${quote(url.pathname.slice(0, 200))} is outside ${prefix}; not followed`);
  }
  assertRegistryUrl(url, base, repository, true);
  return url;
}

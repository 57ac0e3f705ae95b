// The OIDC identity token a keyless signer exchanges at Fulcio (chains-behaviour.md §5; Chains `fulcioSigner` with
// cosign's providers). Chains' rule: with `signers.x509.identity.token.file` set and the provider empty,
// `filesystem` or `filesystem-custom-path`, the token is read from that file; with no file, cosign's filesystem
// provider reads /var/run/sigstore/cosign/oidc-token. `envvar` reads SIGSTORE_ID_TOKEN. Providers that need a cloud
// metadata service or a SPIFFE socket are refused with the reason instead of being tried.
// The token is read again for every certificate, so a projected ServiceAccount token rotated by the kubelet (or a
// file fixed by hand) is used from the next signature on, without a restart. Only its claims are read here, never
// its signature: Fulcio verifies it. The token itself never reaches a log or an Event.
import { ChainsmithError, messageOf } from '../errors.js';
import { displayPath, readInputText } from '../input/read.js';

/** cosign's filesystem provider path (Chains' default when no token file is configured). */
export const DEFAULT_TOKEN_FILE = '/var/run/sigstore/cosign/oidc-token';
/** A JWT is a few kB; a projected ServiceAccount token ~1 kB. */
export const MAX_TOKEN_BYTES = 64 * 1024;

/** Where the token comes from (`signers.x509.fulcio.provider`, `signers.x509.identity.token.file`). */
export interface TokenSourceConfig {
  provider?: string;
  tokenFile?: string;
  /**
   * a token asked for on demand instead of a file (a SigningPolicy's keyless identity: a TokenRequest for the
   * tenant's ServiceAccount); `source` names it in messages
   */
  fetch?: { source: string; get: () => Promise<string> };
}

/** The claims of a token that matter for a Fulcio certificate and for messages. */
export interface IdentityToken {
  /** the raw JWT: secret, never logged */
  jwt: string;
  issuer: string;
  subject: string;
  audience: string[];
  /** seconds since the epoch, when the token has `exp` */
  expiresAt?: number;
  /** what the proof of possession signs: the verified email when the token has one, else `sub` (cosign's rule) */
  challenge: string;
  /** where it was read from, for messages */
  source: string;
}

const fail = (message: string, transient = false) => new ChainsmithError('KeylessFailed', message, { transient });

const UNSUPPORTED: Record<string, string> = {
  spiffe: 'it reads a SPIFFE Workload API socket',
  google: 'it needs the Google metadata server or impersonation',
  'github-actions': 'it needs a GitHub Actions runner',
  buildkite: 'it needs a Buildkite agent',
  'buildkite-agent': 'it needs a Buildkite agent',
};

/** Checks the provider setting; returns why it cannot be used, or "" (called when the config is loaded too). */
export function tokenSourceProblem(cfg: TokenSourceConfig): string {
  const p = cfg.provider ?? '';
  if (p === '' || p === 'filesystem' || p === 'filesystem-custom-path' || p === 'envvar') return '';
  const why = UNSUPPORTED[p];
  return why
    ? `signers.x509.fulcio.provider "${p}" is not supported by chainsmith (${why}); mount a projected ` +
        'ServiceAccount token (audience sigstore) and set signers.x509.identity.token.file'
    : `signers.x509.fulcio.provider "${p}" is unknown (supported: filesystem, filesystem-custom-path, envvar)`;
}

/** Reads the token for the next certificate; throws KeylessFailed (transient when it may appear or be renewed). */
export async function readIdentityToken(
  cfg: TokenSourceConfig,
  env: NodeJS.ProcessEnv = process.env,
  now: Date = new Date(),
): Promise<IdentityToken> {
  const problem = tokenSourceProblem(cfg);
  if (problem) throw fail(problem);
  let jwt: string;
  let source: string;
  if (cfg.fetch) {
    source = cfg.fetch.source;
    try {
      jwt = (await cfg.fetch.get()).trim();
    } catch (err) {
      throw fail(`cannot obtain the identity token (${source}): ${messageOf(err)}`, true);
    }
    if (jwt === '') throw fail(`no identity token: ${source} returned none`, true);
  } else if (cfg.provider === 'envvar') {
    source = 'the SIGSTORE_ID_TOKEN environment variable';
    jwt = (env.SIGSTORE_ID_TOKEN ?? '').trim();
    if (jwt === '') throw fail(`no identity token: ${source} is empty`);
  } else {
    const file = cfg.tokenFile || DEFAULT_TOKEN_FILE;
    source = displayPath(file);
    try {
      jwt = (await readInputText(file, { reason: 'KeylessFailed', maxBytes: MAX_TOKEN_BYTES })).trim();
    } catch (err) {
      // the kubelet writes a projected token shortly after start: a missing file may appear
      throw fail(`cannot read the identity token ${messageOf(err)}`, true);
    }
    if (jwt === '') throw fail(`no identity token: ${source} is empty`, true);
  }
  const token = parseToken(jwt, source);
  if (token.expiresAt !== undefined && token.expiresAt * 1000 <= now.getTime())
    throw fail(
      `the identity token from ${source} expired at ${new Date(token.expiresAt * 1000).toISOString()} ` +
        '(a projected ServiceAccount token is renewed by the kubelet; a static one must be replaced)',
      true,
    );
  return token;
}

/** The claims of a JWT (not its signature: Fulcio checks that), or KeylessFailed naming what is wrong. */
export function parseToken(jwt: string, source: string): IdentityToken {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)))
    throw fail(`the identity token from ${source} is not a JWT (three base64url parts)`);
  let claims: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    claims = parsed as Record<string, unknown>;
  } catch (err) {
    throw fail(`the identity token from ${source} has no readable claims (${messageOf(err)})`);
  }
  const str = (k: string): string => (typeof claims[k] === 'string' ? (claims[k] as string) : '');
  const issuer = str('iss');
  const subject = str('sub');
  if (issuer === '') throw fail(`the identity token from ${source} has no "iss" claim`);
  const aud = claims.aud;
  const audience = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : [];
  const email = str('email');
  let challenge = subject;
  if (email !== '') {
    // cosign (sigstore oauthflow.SubjectFromToken): an email must be verified by the issuer to be the subject
    if (claims.email_verified !== true)
      throw fail(`the identity token from ${source} has an email that its issuer did not verify`);
    challenge = email;
  }
  if (challenge === '') throw fail(`the identity token from ${source} has neither "sub" nor "email"`);
  const exp = claims.exp;
  return {
    jwt,
    issuer,
    subject,
    audience,
    ...(typeof exp === 'number' && Number.isFinite(exp) ? { expiresAt: exp } : {}),
    challenge,
    source,
  };
}

/** A one-line description of a token for messages: issuer, subject, audience, expiry — never the token. */
export function describeToken(t: IdentityToken): string {
  const exp = t.expiresAt === undefined ? '' : `, expires ${new Date(t.expiresAt * 1000).toISOString()}`;
  const aud = t.audience.join(',') || '(none)';
  return `token from ${t.source}: iss ${t.issuer}, sub ${t.subject || '(none)'}, aud ${aud}${exp}`;
}

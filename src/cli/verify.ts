// `chainsmith verify IMAGE`: checks an image's signatures and attestations in its registry against a public key.
import { ChainsmithError, messageOf } from '../errors.js';
import { parseReference, parseRepository } from '../reference/reference.js';
import { PREDICATE_TYPE_NAMES, resolvePredicateType } from '../verify/predicate-types.js';
import { verifyImage } from '../verify/registry.js';
import { renderVerifyJson, renderVerifyText } from '../verify/render.js';
import { readPublicKeyFile } from '../verify/key.js';
import { readFulcioRootFile, stringMatcher, type KeylessPolicy, type StringMatcher } from '../verify/certificate.js';
import type { SignerTrust } from '../verify/keyless.js';
import { rekorLogKey, type RekorLogKey } from '../verify/tlog.js';
import { readTrustedRootFile, type TrustedRootMaterial } from '../verify/trusted-root.js';
import type { VerifyPolicy } from '../verify/assess.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { checkPublicKeyFlags, PUBLIC_KEY_FLAGS, readPublicKeyFlag } from './key-flags.js';
import { escapeTerminal } from '../text/terminal.js';

export const help = `Usage: chainsmith verify IMAGE[:TAG|@DIGEST] (--key cosign.pub | --kms REF) [flags]
       chainsmith verify IMAGE (--certificate-identity ID | --certificate-identity-regexp RE)
                               (--certificate-oidc-issuer ISS | --certificate-oidc-issuer-regexp RE)
                               [--fulcio-root PEM] [--rekor-public-key PEM | --insecure-ignore-tlog] [flags]
       chainsmith verify IMAGE --trusted-root trusted_root.json (--key … | the keyless flags) [flags]

Verifies what is stored next to an image in its registry — cosign signatures (tag sha256-<hex>.sig),
attestations (sha256-<hex>.att) and sigstore-bundle referrers — and prints each check: passed, failed, why.

Checked, in order (the first broken link is named):
  digest          the tag resolves (HEAD) / the digest exists
  signature       some simple-signing signature verifies with the key over its payload, its
                  docker-manifest-digest is the image digest and its docker-reference the repository
  attestation     some DSSE attestation verifies (signature over PAE) and has a subject with the image digest
                  (required only with --predicate-type, --builder-id or --require-attestation)
  predicate-type  some verified attestation has this predicateType (as cosign verify-attestation --type)
  builder-id      every verified provenance of that type names this builder
                  (predicate.builder.id for SLSA v0.2, predicate.runDetails.builder.id for v1.0)
  tlog            with a Rekor public key: each signature and attestation counted above has a Rekor v1 entry
                  (cosign's dev.sigstore.cosign/bundle annotation, or the bundle's tlogEntries) whose signed
                  entry timestamp verifies with the key, whose logID is the key's, and whose body records
                  exactly the stored bytes; one without an entry fails ("no transparency-log entry")
  certificate     keyless (identity flags): the certificate stored with the signature chains to a root of the
                  Fulcio root file (intermediates from that file and the stored chain), has the code-signing
                  EKU, its SAN is the identity and its Fulcio OIDC-issuer extension the issuer, and the signing
                  time - the tlog entry's integratedTime, trusted through its SET - lies inside its validity;
                  the signature is then checked with the certificate's key. SCTs are not checked.
  inclusion-proof a bundle entry's inclusion proof leads from the leaf hash of its body to the proof's root hash
  checkpoint      and its checkpoint is signed by the Rekor key, has Rekor's origin and the proof's tree size
                  and root hash (the .sig/.att annotation carries no proof: there, as for cosign, the SET is it)
  With --trusted-root (a sigstore trusted_root.json), for each sigstore-bundle referrer:
  tlog            the entry is required and its logId is a log of the trusted root; a Rekor v1 entry is checked
                  as above with that log's key; a Rekor v2 entry (hashedrekord 0.0.2, no SET) must be of a log
                  valid at the signing time, record the stored signature and the digest of the signed bytes
                  (the DSSE PAE, or the payload) and name the key or certificate
  inclusion-proof Rekor v2 too: the audit path from the leaf hash of the body to the proof's root hash
  checkpoint      Rekor v2: an Ed25519 signed note of the log (key hint from its name and key), origin = signer,
                  with the proof's tree size and root hash
  timestamp       each RFC 3161 timestamp is over the signature bytes, signed by a timestamp authority of the
                  trusted root whose chain verifies (leaf with the timeStamping EKU), genTime inside its validity;
                  checked when present, and keyless with a Rekor v2 entry one is required: its time is the
                  signing time the certificate is judged at

Flags:
  --key FILE               public key PEM (cosign.pub) or certificate
  --kms REF                public key of a KMS key (hashivault://, awskms://, gcpkms://, azurekms://)
  --certificate-identity ID
                           keyless: the exact certificate SAN, e.g. the controller's ServiceAccount
                           https://kubernetes.io/namespaces/NS/serviceaccounts/SA
  --certificate-identity-regexp RE
                           keyless: a regular expression some SAN must match (anywhere, as cosign's;
                           JavaScript syntax: anchor it with ^…$)
  --certificate-oidc-issuer ISS
                           keyless: the exact OIDC issuer in Fulcio's issuer extension
  --certificate-oidc-issuer-regexp RE
                           keyless: a regular expression the issuer must match
  --fulcio-root FILE       keyless: the Fulcio root (and intermediate) certificates, PEM
                           (default $SIGSTORE_ROOT_FILE); only its self-signed roots are trusted
  --predicate-type T       ${PREDICATE_TYPE_NAMES.join('|')}, or a URI
  --builder-id URI         the builder id the provenance must name
  --require-attestation    fail when no valid attestation exists, even without the two flags above
  --repository REPO        read the .sig/.att tags from REPO (chains-config storage.oci.repository;
                           default $COSIGN_REPOSITORY, else the image's own repository)
  --rekor-public-key FILE  Rekor's public key PEM (default $SIGSTORE_REKOR_PUBLIC_KEY): require and check
                           transparency-log entries, offline, against that log (without it, entries of the
                           public-good rekor.sigstore.dev are still checked with its built-in key)
  --trusted-root FILE      a sigstore trusted_root.json (as cosign v3 takes it): its transparency logs (Rekor v1
                           and v2) are required and its timestamp authorities check RFC 3161 timestamps; keyless,
                           its certificate authorities are the Fulcio roots unless --fulcio-root is given. Not read
                           from the environment. --rekor-public-key, when also given, checks entries of its log
  --insecure-ignore-tlog   do not check transparency-log entries (what happens anyway without a Rekor key;
                           cosign's default is to require the tlog, so pass a key to check as cosign does).
                           Keyless, the Rekor key is required unless this is given, and then certificates
                           are judged at the current time (an expired Fulcio certificate fails)
  --insecure               plain http / no TLS verification (loopback registries always use http)
  --json                   print the report as JSON

Registry credentials come from $DOCKER_CONFIG/config.json (default ~/.docker/config.json).
Exit status: 0 verified, 1 not verified, 2 bad input.

Example:
  chainsmith verify --key cosign.pub --predicate-type slsaprovenance1 \\
    --builder-id https://tekton.dev/chains/v2 registry.example.com/app@sha256:…
`;

/** Runs `verify`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...PUBLIC_KEY_FLAGS,
    ...KEYLESS_FLAGS,
    'predicate-type': { type: 'string' },
    'builder-id': { type: 'string' },
    'require-attestation': { type: 'boolean' },
    repository: { type: 'string' },
    'rekor-public-key': { type: 'string' },
    'trusted-root': { type: 'string' },
    'insecure-ignore-tlog': { type: 'boolean' },
    insecure: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new CliError(
      positionals.length === 0
        ? 'an IMAGE reference is required (see --help)'
        : `one IMAGE expected, got ${positionals.length}`,
    );
  const input = positionals[0]!;
  const ref = parseReference(input);
  if (!ref) throw new CliError(`"${input}" is not an image reference (registry/repository[:tag][@sha256:…])`);
  const keyless = keylessRequested(values);
  if (!keyless) checkPublicKeyFlags(values);
  const policy: VerifyPolicy = { requireAttestation: values['require-attestation'] ?? false };
  if (values['predicate-type'] !== undefined) {
    const uri = resolvePredicateType(values['predicate-type']);
    if (!uri)
      throw new CliError(
        `--predicate-type "${values['predicate-type']}" is neither a URI nor one of ${PREDICATE_TYPE_NAMES.join(', ')}`,
      );
    policy.predicateType = uri;
  }
  if (values['builder-id'] !== undefined) {
    if (values['builder-id'] === '') throw new CliError('--builder-id must not be empty');
    policy.builderId = values['builder-id'];
  }

  const overrideText = values.repository ?? (process.env.COSIGN_REPOSITORY || undefined);
  const attachmentRepository = overrideText === undefined ? undefined : parseRepository(overrideText);
  if (overrideText !== undefined && !attachmentRepository)
    throw new CliError(`"${overrideText}" is not a repository name (registry/path, no tag or digest)`);

  const rekorKeyPath = values['insecure-ignore-tlog']
    ? undefined
    : (values['rekor-public-key'] ?? (process.env.SIGSTORE_REKOR_PUBLIC_KEY || undefined));
  if (rekorKeyPath === '') throw new CliError('--rekor-public-key must not be empty');
  const trustedRootPath = values['trusted-root'];
  if (trustedRootPath === '') throw new CliError('--trusted-root must not be empty');
  const trustedRoot = trustedRootPath === undefined ? undefined : await readTrustedRoot(trustedRootPath);
  if (keyless && rekorKeyPath === undefined && !trustedRoot && !values['insecure-ignore-tlog'])
    throw new CliError(
      'keyless verification needs the transparency log (a Fulcio certificate is valid for minutes; the log ' +
        'entry proves when it signed): give --rekor-public-key FILE (or $SIGSTORE_REKOR_PUBLIC_KEY), ' +
        '--trusted-root FILE, or --insecure-ignore-tlog',
    );

  let key: SignerTrust;
  try {
    key = keyless ? await readKeylessFlags(values, trustedRoot) : await readPublicKeyFlag(values);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof ChainsmithError && err.transient)
      throw new CliError(`cannot read the public key: ${messageOf(err)}`, 1);
    throw new CliError(messageOf(err));
  }
  if (rekorKeyPath !== undefined) policy.rekor = await readRekorKey(rekorKeyPath);
  if (trustedRoot) {
    policy.trustedRoot = trustedRoot;
    if (values['insecure-ignore-tlog']) policy.ignoreTlog = true;
  }

  let report;
  try {
    report = await verifyImage(ref, input, key, policy, {
      insecure: values.insecure ?? false,
      ...(attachmentRepository ? { attachmentRepository } : {}),
    });
  } catch (err) {
    // the registry could not be asked: not a verdict about the image, but not bad input either
    throw new CliError(`cannot read ${escapeTerminal(input)} from its registry: ${escapeTerminal(messageOf(err))}`, 1);
  }
  process.stdout.write(values.json ? renderVerifyJson(report) : renderVerifyText(report));
  if (!report.verified && !values.json) {
    process.stderr.write(`chainsmith verify: ${escapeTerminal(input)}: ${escapeTerminal(report.firstFailure ?? '')}\n`);
  }
  return report.verified ? 0 : 1;
}

/** The flags of keyless verification, cosign's names (spread them into a command's own options). */
export const KEYLESS_FLAGS = {
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  'fulcio-root': { type: 'string' },
} as const;

interface KeylessValues {
  key?: string;
  kms?: string;
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'certificate-oidc-issuer-regexp'?: string;
  'fulcio-root'?: string;
}

/** True when any keyless flag is given; then --key/--kms must not be, and an identity and an issuer must (checked). */
export function keylessRequested(values: KeylessValues): boolean {
  const given = Object.keys(KEYLESS_FLAGS).filter((f) => values[f as keyof KeylessValues] !== undefined);
  if (given.length === 0) return false;
  if (values.key !== undefined || values.kms !== undefined)
    throw new CliError(`--${given[0]} is keyless verification: give it without --key/--kms`);
  matcherFlag(values, 'certificate-identity');
  matcherFlag(values, 'certificate-oidc-issuer');
  return true;
}

/**
 * The keyless policy of the flags: Fulcio roots (--fulcio-root, else the trusted root's certificate authorities, else
 * $SIGSTORE_ROOT_FILE), identity and issuer; bad input is a CliError.
 */
export async function readKeylessFlags(
  values: KeylessValues,
  trustedRoot?: TrustedRootMaterial,
): Promise<KeylessPolicy> {
  const identity = matcherFlag(values, 'certificate-identity');
  const issuer = matcherFlag(values, 'certificate-oidc-issuer');
  if (values['fulcio-root'] === undefined && trustedRoot?.fulcio)
    return { kind: 'keyless', ...trustedRoot.fulcio, identity, issuer };
  const rootPath = values['fulcio-root'] ?? (process.env.SIGSTORE_ROOT_FILE || undefined);
  if (rootPath === undefined || rootPath === '')
    throw new CliError('keyless verification needs the Fulcio roots: give --fulcio-root FILE (or $SIGSTORE_ROOT_FILE)');
  return { kind: 'keyless', ...(await readFulcioRootFile(rootPath)), identity, issuer };
}

// exactly one of --NAME and --NAME-regexp
function matcherFlag(values: KeylessValues, name: 'certificate-identity' | 'certificate-oidc-issuer'): StringMatcher {
  const exact = values[name];
  const re = values[`${name}-regexp`];
  if ((exact === undefined) === (re === undefined))
    throw new CliError(`keyless verification needs exactly one of --${name} and --${name}-regexp`);
  if (exact !== undefined) {
    if (exact === '') throw new CliError(`--${name} must not be empty`);
    return stringMatcher(exact, false);
  }
  try {
    return stringMatcher(re!, true);
  } catch (err) {
    throw new CliError(`--${name}-regexp: not a regular expression (${messageOf(err)})`);
  }
}

/** Reads `--trusted-root FILE`; bad input (unreadable, not a trusted root) is exit status 2. */
async function readTrustedRoot(path: string): Promise<TrustedRootMaterial> {
  try {
    return await readTrustedRootFile(path);
  } catch (err) {
    throw new CliError(`--trusted-root: ${messageOf(err)}`);
  }
}

/** Reads Rekor's public key (`--rekor-public-key`, `$SIGSTORE_REKOR_PUBLIC_KEY`); bad input is exit status 2. */
async function readRekorKey(path: string): Promise<RekorLogKey> {
  try {
    return rekorLogKey(await readPublicKeyFile(path));
  } catch (err) {
    throw new CliError(`Rekor public key: ${messageOf(err)}`);
  }
}

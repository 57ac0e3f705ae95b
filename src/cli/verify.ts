// `chainsmith verify IMAGE`: checks an image's signatures and attestations in its registry against a public key.
import { ChainsmithError, messageOf } from '../errors.js';
import { parseReference, parseRepository } from '../reference/reference.js';
import { PREDICATE_TYPE_NAMES, resolvePredicateType } from '../verify/predicate-types.js';
import { verifyImage } from '../verify/registry.js';
import { renderVerifyJson, renderVerifyText } from '../verify/render.js';
import { readPublicKeyFile } from '../verify/key.js';
import { rekorLogKey, type RekorLogKey } from '../verify/tlog.js';
import type { VerifyPolicy } from '../verify/assess.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { checkPublicKeyFlags, PUBLIC_KEY_FLAGS, readPublicKeyFlag } from './key-flags.js';
import { escapeTerminal } from '../text/terminal.js';

export const help = `Usage: chainsmith verify IMAGE[:TAG|@DIGEST] (--key cosign.pub | --kms REF) [flags]

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
  inclusion-proof a bundle entry's inclusion proof leads from the leaf hash of its body to the proof's root hash
  checkpoint      and its checkpoint is signed by the Rekor key, has Rekor's origin and the proof's tree size
                  and root hash (the .sig/.att annotation carries no proof: there, as for cosign, the SET is it)

Flags:
  --key FILE               public key PEM (cosign.pub) or certificate
  --kms REF                public key of a KMS key (hashivault://, awskms://, gcpkms://, azurekms://)
  --predicate-type T       ${PREDICATE_TYPE_NAMES.join('|')}, or a URI
  --builder-id URI         the builder id the provenance must name
  --require-attestation    fail when no valid attestation exists, even without the two flags above
  --repository REPO        read the .sig/.att tags from REPO (chains-config storage.oci.repository;
                           default $COSIGN_REPOSITORY, else the image's own repository)
  --rekor-public-key FILE  Rekor's public key PEM (default $SIGSTORE_REKOR_PUBLIC_KEY): require and check
                           transparency-log entries, offline, against that log
  --insecure-ignore-tlog   do not check transparency-log entries (what happens anyway without a Rekor key;
                           cosign's default is to require the tlog, so pass a key to check as cosign does)
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
    'predicate-type': { type: 'string' },
    'builder-id': { type: 'string' },
    'require-attestation': { type: 'boolean' },
    repository: { type: 'string' },
    'rekor-public-key': { type: 'string' },
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
  checkPublicKeyFlags(values);
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

  let key;
  try {
    key = await readPublicKeyFlag(values);
  } catch (err) {
    if (err instanceof ChainsmithError && err.transient)
      throw new CliError(`cannot read the public key: ${messageOf(err)}`, 1);
    throw new CliError(messageOf(err));
  }

  const rekorKeyPath = values['insecure-ignore-tlog']
    ? undefined
    : (values['rekor-public-key'] ?? (process.env.SIGSTORE_REKOR_PUBLIC_KEY || undefined));
  if (rekorKeyPath === '') throw new CliError('--rekor-public-key must not be empty');
  if (rekorKeyPath !== undefined) policy.rekor = await readRekorKey(rekorKeyPath);

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

/** Reads Rekor's public key (`--rekor-public-key`, `$SIGSTORE_REKOR_PUBLIC_KEY`); bad input is exit status 2. */
async function readRekorKey(path: string): Promise<RekorLogKey> {
  try {
    return rekorLogKey(await readPublicKeyFile(path));
  } catch (err) {
    throw new CliError(`Rekor public key: ${messageOf(err)}`);
  }
}

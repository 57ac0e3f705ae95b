// The registry side of `chainsmith verify`: resolve the image digest, then read everything stored next to it —
// the cosign `.sig` and `.att` tags (cosign-format.md §1.2–§2.1) and OCI 1.1 referrers holding sigstore bundles
// (§3.4, chains-behaviour.md §4.3) — and check each item with the pure checks in checks.ts and bundles.ts.
// Only the I/O is here, through our registry client (size limits, deadline, credentials); the checks are pure.
import type { KeyObject } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ChainsmithError, messageOf } from '../errors.js';
import { Deadline, OPERATION_DEADLINE_MS } from '../oci/limits.js';
import { readDockerConfigDir } from '../kube/registry-credentials.js';
import { RegistryClient } from '../oci/client.js';
import { cloudKeychain } from '../oci/cloud/index.js';
import { runCredentialHelper } from '../oci/credential-helper.js';
import { DockerConfigKeychain, MultiKeychain, type CachingKeychain } from '../oci/keychain.js';
import { listReferrers } from '../oci/referrers.js';
import { isIndex, parseManifest, type ImageManifest } from '../oci/manifest.js';
import {
  ANNOTATION_BUNDLE,
  ANNOTATION_CERTIFICATE,
  ANNOTATION_CHAIN,
  ANNOTATION_SIGNATURE,
  DSSE_LAYER,
  SIGNATURE_LAYER_TYPES,
  SIGSTORE_BUNDLE_PREFIX,
} from '../sigstore/media-types.js';
import { isImageDigest, repositoryName, type OciReference } from '../reference/reference.js';
import { attachmentTag } from '../sigstore/cosign-layout.js';
import { checkAttestation, checkSimpleSigning, type AttestationExpectations, type LayerVerdict } from './checks.js';
import { assessImage, type VerifyPolicy, type VerifyReport } from './assess.js';
import { checkBundle, type BundleCheck } from './bundles.js';
import {
  checkTlogRecord,
  recordFromCosignBundle,
  rekorFor,
  withTlogCheck,
  type RekorLogKey,
  type StoredBytes,
  type TlogRecord,
} from './tlog.js';
import { trustedLog } from './trusted-root.js';
import { isKeyless, keylessVerdict, type SignerTrust } from './keyless.js';

/** How to reach the registry. */
export interface RegistryAccess {
  /** plain http / no TLS verification for non-loopback registries */
  insecure?: boolean;
  /** a built client (tests); otherwise one is built from `~/.docker/config.json` or `$DOCKER_CONFIG` */
  client?: RegistryClient;
  /**
   * where the `.sig`/`.att` tags live when not next to the image (`storage.oci.repository`, cosign's
   * `COSIGN_REPOSITORY`); the signed `docker-reference` is still the image's own repository
   */
  attachmentRepository?: OciReference;
  /** deadline of the whole verification (default: OPERATION_DEADLINE_MS from now) */
  deadline?: Deadline;
}

/**
 * Verifies one image reference (tag or digest) against a public key, or keylessly against Fulcio roots and an
 * identity; never throws for verification failures.
 */
export async function verifyImage(
  ref: OciReference,
  input: string,
  key: SignerTrust,
  policy: VerifyPolicy,
  access: RegistryAccess = {},
): Promise<VerifyReport> {
  const deadline = access.deadline ?? new Deadline(OPERATION_DEADLINE_MS);
  const client = access.client ?? (await buildClient(ref.registry, access.insecure ?? false, deadline));
  const repository = repositoryName(ref);
  const where = ref.digest ?? ref.tag ?? 'latest';
  const head = await client.headManifest(ref.repository, where);
  if (!head) {
    const report = assessImage(
      { image: input, repository, digest: ref.digest ?? '', resolvedDetail: '' },
      [],
      [],
      policy,
    );
    report.links = [
      { name: 'digest', status: 'failed', required: true, detail: `${repository}:${where} not found in the registry` },
    ];
    report.verified = false;
    report.firstFailure = `digest: ${report.links[0]!.detail}`;
    return report;
  }
  const digest = ref.digest ?? head.digest;
  if (!isImageDigest(digest)) {
    // cosign's .sig/.att tags and Chains' signatures exist only for sha256 image digests.
    const report = assessImage({ image: input, repository, digest, resolvedDetail: '' }, [], [], policy);
    const detail = `${repository}:${where} resolves to ${digest}, not a sha256 digest`;
    report.links = [{ name: 'digest', status: 'failed', required: true, detail }];
    report.verified = false;
    report.firstFailure = `digest: ${report.links[0]!.detail}`;
    return report;
  }
  const resolvedDetail = ref.digest ? `${digest} exists in ${repository}` : `tag ${where} resolves to ${digest}`;
  const image = { repository, digest };
  const expect: AttestationExpectations = {};
  if (policy.predicateType !== undefined) expect.predicateType = policy.predicateType;
  if (policy.builderId !== undefined) expect.builderId = policy.builderId;

  const notes: string[] = [];
  const signatures: LayerVerdict[] = [];
  const attestations: LayerVerdict[] = [];

  const over = access.attachmentRepository;
  const sameRegistry = !over || over.registry === ref.registry;
  const attClient = sameRegistry ? client : await buildClient(over.registry, access.insecure ?? false, deadline);
  const attPath = over ? over.repository : ref.repository;
  const attName = over ? repositoryName(over) : repository;
  const sigTag = attachmentTag(digest, 'sig');
  for (const layer of await attachmentLayers(attClient, attPath, sigTag, notes, `${attName}:${sigTag}`, signatures)) {
    const source = `${attName}:${sigTag} layer ${layer.index + 1}`;
    if (!SIGNATURE_LAYER_TYPES.has(layer.mediaType)) continue;
    const blob = await readBlob(attClient, attPath, layer.digest);
    if (typeof blob === 'string') {
      signatures.push({ source, authentic: false, checks: [{ name: 'payload', status: 'failed', detail: blob }] });
      continue;
    }
    const sigB64 = layer.annotations?.[ANNOTATION_SIGNATURE];
    const signature = sigB64 ? Buffer.from(sigB64, 'base64') : undefined;
    const stored: StoredBytes = { kind: 'signature', payload: blob, signature: signature ?? Buffer.alloc(0) };
    signatures.push(
      layerVerdict(source, layer.annotations, stored, key, policy, (k) =>
        checkSimpleSigning(source, blob, signature, k, image),
      ),
    );
  }

  const attTag = attachmentTag(digest, 'att');
  for (const layer of await attachmentLayers(attClient, attPath, attTag, notes, `${attName}:${attTag}`, attestations)) {
    const source = `${attName}:${attTag} layer ${layer.index + 1}`;
    if (layer.mediaType !== DSSE_LAYER) continue;
    const blob = await readBlob(attClient, attPath, layer.digest);
    if (typeof blob === 'string') {
      attestations.push({ source, authentic: false, checks: [{ name: 'envelope', status: 'failed', detail: blob }] });
      continue;
    }
    const stored: StoredBytes = { kind: 'envelope', envelope: blob };
    attestations.push(
      layerVerdict(source, layer.annotations, stored, key, policy, (k) =>
        checkAttestation(source, blob, k, digest, expect),
      ),
    );
  }

  const bundleCheck: BundleCheck = {
    key,
    expect,
    ...(policy.rekor ? { rekor: policy.rekor } : {}),
    ...(policy.trustedRoot ? { trustedRoot: policy.trustedRoot, ignoreTlog: policy.ignoreTlog ?? false } : {}),
  };
  await readReferrers(client, ref.repository, repository, digest, bundleCheck, notes, signatures, attestations);
  return assessImage({ image: input, repository, digest, resolvedDetail }, signatures, attestations, policy, notes);
}

/**
 * One `.sig`/`.att` layer: with a key, its own checks and (with a Rekor key) its log entry; keylessly, the log
 * entry, the certificate and chain of its annotations, then its own checks with the certificate's key.
 */
function layerVerdict(
  source: string,
  annotations: Record<string, string> | undefined,
  stored: StoredBytes,
  trust: SignerTrust,
  policy: VerifyPolicy,
  check: (key: KeyObject) => LayerVerdict,
): LayerVerdict {
  const record = recordFromCosignBundle(annotations?.[ANNOTATION_BUNDLE]);
  const rekor = policy.rekor ?? trustedRootRekor(record, policy);
  if (isKeyless(trust)) {
    const certificate = annotations?.[ANNOTATION_CERTIFICATE];
    const chain = annotations?.[ANNOTATION_CHAIN];
    return keylessVerdict({ source, certificate, chain, stored, record, verify: check }, trust, rekor);
  }
  const verdict = check(trust);
  const log = rekorFor(record, rekor);
  return log ? withTlogCheck(verdict, checkTlogRecord(record, log, stored)) : verdict;
}

/**
 * With `--trusted-root` (and no `--rekor-public-key`), the Rekor v1 log a layer's entry is checked with: the root's
 * log of the entry's log ID, else its first log, so that an entry of another log (or none) fails as "another log".
 */
function trustedRootRekor(record: TlogRecord | string, policy: VerifyPolicy): RekorLogKey | undefined {
  const root = policy.trustedRoot;
  if (!root || policy.ignoreTlog) return undefined;
  const log = (typeof record === 'string' ? undefined : trustedLog(root, record.logID)) ?? root.tlogs[0];
  return log ? { key: log.key, logID: log.logID } : undefined;
}

let cloud: CachingKeychain | undefined;

// As docker and cosign: the user's docker config (its credential helpers included), then the cloud keychains.
async function buildClient(registry: string, insecure: boolean, deadline: Deadline): Promise<RegistryClient> {
  const dir = process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  const config = await readDockerConfigDir(dir).catch(() => undefined);
  const source = `docker config ${join(dir, 'config.json')}`;
  const keychain = new MultiKeychain([
    new DockerConfigKeychain(config ? [{ config, source }] : [], runCredentialHelper),
    (cloud ??= cloudKeychain()),
  ]);
  const credential = await keychain.resolve(registry);
  const retry = { attempts: 2, baseDelayMs: 200, maxDelayMs: 1000 };
  return new RegistryClient({ registry, insecure, deadline, ...(credential ? { credential } : {}), retry });
}

type IndexedLayer = ImageManifest['layers'][number] & { index: number };

// The layers of a `.sig`/`.att` image. A manifest that is malformed or over the limits (MAX_MANIFEST_LAYERS) is
// a failed item of its own, refused before any layer is fetched; it does not stop the other checks.
async function attachmentLayers(
  client: RegistryClient,
  repository: string,
  tag: string,
  notes: string[],
  source: string,
  verdicts: LayerVerdict[],
): Promise<IndexedLayer[]> {
  let parsed;
  try {
    const m = await client.getManifest(repository, tag);
    if (!m) {
      notes.push(`no ${tag} tag in ${client.registry}/${repository}`);
      return [];
    }
    parsed = parseManifest(m.bytes, source);
  } catch (err) {
    // An unreachable registry is not a verdict about the image: that still ends verification with an error.
    if (!(err instanceof ChainsmithError) || err.transient || err.reason !== 'RegistryError') throw err;
    verdicts.push({ source, authentic: false, checks: [{ name: 'manifest', status: 'failed', detail: err.message }] });
    return [];
  }
  if (isIndex(parsed)) {
    notes.push(`${tag} is an index, not a cosign signature image; ignored`);
    return [];
  }
  return parsed.layers.map((l, index) => ({ ...l, index }));
}

// A blob the registry serves with other content than its digest says is a tampered signature: a failed check.
async function readBlob(client: RegistryClient, repository: string, digest: string): Promise<Buffer | string> {
  try {
    return await client.getBlob(repository, digest);
  } catch (err) {
    return `could not read blob ${digest}: ${messageOf(err)}`;
  }
}

/**
 * Sigstore bundles attached as OCI 1.1 referrers: DSSE bundles are attestations, message signatures image signatures.
 */
async function readReferrers(
  client: RegistryClient,
  repoPath: string,
  repository: string,
  digest: string,
  check: BundleCheck,
  notes: string[],
  signatures: LayerVerdict[],
  attestations: LayerVerdict[],
): Promise<void> {
  let index;
  try {
    // the referrers API, else the referrers tag schema (`sha256-<hex>` index) that writers keep without one
    ({ index } = await listReferrers(client, repoPath, digest));
  } catch (err) {
    notes.push(`referrers not read: ${messageOf(err)}`);
    return;
  }
  for (const r of index.manifests ?? []) {
    if (!r.artifactType?.startsWith(SIGSTORE_BUNDLE_PREFIX)) continue;
    const source = `${repository}@${r.digest} (referrer)`;
    let parsed;
    try {
      const m = await client.getManifest(repoPath, r.digest);
      if (!m) continue;
      parsed = parseManifest(m.bytes, source);
    } catch (err) {
      if (!(err instanceof ChainsmithError) || err.transient) throw err;
      const checks = [{ name: 'manifest', status: 'failed' as const, detail: err.message }];
      attestations.push({ source, authentic: false, checks });
      continue;
    }
    if (isIndex(parsed)) continue;
    const layer = parsed.layers.find((l) => l.mediaType.startsWith(SIGSTORE_BUNDLE_PREFIX));
    if (!layer) continue;
    const blob = await readBlob(client, repoPath, layer.digest);
    if (typeof blob === 'string') {
      attestations.push({ source, authentic: false, checks: [{ name: 'bundle', status: 'failed', detail: blob }] });
      continue;
    }
    const trust = check.trustedRoot ? { trustedRoot: check.trustedRoot, ignoreTlog: check.ignoreTlog ?? false } : {};
    const image = { repository, digest };
    const { kind, verdict } = checkBundle(source, blob, check.key, image, check.expect, check.rekor, trust);
    (kind === 'signature' ? signatures : attestations).push(verdict);
  }
}

// Appends one layer to a cosign `.sig`/`.att` tag: read, dedupe, upload both blobs at once, push the manifest,
// re-read.
// Serialised per tag in-process; the re-read after the push detects a writer outside this process that
// replaced the tag in between, and the whole read-modify-write is then repeated.
import type { KeyObject } from 'node:crypto';
import { ChainsmithError } from '../errors.js';
import { verifySignature } from '../sigstore/dsse.js';
import type { RegistryClient } from '../oci/client.js';
import {
  cosignImage,
  envelopeIdentity,
  hasLayer,
  MAX_LAYERS,
  sameAttestation,
  type CosignLayer,
  type EnvelopeIdentity,
} from '../sigstore/cosign-layout.js';
import type { KeyedMutex } from '../oci/keyed-mutex.js';
import { isIndex, parseManifest, type Descriptor } from '../oci/manifest.js';
import { OCI_MANIFEST } from '../oci/media-types.js';
import { ANNOTATION_SIGNATURE, DSSE_LAYER } from '../sigstore/media-types.js';

/** What happened to one attachment. */
export type AttachOutcome = 'stored' | 'already-present';

/** One append to `<repository>:<tag>`. */
export interface AttachRequest {
  client: RegistryClient;
  repository: string;
  tag: string;
  layer: CosignLayer;
  /** for attestations: dedupe on statement + keyid as well as on the layer digest */
  attestation: boolean;
  /** a repository on the same registry that already holds the layer blob (cross-repository mount) */
  mountFrom?: string;
  /**
   * The signer's public key. For image signatures it makes dedupe follow cosign's rule: a layer with the same
   * payload counts only if its signature verifies with this key, so another key's signature of the same
   * (deterministic) payload does not make us skip ours. Without it, the payload digest alone decides (Chains).
   */
  publicKey?: KeyObject;
}

/** Remembers the identity of envelope blobs by digest (content-addressed, so never stale). */
export class EnvelopeIdentityCache {
  private readonly entries = new Map<string, EnvelopeIdentity | null>();
  constructor(private readonly max = 10_000) {}

  /** The identity of the blob `digest` in `repository`, fetching it once. */
  async get(client: RegistryClient, repository: string, digest: string): Promise<EnvelopeIdentity | undefined> {
    const key = `${client.registry}|${digest}`;
    if (this.entries.has(key)) return this.entries.get(key) ?? undefined;
    const identity = envelopeIdentity(await client.getBlob(repository, digest)) ?? null;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, identity);
    return identity ?? undefined;
  }
}

const WRITE_ATTEMPTS = 3;

/** Appends the layer unless an equivalent one is already there; idempotent and safe against concurrent writers. */
export async function appendToAttachment(
  req: AttachRequest,
  locks: KeyedMutex,
  envelopes: EnvelopeIdentityCache,
): Promise<AttachOutcome> {
  const { client, repository, tag, layer } = req;
  const where = `registry ${client.registry}, repository ${repository}, tag ${tag}`;
  return locks.run(`${client.registry}/${repository}:${tag}`, async () => {
    const candidate = req.attestation ? envelopeIdentity(layer.blob) : undefined;
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const existing = await existingLayers(client, repository, tag, where);
      if (await isDuplicate(existing, layer, candidate, req, envelopes)) return 'already-present';
      if (existing.length + 1 > MAX_LAYERS) {
        throw new ChainsmithError(
          'StorageFailed',
          `${where}: already holds ${existing.length} layers; cosign reads at most ${MAX_LAYERS}`,
        );
      }
      const layers = [...existing, layer.descriptor];
      const image = cosignImage(layers);
      // Blobs first: a manifest must never reference a blob the registry does not have. Both are this signature's
      // own (the config names exactly these layers), so they are expected to be new.
      const mount = req.mountFrom === undefined ? {} : { mountFrom: req.mountFrom };
      await Promise.all([
        client.ensureBlob(repository, layer.blob, { ...mount, fresh: true }),
        client.ensureBlob(repository, image.config, { fresh: true }),
      ]);
      await client.putManifest(repository, tag, image.manifest, OCI_MANIFEST);
      const after = await existingLayers(client, repository, tag, where);
      if (after.some((l) => l.digest === layer.descriptor.digest)) return 'stored';
    }
    throw new ChainsmithError(
      'StorageFailed',
      `${where}: another writer replaced the tag ${WRITE_ATTEMPTS} times while appending; giving up for now`,
      { transient: true },
    );
  });
}

async function existingLayers(
  client: RegistryClient,
  repository: string,
  tag: string,
  where: string,
): Promise<Descriptor[]> {
  const m = await client.getManifest(repository, tag);
  if (!m) return [];
  const parsed = parseManifest(m.bytes, where);
  if (isIndex(parsed))
    throw new ChainsmithError('RegistryError', `${where}: holds an image index, not a cosign signature image`);
  return parsed.layers;
}

async function isDuplicate(
  existing: Descriptor[],
  layer: CosignLayer,
  candidate: EnvelopeIdentity | undefined,
  req: AttachRequest,
  envelopes: EnvelopeIdentityCache,
): Promise<boolean> {
  if (!req.attestation && req.publicKey) {
    const key = req.publicKey;
    return existing.some((l) => {
      if (l.digest !== layer.descriptor.digest || l.mediaType !== layer.descriptor.mediaType) return false;
      const sig = l.annotations?.[ANNOTATION_SIGNATURE];
      return sig !== undefined && sig !== '' && verifySignature(key, layer.blob, Buffer.from(sig, 'base64'));
    });
  }
  if (hasLayer(existing, layer.descriptor)) return true;
  if (!candidate || candidate.keyids.length === 0) return false;
  for (const l of existing) {
    if (l.mediaType !== DSSE_LAYER) continue;
    const identity = await envelopes.get(req.client, req.repository, l.digest);
    if (identity && sameAttestation(identity, candidate)) return true;
  }
  return false;
}

// cosign's legacy on-registry layout (cosign-format.md §1–§2): the `.sig`/`.att` "image" is an OCI manifest
// whose layers are signatures or DSSE envelopes, with a go-containerregistry-style config blob.
import { createHash } from 'node:crypto';
import { ChainsmithError } from '../errors.js';
import { isTag } from '../reference/grammar.js';
import { isImageDigest } from '../reference/reference.js';
import { MAX_MANIFEST_LAYERS } from '../oci/limits.js';
import { descriptorOf, serialiseManifest, type Descriptor } from '../oci/manifest.js';
import { OCI_CONFIG, OCI_MANIFEST } from '../oci/media-types.js';
import type { TlogEntry } from './rekor.js';
import {
  ANNOTATION_BUNDLE,
  ANNOTATION_CERTIFICATE,
  ANNOTATION_CHAIN,
  ANNOTATION_PREDICATE_TYPE,
  ANNOTATION_SIGNATURE,
  DSSE_LAYER,
  SIMPLESIGNING_LAYER,
} from './media-types.js';

/** cosign refuses signature images with more layers than this (`maxLayers`); we read no more either. */
export const MAX_LAYERS = MAX_MANIFEST_LAYERS;

/**
 * The cosign attachment tag for a digest: `sha256:abc` + `.sig` → `sha256-abc.sig`. Throws InvalidReference when
 * the result is not a tag of the grammar (only `sha256:<64 hex>` digests make one).
 */
export function attachmentTag(digest: string, suffix: 'sig' | 'att' | 'sbom' | ''): string {
  if (!isImageDigest(digest)) {
    const shown = JSON.stringify(digest.slice(0, 200));
    throw new ChainsmithError('InvalidReference', `attachment tags are made from sha256 digests, not ${shown}`);
  }
  const base = digest.replace(':', '-');
  const tag = suffix === '' ? base : `${base}.${suffix}`;
  if (!isTag(tag)) throw new ChainsmithError('InvalidReference', `${JSON.stringify(tag)} is not a valid tag`);
  return tag;
}

/** A layer to append: its blob and descriptor. */
export interface CosignLayer {
  blob: Buffer;
  descriptor: Descriptor;
}

// cosign writes certificate and chain only for certificate-based signatures; the chain key comes with it.
function certificateAnnotations(cert: string, chain: string): Record<string, string> {
  return cert === '' ? {} : { [ANNOTATION_CERTIFICATE]: cert, [ANNOTATION_CHAIN]: chain };
}

/**
 * The `dev.sigstore.cosign/bundle` annotation for an entry with a SET, or undefined without one. Hand-written because
 * cosign reads it as Go's `RekorBundle`: members in this order, the body as the base64 string Rekor returned.
 */
export function cosignRekorBundle(entry: TlogEntry | undefined): string | undefined {
  if (!entry?.signedEntryTimestamp) return undefined;
  return JSON.stringify({
    SignedEntryTimestamp: entry.signedEntryTimestamp,
    Payload: {
      body: entry.body,
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logID: entry.logID,
    },
  });
}

/**
 * A simple-signing layer: blob = payload bytes, signature annotation = base64 of the raw signature, and the Rekor
 * bundle when the signature was uploaded (Chains adds none to `.sig` layers; cosign then looks the entry up online,
 * with it cosign verifies offline).
 */
export function signatureLayer(
  payload: Buffer,
  rawSignature: Buffer,
  cert = '',
  chain = '',
  tlogEntry?: TlogEntry,
): CosignLayer {
  const annotations: Record<string, string> = {
    [ANNOTATION_SIGNATURE]: rawSignature.toString('base64'),
    ...certificateAnnotations(cert, chain),
  };
  const bundle = cosignRekorBundle(tlogEntry);
  if (bundle !== undefined) annotations[ANNOTATION_BUNDLE] = bundle;
  addTimestamp(annotations, tlogEntry?.rfc3161Timestamps?.[0]);
  return { blob: payload, descriptor: descriptorOf(SIMPLESIGNING_LAYER, payload, annotations) };
}

/**
 * A DSSE attestation layer: blob = envelope JSON, empty signature annotation,
 * `predicateType` as cosign attest writes it, and the Rekor bundle when the envelope was uploaded.
 */
export function attestationLayer(
  envelope: Buffer,
  predicateType: string | undefined,
  cert = '',
  chain = '',
  tlogEntry?: TlogEntry,
): CosignLayer {
  const annotations: Record<string, string> = { [ANNOTATION_SIGNATURE]: '', ...certificateAnnotations(cert, chain) };
  if (predicateType) annotations[ANNOTATION_PREDICATE_TYPE] = predicateType;
  const bundle = cosignRekorBundle(tlogEntry);
  if (bundle !== undefined) annotations[ANNOTATION_BUNDLE] = bundle;
  // cosign timestamps an attestation's whole envelope (the layer blob), not its signature
  addTimestamp(annotations, tlogEntry?.envelopeTimestamp);
  return { blob: envelope, descriptor: descriptorOf(DSSE_LAYER, envelope, annotations) };
}

/** cosign's annotation for a signature's RFC 3161 timestamp (`static.RFC3161TimestampAnnotationKey`). */
export const ANNOTATION_RFC3161_TIMESTAMP = 'dev.sigstore.cosign/rfc3161timestamp';

// cosign writes `{"SignedRFC3161Timestamp":"<base64 DER>"}` (its bundle.RFC3161Timestamp); one timestamp per layer
function addTimestamp(annotations: Record<string, string>, stamp: Buffer | undefined): void {
  if (stamp)
    annotations[ANNOTATION_RFC3161_TIMESTAMP] = JSON.stringify({ SignedRFC3161Timestamp: stamp.toString('base64') });
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The config blob go-containerregistry writes for cosign's empty image plus these layers. */
export function cosignConfig(layers: Descriptor[]): Buffer {
  // Member order of ggcr's v1.ConfigFile: architecture, created, history, os, rootfs, config.
  const config = {
    architecture: '',
    created: ZERO_TIME,
    history: layers.map(() => ({ created: ZERO_TIME })),
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    config: {},
  };
  return Buffer.from(JSON.stringify(config));
}

/** The manifest and config blob of a signature/attestation image with these layers. */
export function cosignImage(layers: Descriptor[]): { manifest: Buffer; config: Buffer } {
  const config = cosignConfig(layers);
  const manifest = serialiseManifest({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptorOf(OCI_CONFIG, config),
    layers,
  });
  return { manifest, config };
}

/** What identifies an attestation regardless of ECDSA randomness: the statement digest and the signers' keyids. */
export interface EnvelopeIdentity {
  payloadDigest: string;
  keyids: string[];
}

/** Reads the identity of a DSSE envelope; undefined when the bytes are not an envelope. */
export function envelopeIdentity(envelope: Buffer): EnvelopeIdentity | undefined {
  try {
    const e = JSON.parse(envelope.toString('utf8')) as { payload?: unknown; signatures?: Array<{ keyid?: unknown }> };
    if (typeof e.payload !== 'string') return undefined;
    const payloadDigest = `sha256:${createHash('sha256').update(Buffer.from(e.payload, 'base64')).digest('hex')}`;
    const keyids = (e.signatures ?? [])
      .map((s) => (typeof s.keyid === 'string' ? s.keyid : ''))
      .filter((k) => k !== '');
    return { payloadDigest, keyids };
  } catch {
    return undefined;
  }
}

/**
 * True when `candidate` restates an existing attestation: same statement and a common non-empty keyid, so a
 * retried store (re-signed, different envelope bytes) adds no second layer. Without keyids only the same
 * statement from an unidentified signer is not enough, so this returns false.
 */
export function sameAttestation(existing: EnvelopeIdentity, candidate: EnvelopeIdentity): boolean {
  if (existing.payloadDigest !== candidate.payloadDigest) return false;
  return candidate.keyids.some((k) => existing.keyids.includes(k));
}

/** True when a layer with the same digest and media type already exists. */
export function hasLayer(layers: Descriptor[], layer: Descriptor): boolean {
  return layers.some((l) => l.digest === layer.digest && l.mediaType === layer.mediaType);
}

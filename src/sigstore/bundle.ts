// Sigstore bundles (v0.3, protobuf JSON) and the OCI 1.1 referrer manifests that carry them
// (chains-behaviour.md §4.3, cosign-format.md §3.4).
// From @sigstore/bundle: the bundle model (`Bundle`, built by `toDSSEBundle` / `toMessageSignatureBundle`), the
// decoding of the envelope it wraps (`envelopeFromJSON`), and, for readers, parsing with the library's validation
// (`bundleFromJSON`), so a malformed bundle is refused by the same rules sigstore-js applies.
// Hand-written: the JSON we write (bundleJson). `bundleToJSON` gives other bytes than cosign's bundle writer
// (sigstore-go) and than we have always written: it repeats the key hint as the envelope signature's `keyid`
// (sigstore-go leaves it out, the hint is in `verificationMaterial.publicKey`), adds an empty
// `timestampVerificationData` and omits the empty `tlogEntries` list. Writing the members here also keeps a
// bundle's bytes, and so its referrer's digest, independent of the library version.
import { X509Certificate } from 'node:crypto';
import {
  bundleFromJSON,
  envelopeFromJSON,
  toDSSEBundle,
  toMessageSignatureBundle,
  ValidationError,
  type Bundle,
} from '@sigstore/bundle';
import { hashAlgorithmToJSON } from '@sigstore/protobuf-specs';
import { messageOf } from '../errors.js';
import { descriptorOf, serialiseManifest, type Descriptor } from '../oci/manifest.js';
import { OCI_EMPTY, OCI_MANIFEST } from '../oci/media-types.js';
import { SIGSTORE_BUNDLE_V03 } from './media-types.js';
import type { TlogEntry } from './rekor.js';

export type { Bundle } from '@sigstore/bundle';

/** predicateType recorded for image signatures in referrer annotations (formats/cosign-sign.ts). */
export { COSIGN_SIGN_PREDICATE } from '../formats/cosign-sign.js';

/** The DER bytes of the first certificate in `cert` (PEM, maybe a chain); undefined when there is none (a key). */
function leafCertificate(cert: string): Buffer | undefined {
  const firstPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(cert)?.[0];
  return firstPem ? new X509Certificate(firstPem).raw : undefined;
}

/**
 * A bundle wrapping a DSSE envelope (attestations). The envelope's keyid becomes the public-key hint. `timestamps`:
 * DER RFC 3161 timestamps of the signature from a timestamp authority (with Rekor v2, which gives no SET).
 */
export function dsseBundle(
  envelopeJson: Buffer,
  cert: string,
  tlogEntry?: TlogEntry,
  timestamps: Buffer[] = [],
): Buffer {
  const envelope = envelopeFromJSON(JSON.parse(envelopeJson.toString('utf8')));
  const signature = envelope.signatures[0];
  const certificate = leafCertificate(cert);
  return bundleJson(
    toDSSEBundle({
      artifact: envelope.payload,
      artifactType: envelope.payloadType,
      signature: signature?.sig ?? Buffer.alloc(0),
      keyHint: signature?.keyid ?? '',
      ...(certificate ? { certificate } : {}),
    }),
    tlogEntry,
    timestamps,
  );
}

/**
 * A bundle for a simple-signing signature. The signature is over the raw payload, not a DSSE PAE, so it is
 * carried as a `messageSignature` (what it really is) rather than as a DSSE envelope that would not verify.
 * What chainsmith wrote for image signatures in sigstore-bundle mode before it signed cosign-sign statements
 * (formats/cosign-sign.ts); no longer written, still read by `chainsmith verify` (tests build such bundles here).
 */
export function messageSignatureBundle(
  payload: Buffer,
  digestHex: string,
  rawSignature: Buffer,
  cert: string,
  tlogEntry?: TlogEntry,
): Buffer {
  const certificate = leafCertificate(cert);
  return bundleJson(
    toMessageSignatureBundle({
      digest: Buffer.from(digestHex, 'hex'),
      signature: rawSignature,
      ...(certificate ? { certificate } : {}),
    }),
    tlogEntry,
  );
}

/**
 * A Rekor v1 entry as a bundle's `TransparencyLogEntry` in protobuf JSON: members in field order, int64 as strings,
 * bytes as base64 (Rekor answers hashes and the log ID in hex). The inclusion proof is left out when Rekor gave none.
 */
export function tlogEntryJson(entry: TlogEntry): Record<string, unknown> {
  const hexB64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
  const proof = entry.inclusionProof;
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: hexB64(entry.logID) },
    kindVersion: { kind: entry.kind, version: entry.apiVersion },
    integratedTime: String(entry.integratedTime),
    ...(entry.signedEntryTimestamp ? { inclusionPromise: { signedEntryTimestamp: entry.signedEntryTimestamp } } : {}),
    ...(proof
      ? {
          inclusionProof: {
            logIndex: String(proof.logIndex),
            rootHash: hexB64(proof.rootHash),
            treeSize: String(proof.treeSize),
            hashes: proof.hashes.map(hexB64),
            ...(proof.checkpoint ? { checkpoint: { envelope: proof.checkpoint } } : {}),
          },
        }
      : {}),
    canonicalizedBody: entry.body,
  };
}

/**
 * The bundle's protobuf JSON as we write it: members in the order below, no whitespace, `tlogEntries: []`, and
 * no `keyid` on envelope signatures (see the top of this file for why this is not `bundleToJSON`).
 */
function bundleJson(bundle: Bundle, tlogEntry?: TlogEntry, timestamps: Buffer[] = []): Buffer {
  const b64 = (bytes: Buffer): string => bytes.toString('base64');
  const material = bundle.verificationMaterial.content;
  let key: Record<string, unknown>;
  if (material.$case === 'publicKey') {
    key = { publicKey: material.publicKey.hint === '' ? {} : { hint: material.publicKey.hint } };
  } else if (material.$case === 'certificate') {
    key = { certificate: { rawBytes: b64(material.certificate.rawBytes) } };
  } else {
    // not built here (a chain makes a v0.2 bundle); written as protobuf JSON all the same
    const certificates = material.x509CertificateChain.certificates.map((c) => ({ rawBytes: b64(c.rawBytes) }));
    key = { x509CertificateChain: { certificates } };
  }
  const content = bundle.content;
  const body =
    content.$case === 'dsseEnvelope'
      ? {
          dsseEnvelope: {
            payload: b64(content.dsseEnvelope.payload),
            payloadType: content.dsseEnvelope.payloadType,
            signatures: content.dsseEnvelope.signatures.map((s) => ({ sig: b64(s.sig) })),
          },
        }
      : {
          messageSignature: {
            messageDigest: {
              algorithm: hashAlgorithmToJSON(content.messageSignature.messageDigest.algorithm),
              digest: b64(content.messageSignature.messageDigest.digest),
            },
            signature: b64(content.messageSignature.signature),
          },
        };
  return Buffer.from(
    JSON.stringify({
      mediaType: bundle.mediaType,
      verificationMaterial: {
        ...key,
        tlogEntries: tlogEntry ? [tlogEntryJson(tlogEntry)] : [],
        ...(timestamps.length > 0
          ? { timestampVerificationData: { rfc3161Timestamps: timestamps.map((t) => ({ signedTimestamp: b64(t) })) } }
          : {}),
      },
      ...body,
    }),
  );
}

/**
 * Parses and validates a bundle read from elsewhere with @sigstore/bundle (`bundleFromJSON`: protobuf JSON, media
 * type, exactly one DSSE signature, non-empty signature and digest …), or says in one line why it is not one.
 */
export function parseBundle(json: Buffer): Bundle | string {
  try {
    return bundleFromJSON(JSON.parse(json.toString('utf8')));
  } catch (err) {
    if (err instanceof ValidationError) return `not a valid sigstore bundle (invalid: ${err.fields.join(', ')})`;
    // JSON.parse's message quotes the input: a fixed reason instead
    if (err instanceof SyntaxError) return 'not a sigstore bundle: not JSON';
    return `not a sigstore bundle: ${messageOf(err)}`;
  }
}

/** The referrer manifest, its empty config and its descriptor in a referrers index, for a bundle of `subject`. */
export function referrerManifest(
  bundle: Buffer,
  subject: Descriptor,
  predicateType: string,
  content: 'dsse-envelope' | 'message-signature',
  created: Date,
): { manifest: Buffer; config: Buffer; layer: Descriptor; descriptor: Descriptor } {
  const config = Buffer.from('{}');
  const layer = descriptorOf(SIGSTORE_BUNDLE_V03, bundle);
  const annotations = {
    'dev.sigstore.bundle.content': content,
    'dev.sigstore.bundle.predicateType': predicateType,
    'org.opencontainers.image.created': created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const manifest = serialiseManifest({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_V03,
    config: { ...descriptorOf(OCI_EMPTY, config), artifactType: SIGSTORE_BUNDLE_V03 },
    layers: [layer],
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
    annotations,
  });
  // how a referrers index lists it (artifactType and annotations lifted from the manifest)
  const descriptor = { ...descriptorOf(OCI_MANIFEST, manifest), artifactType: SIGSTORE_BUNDLE_V03, annotations };
  return { manifest, config, layer, descriptor };
}

// Sigstore bundles (v0.3, protobuf JSON) and the OCI 1.1 referrer manifests that carry them
// (chains-behaviour.md §4.3, cosign-format.md §3.4).
import { X509Certificate } from 'node:crypto';
import { descriptorOf, serialiseManifest, type Descriptor } from '../oci/manifest.js';
import { OCI_EMPTY, OCI_MANIFEST } from '../oci/media-types.js';
import { SIGSTORE_BUNDLE_V03 } from './media-types.js';

/** predicateType recorded for image signatures in referrer annotations. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

function verificationMaterial(cert: string, hint: string): Record<string, unknown> {
  const firstPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(cert)?.[0];
  const material: Record<string, unknown> = firstPem
    ? { certificate: { rawBytes: new X509Certificate(firstPem).raw.toString('base64') } }
    : { publicKey: hint === '' ? {} : { hint } };
  material.tlogEntries = [];
  return material;
}

/** A bundle wrapping a DSSE envelope (attestations). The envelope's keyid becomes the public-key hint. */
export function dsseBundle(envelopeJson: Buffer, cert: string): Buffer {
  const e = JSON.parse(envelopeJson.toString('utf8')) as {
    payload: string;
    payloadType: string;
    signatures: Array<{ keyid?: string; sig: string }>;
  };
  const hint = e.signatures[0]?.keyid ?? '';
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03,
      verificationMaterial: verificationMaterial(cert, hint),
      dsseEnvelope: {
        payload: e.payload,
        payloadType: e.payloadType,
        signatures: e.signatures.map((s) => ({ sig: s.sig })),
      },
    }),
  );
}

/**
 * A bundle for a simple-signing signature. The signature is over the raw payload, not a DSSE PAE, so it is
 * carried as a `messageSignature` (what it really is) rather than as a DSSE envelope that would not verify.
 */
export function messageSignatureBundle(payload: Buffer, digestHex: string, rawSignature: Buffer, cert: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03,
      verificationMaterial: verificationMaterial(cert, ''),
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(digestHex, 'hex').toString('base64') },
        signature: rawSignature.toString('base64'),
      },
    }),
  );
}

/** The referrer manifest and its empty config for a bundle attached to `subject`. */
export function referrerManifest(
  bundle: Buffer,
  subject: Descriptor,
  predicateType: string,
  content: 'dsse-envelope' | 'message-signature',
  created: Date,
): { manifest: Buffer; config: Buffer; layer: Descriptor } {
  const config = Buffer.from('{}');
  const layer = descriptorOf(SIGSTORE_BUNDLE_V03, bundle);
  const manifest = serialiseManifest({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_V03,
    config: { ...descriptorOf(OCI_EMPTY, config), artifactType: SIGSTORE_BUNDLE_V03 },
    layers: [layer],
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
    annotations: {
      'dev.sigstore.bundle.content': content,
      'dev.sigstore.bundle.predicateType': predicateType,
      'org.opencontainers.image.created': created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  });
  return { manifest, config, layer };
}

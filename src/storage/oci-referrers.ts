// `storage.oci.encoding-format: sigstore-bundle`: one OCI 1.1 referrer per stored item, next to the image.
// Registries without the referrers API get the referrers tag schema (oci/referrers.ts), as cosign and Chains
// (go-containerregistry) write it: the referrer manifest is pushed by digest and listed in the `sha256-<hex>` index.
import { ChainsmithError } from '../errors.js';
import { addToReferrersTag, listReferrers } from '../oci/referrers.js';
import type { RegistryClient } from '../oci/client.js';
import { referrerManifest } from '../sigstore/bundle.js';
import { envelopeIdentity, sameAttestation } from '../sigstore/cosign-layout.js';
import { isIndex, parseManifest, sha256Digest } from '../oci/manifest.js';
import { OCI_MANIFEST } from '../oci/media-types.js';
import { SIGSTORE_BUNDLE_V03 } from '../sigstore/media-types.js';
import type { KeyedMutex } from '../oci/keyed-mutex.js';
import type { AttachOutcome } from './oci-attachments.js';
import type { ImageTarget } from './oci-targets.js';

/** One bundle to attach to an image. */
export interface ReferrerRequest {
  client: RegistryClient;
  image: ImageTarget;
  bundle: Buffer;
  predicateType: string;
  content: 'dsse-envelope' | 'message-signature';
  now?: () => Date;
}

/** Pushes the bundle as a referrer of the image unless an equivalent bundle is already attached. */
export async function attachReferrer(req: ReferrerRequest, locks: KeyedMutex): Promise<AttachOutcome> {
  const { client, image } = req;
  const where = `registry ${client.registry}, repository ${image.repository}`;
  return locks.run(`${client.registry}/${image.repository}@${image.digest}:referrers`, async () => {
    const { index, via } = await listReferrers(client, image.repository, image.digest);
    const subject = await client.headManifest(image.repository, image.digest);
    if (!subject)
      throw new ChainsmithError(
        'RegistryNotFound',
        `${where}: image ${image.digest} not found; a referrer needs its subject`,
      );
    const candidate = bundleIdentity(req.bundle);
    for (const r of index.manifests ?? []) {
      if (r.artifactType !== SIGSTORE_BUNDLE_V03) continue;
      const m = await client.getManifest(image.repository, r.digest);
      if (!m) continue;
      const parsed = parseManifest(m.bytes, `${where}: referrer ${r.digest}`);
      if (isIndex(parsed)) continue;
      for (const l of parsed.layers) {
        if (l.mediaType !== SIGSTORE_BUNDLE_V03) continue;
        const blob = await client.getBlob(image.repository, l.digest);
        if (blob.equals(req.bundle)) return 'already-present';
        const existing = bundleIdentity(blob);
        if (candidate && existing && sameAttestation(existing, candidate)) return 'already-present';
      }
    }
    const { manifest, config, descriptor } = referrerManifest(
      req.bundle,
      subject,
      req.predicateType,
      req.content,
      (req.now ?? (() => new Date()))(),
    );
    // the empty config is shared by every referrer in the repository: looked up first; the bundle is new
    await Promise.all([
      client.ensureBlob(image.repository, config),
      client.ensureBlob(image.repository, req.bundle, { fresh: true }),
    ]);
    await client.putManifest(image.repository, sha256Digest(manifest), manifest, OCI_MANIFEST);
    // without the API, the referrer is only found through the fallback index (written after the manifest it lists)
    if (via === 'tag-schema') await addToReferrersTag(client, image.repository, image.digest, descriptor);
    return 'stored';
  });
}

// Bundles of the same statement by the same signer are the same attestation, whatever the ECDSA randomness.
// Message-signature bundles (image signatures) match on the payload digest alone.
function bundleIdentity(bundle: Buffer): ReturnType<typeof envelopeIdentity> {
  try {
    const b = JSON.parse(bundle.toString('utf8')) as {
      dsseEnvelope?: { payload: string; signatures: Array<{ sig: string }> };
      messageSignature?: { messageDigest?: { digest?: string } };
      verificationMaterial?: { publicKey?: { hint?: string }; certificate?: { rawBytes?: string } };
    };
    // A message signature of the same payload is the same image signature (the `.sig` digest rule).
    const messageDigest = b.messageSignature?.messageDigest?.digest;
    if (messageDigest) return { payloadDigest: messageDigest, keyids: ['message-signature'] };
    if (!b.dsseEnvelope) return undefined;
    const signer = b.verificationMaterial?.publicKey?.hint ?? b.verificationMaterial?.certificate?.rawBytes ?? '';
    const identity = envelopeIdentity(
      Buffer.from(JSON.stringify({ payload: b.dsseEnvelope.payload, signatures: [{ keyid: signer }] })),
    );
    return identity;
  } catch {
    return undefined;
  }
}

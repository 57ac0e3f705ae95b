// `chainsmith verify --trusted-root FILE`: a sigstore trusted root (`trusted_root.json`, as cosign v3 takes it) as the
// trust material — its transparency logs (Rekor v1 and v2), its certificate authorities (Fulcio) and its timestamp
// authorities. Parsed by @sigstore/protobuf-specs (`TrustedRoot.fromJSON`); the logs' keys and validity come from
// @sigstore/verify's `toTrustMaterial`. Certificates are kept as node:crypto certificates, which certificate.ts
// and timestamp.ts check chains with.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { ChainsmithError, messageOf } from '../errors.js';
import { displayPath, readInputText } from '../input/read.js';
import { parseFulcioRoots, type KeylessPolicy } from './certificate.js';

/** Largest trusted root read (the public-good one is about 20 KiB). */
export const MAX_TRUSTED_ROOT_BYTES = 1024 * 1024;

/** A transparency log of the trusted root. */
export interface TrustedLog {
  /** hex log ID: for Rekor v1 sha256 of the key's DER, for Rekor v2 its signed-note key ID */
  logID: string;
  key: KeyObject;
  baseUrl: string;
  validFor: { start: Date; end: Date };
}

/** A timestamp authority of the trusted root: its chain, leaf first. */
export interface TrustedTimestampAuthority {
  chain: X509Certificate[];
  validFor: { start: Date; end: Date };
}

/** What `--trusted-root` gives a verification. */
export interface TrustedRootMaterial {
  /** the file's name, for messages */
  name: string;
  tlogs: TrustedLog[];
  timestampAuthorities: TrustedTimestampAuthority[];
  /** the certificates of its certificate authorities, split as a Fulcio root file is; undefined without any */
  fulcio?: Omit<KeylessPolicy, 'kind' | 'identity' | 'issuer'>;
}

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\+json;version=0\.1|\.v0\.[12]\+json)$/;

/** Parses trusted-root JSON text; throws a ChainsmithError (KeyUnsupported) saying why it is not one. */
export function parseTrustedRoot(text: string, name: string): TrustedRootMaterial {
  const bad = (why: string): ChainsmithError => new ChainsmithError('KeyUnsupported', `${name}: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('not a trusted root: not JSON');
  }
  const mediaType = (doc as { mediaType?: unknown } | null)?.mediaType;
  if (typeof mediaType !== 'string' || !MEDIA_TYPE.test(mediaType))
    throw bad('not a sigstore trusted root (mediaType application/vnd.dev.sigstore.trustedroot…)');
  let root: TrustedRoot;
  let material;
  try {
    root = TrustedRoot.fromJSON(doc);
    material = toTrustMaterial(root);
  } catch (err) {
    throw bad(`not a valid sigstore trusted root (${messageOf(err)})`);
  }
  let caCerts: X509Certificate[];
  let timestampAuthorities: TrustedTimestampAuthority[];
  try {
    caCerts = root.certificateAuthorities.flatMap((ca) =>
      (ca.certChain?.certificates ?? []).map((c) => new X509Certificate(c.rawBytes)),
    );
    timestampAuthorities = root.timestampAuthorities.map((ca, i) => ({
      chain: (ca.certChain?.certificates ?? []).map((c) => new X509Certificate(c.rawBytes)),
      validFor: material.timestampAuthorities[i]!.validFor,
    }));
  } catch (err) {
    throw bad(`a certificate of the trusted root is unreadable (${messageOf(err)})`);
  }
  const tlogs = material.tlogs.map((t) => ({
    logID: t.logID.toString('hex'),
    key: t.publicKey,
    baseUrl: t.baseURL,
    validFor: t.validFor,
  }));
  if (tlogs.length + caCerts.length + timestampAuthorities.length === 0)
    throw bad('the trusted root names no transparency log, certificate authority or timestamp authority');
  const out: TrustedRootMaterial = { name, tlogs, timestampAuthorities };
  if (caCerts.length > 0) {
    const pem = caCerts.map((c) => c.toString()).join('');
    out.fulcio = parseFulcioRoots(pem, `${name} (certificateAuthorities)`);
  }
  return out;
}

/** Reads `--trusted-root FILE`. */
export async function readTrustedRootFile(path: string): Promise<TrustedRootMaterial> {
  let text: string;
  try {
    text = await readInputText(path, { reason: 'KeyNotFound', maxBytes: MAX_TRUSTED_ROOT_BYTES });
  } catch (err) {
    throw new ChainsmithError('KeyNotFound', `trusted root: ${messageOf(err)}`);
  }
  return parseTrustedRoot(text, displayPath(path));
}

/** The log of the trusted root with this (hex) log ID. */
export function trustedLog(root: TrustedRootMaterial, logID: string): TrustedLog | undefined {
  return root.tlogs.find((t) => t.logID === logID.toLowerCase());
}

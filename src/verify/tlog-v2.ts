// Rekor v2 (rekor-tiles) entries of a sigstore bundle, checked against the logs of a trusted root. A v2 entry has no
// signed entry timestamp (integratedTime 0): what proves it was logged is its inclusion proof and signed checkpoint
// (merkle.ts, checkpoint.ts, through tlog.ts `checkInclusionProof`), and the signing time comes from an RFC 3161
// timestamp instead (timestamp.ts). Rekor v2 records only `hashedrekord` v0.0.2: for a DSSE envelope the digest is
// of the envelope's PAE, as sigstore-go (and src/sigstore/rekor-v2.ts `dsseRequest`) writes it; @sigstore/verify
// 3.1's Verifier compares it with the payload's hash instead, so the body is compared here.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { messageOf } from '../errors.js';
import { pae, parseEnvelope } from '../sigstore/dsse.js';
import type { Check } from './checks.js';
import { checkInclusionProof, type StoredBytes } from './tlog.js';
import { trustedLog, type TrustedRootMaterial } from './trusted-root.js';

/** True for an entry of Rekor v2 (kindVersion 0.0.2). */
export function isRekorV2Entry(entry: TransparencyLogEntry | undefined): boolean {
  return entry?.kindVersion?.version === '0.0.2';
}

const HASHES: Record<string, string> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };
const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (o: unknown, ...path: string[]): unknown => path.reduce((v, k) => (isObject(v) ? v[k] : undefined), o);

/**
 * The checks of a Rekor v2 entry: `tlog` (a log of the trusted root, valid at `time`, whose hashedrekord 0.0.2 body
 * records the stored signature, the digest of what was signed and, with `signer`, that signer), `inclusion-proof`
 * and `checkpoint` (the log's signed note, Rekor v2's origin). Never throws.
 */
export function checkRekorV2Entry(
  entry: TransparencyLogEntry,
  root: TrustedRootMaterial,
  stored: StoredBytes,
  signer: X509Certificate | KeyObject | undefined,
  time: Date,
): Check[] {
  const logID = entry.logId?.keyId.toString('hex') ?? '';
  const log = trustedLog(root, logID);
  const notChecked = (why: string): Check[] => [
    { name: 'inclusion-proof', status: 'failed', detail: `not checked: ${why}` },
    { name: 'checkpoint', status: 'failed', detail: `not checked: ${why}` },
  ];
  const tlogFailed = (detail: string): Check => ({ name: 'tlog', status: 'failed', detail });
  if (!log)
    return [
      tlogFailed(`the entry is from log ${logID || '(none)'}, not a transparency log of the trusted root ${root.name}`),
      ...notChecked('the entry’s log is not trusted'),
    ];
  const proof: Check[] = entry.inclusionProof
    ? checkInclusionProof([entry], { key: log.key, logID: log.logID }, 'rekor-v2')
    : [
        {
          name: 'inclusion-proof',
          status: 'failed',
          detail: 'a Rekor v2 entry without an inclusion proof: nothing proves it was logged (it has no SET)',
        },
        { name: 'checkpoint', status: 'failed', detail: 'not checked: no inclusion proof' },
      ];
  if (time < log.validFor.start || time > log.validFor.end)
    return [
      tlogFailed(
        `the log ${log.baseUrl} is trusted from ${iso(log.validFor.start)} to ${iso(log.validFor.end)}, ` +
          `not at ${iso(time)}`,
      ),
      ...proof,
    ];
  let mismatch: string;
  try {
    mismatch = bodyMismatch(entry, stored, signer);
  } catch (err) {
    mismatch = `unreadable entry body (${messageOf(err)})`;
  }
  const index = entry.logIndex;
  if (mismatch) return [tlogFailed(`Rekor v2 entry ${index} of ${log.baseUrl}: ${mismatch}`), ...proof];
  const detail =
    `Rekor v2 entry ${index} of ${log.baseUrl} (a log of the trusted root): its hashedrekord 0.0.2 body records ` +
    `this signature${signer ? ' and signer' : ''} and the digest of the signed bytes`;
  return [{ name: 'tlog', status: 'passed', detail }, ...proof];
}

// Why the hashedrekord 0.0.2 body does not record the stored bytes ("" when it does).
function bodyMismatch(
  entry: TransparencyLogEntry,
  stored: StoredBytes,
  signer: X509Certificate | KeyObject | undefined,
): string {
  const kind = `${entry.kindVersion?.kind ?? '?'} ${entry.kindVersion?.version ?? '?'}`;
  const body = JSON.parse(entry.canonicalizedBody.toString('utf8')) as unknown;
  if (at(body, 'kind') !== 'hashedrekord' || at(body, 'apiVersion') !== '0.0.2')
    return `a ${kind} entry: only hashedrekord 0.0.2 entries of Rekor v2 are checked`;
  const spec = at(body, 'spec', 'hashedRekordV002');
  const algorithm = at(spec, 'data', 'algorithm');
  const digest = at(spec, 'data', 'digest');
  const content = at(spec, 'signature', 'content');
  if (typeof algorithm !== 'string' || typeof digest !== 'string' || typeof content !== 'string')
    return 'the body has no data digest or signature content';
  const hash = HASHES[algorithm];
  if (!hash) return `the body's digest algorithm ${algorithm} is not one Rekor v2 uses`;

  const signed = signedBytes(stored);
  if (typeof signed === 'string') return signed;
  const recorded = Buffer.from(content, 'base64');
  if (!signed.signatures.some((s) => s.equals(recorded)))
    return 'records another signature than the one stored in the bundle';
  const want = createHash(hash).update(signed.data).digest();
  if (!Buffer.from(digest, 'base64').equals(want))
    return `records another digest than the ${hash} of ${signed.what} (other bytes were logged)`;
  if (signer && !verifierMatches(at(spec, 'signature', 'verifier'), signer))
    return 'was made with another certificate or key than the one the signature is checked with';
  return '';
}

// What a hashedrekord 0.0.2 entry of the stored item signs: the PAE of a DSSE envelope, else the payload itself.
function signedBytes(stored: StoredBytes): { data: Buffer; signatures: Buffer[]; what: string } | string {
  switch (stored.kind) {
    case 'signature':
      return { data: stored.payload, signatures: [stored.signature], what: 'the payload' };
    case 'bundle-envelope':
      if (stored.payloadType === undefined) return 'the envelope’s payloadType is unknown';
      return {
        data: pae(stored.payloadType, stored.payload),
        signatures: stored.signatures,
        what: 'the envelope’s PAE',
      };
    case 'envelope': {
      const env = parseEnvelope(stored.envelope);
      if (!env) return 'the stored envelope is unreadable';
      return {
        data: pae(env.payloadType, env.payload),
        signatures: env.signatures.map((s) => s.sig),
        what: 'the envelope’s PAE',
      };
    }
  }
}

// The entry's verifier (`x509Certificate` or `publicKey`, DER) is the signer's certificate or key.
function verifierMatches(verifier: unknown, signer: X509Certificate | KeyObject): boolean {
  const certDer = at(verifier, 'x509Certificate', 'rawBytes');
  const keyDer = at(verifier, 'publicKey', 'rawBytes');
  const signerKey = signer instanceof X509Certificate ? signer.publicKey : signer;
  try {
    if (typeof certDer === 'string') {
      const cert = new X509Certificate(Buffer.from(certDer, 'base64'));
      return signer instanceof X509Certificate ? cert.raw.equals(signer.raw) : cert.publicKey.equals(signerKey);
    }
    if (typeof keyDer === 'string')
      return createPublicKey({ key: Buffer.from(keyDer, 'base64'), format: 'der', type: 'spki' }).equals(signerKey);
  } catch {
    // not a certificate or key: not this signer
  }
  return false;
}

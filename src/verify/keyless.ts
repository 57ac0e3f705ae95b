// One stored signature or attestation checked keylessly (cosign's `verify --certificate-identity …` path): the
// transparency-log entry first, because its integratedTime is the signing time the certificate is judged at; then
// the certificate (certificate.ts); then the item's own checks (checks.ts, bundles.ts) with the certificate's key.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { messageOf } from '../errors.js';
import type { Check, LayerVerdict } from './checks.js';
import { checkSigningCertificate, parseCertificatesPem, type KeylessPolicy, type SigningTime } from './certificate.js';
import { checkTlogRecord, type RekorLogKey, type StoredBytes, type TlogRecord } from './tlog.js';

/** What a verification trusts: a public key (`--key`, `--kms`) or Fulcio roots and an identity. */
export type SignerTrust = KeyObject | KeylessPolicy;

/** True for keyless trust. */
export function isKeyless(trust: SignerTrust): trust is KeylessPolicy {
  return (trust as Partial<KeylessPolicy>).kind === 'keyless';
}

/** The stored item and where its certificate, chain and log entry came from. */
export interface KeylessItem {
  source: string;
  /** the leaf: PEM (layer annotation) or DER (bundle) */
  certificate: string | Buffer | undefined;
  /** untrusted certificates stored with it: PEM (`dev.sigstore.cosign/chain`) or DER list (bundle) */
  chain: string | Buffer[] | undefined;
  stored: StoredBytes;
  /** its transparency-log record, or why it has none (only read with a Rekor key) */
  record: TlogRecord | string;
  /** more log checks of the same entry (a bundle's inclusion proof and checkpoint) */
  moreTlogChecks?: Check[];
  /**
   * checks already made that date the signature, instead of the Rekor v1 record (a Rekor v2 entry and its RFC 3161
   * timestamps, bundle-trust.ts): their checks, and the verified signing times (none: unknown)
   */
  dated?: { checks: Check[]; times: Date[] };
  /** the item's own checks, with the certificate's key */
  verify: (key: KeyObject) => LayerVerdict;
}

/**
 * The verdict of one item under keyless trust. With `rekor` the signing time is the entry's integratedTime (only
 * once its SET verified); without it (`--insecure-ignore-tlog`) it is `now`, so an expired certificate fails, as in
 * cosign. The item is authentic only when the log entry, the certificate and the item's own checks all hold.
 */
export function keylessVerdict(
  item: KeylessItem,
  policy: KeylessPolicy,
  rekor: RekorLogKey | undefined,
  now: Date = new Date(),
): LayerVerdict {
  const checks: Check[] = [];
  let chain: X509Certificate[];
  try {
    chain =
      typeof item.chain === 'string'
        ? parseCertificatesPem(item.chain)
        : (item.chain ?? []).map((der) => new X509Certificate(der));
  } catch (err) {
    const detail = `unreadable certificate chain stored with the signature: ${messageOf(err)}`;
    return { source: item.source, authentic: false, checks: [{ name: 'certificate', status: 'failed', detail }] };
  }
  let leaf: X509Certificate | undefined;
  try {
    leaf = item.certificate && item.certificate.length > 0 ? new X509Certificate(item.certificate) : undefined;
  } catch {
    leaf = undefined; // named by the certificate check below
  }
  let signedAt: SigningTime | undefined = { time: now, source: 'now' };
  const laterTimes: Date[] = [];
  if (item.dated) {
    checks.push(...item.dated.checks);
    const [first, ...rest] = item.dated.times;
    signedAt = first ? { time: first, source: 'timestamp' } : undefined;
    laterTimes.push(...rest);
  } else if (rekor) {
    const tlog = checkTlogRecord(item.record, rekor, item.stored, leaf);
    checks.push(tlog, ...(item.moreTlogChecks ?? []));
    signedAt =
      tlog.status === 'passed' && typeof item.record !== 'string'
        ? { time: new Date(item.record.integratedTime * 1000), source: 'tlog' }
        : undefined;
  }
  let cert = checkSigningCertificate(item.certificate, chain, policy, signedAt);
  // every verified timestamp must lie inside the certificate's validity, not only the first
  for (const time of laterTimes) {
    if (cert.check.status !== 'passed') break;
    cert = checkSigningCertificate(item.certificate, chain, policy, { time, source: 'timestamp' });
  }
  checks.push(cert.check);
  const verdict: LayerVerdict = { source: item.source, authentic: false, checks };
  if (cert.identity && cert.identity.sans.length > 0) {
    verdict.signer = { identity: cert.identity.sans.join(', '), issuer: cert.identity.issuer ?? '' };
  }
  if (!cert.leaf) return verdict;
  const trusted = checks.every((c) => c.status !== 'failed');
  const own = item.verify(cert.leaf.publicKey);
  // the item checks speak of "the given public key"; here that key is the certificate's
  checks.push(
    ...own.checks.map((c) =>
      c.name === 'signature' ? { ...c, detail: c.detail.replace('the given public key', 'the certificate’s key') } : c,
    ),
  );
  verdict.authentic = trusted && own.authentic;
  if (own.predicateType !== undefined) verdict.predicateType = own.predicateType;
  if (own.builderId !== undefined) verdict.builderId = own.builderId;
  return verdict;
}

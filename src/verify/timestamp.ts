// The RFC 3161 timestamps of a sigstore bundle (`timestampVerificationData.rfc3161Timestamps`), checked against the
// timestamp authorities of a trusted root, as sigstore-go does: the token's message imprint is the hash of the
// signature bytes, its signature verifies with the key of a trusted TSA's leaf, that leaf may stamp time (EKU
// timeStamping) and chains to the authority's root, and genTime lies inside the validity of the authority and of
// every certificate of its chain. Parsing and the token's own checks (imprint, signed attributes, signature) are
// @sigstore/core's `RFC3161Timestamp`; the chain walk is hand-written so that a failure names the broken part
// (@sigstore/verify's `verifyRFC3161Timestamp` answers "timestamp could not be verified").
import { X509Certificate } from 'node:crypto';
import { RFC3161Timestamp } from '@sigstore/core';
import { messageOf } from '../errors.js';
import type { Check } from './checks.js';
import type { TrustedTimestampAuthority } from './trusted-root.js';

/** Extended key usage id-kp-timeStamping. */
export const EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

/** The outcome of the timestamps of one signature: the check, and the verified times. */
export interface TimestampVerdict {
  check: Check;
  /** the genTime of every timestamp, when all of them verified */
  times: Date[];
}

const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');
const subject = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ');
const failed = (detail: string): TimestampVerdict => ({
  check: { name: 'timestamp', status: 'failed', detail },
  times: [],
});

/**
 * Checks every timestamp over `signature`. None: a skipped check (`required`: a failed one). One that does not
 * verify fails the check, naming which and why.
 */
export function checkTimestamps(
  timestamps: Buffer[],
  signature: Buffer,
  authorities: TrustedTimestampAuthority[],
  required: boolean,
): TimestampVerdict {
  if (timestamps.length === 0) {
    const detail = 'the bundle has no RFC 3161 timestamp';
    return required
      ? failed(`${detail}, and a Rekor v2 entry gives no signing time: a keyless signature needs one`)
      : { check: { name: 'timestamp', status: 'skipped', detail }, times: [] };
  }
  const times: Date[] = [];
  const by: string[] = [];
  for (const [i, der] of timestamps.entries()) {
    const what = timestamps.length > 1 ? `timestamp ${i + 1} of ${timestamps.length}` : 'the timestamp';
    const one = checkTimestamp(der, signature, authorities);
    if (typeof one === 'string') return failed(`${what}: ${one}`);
    times.push(one.time);
    by.push(`${iso(one.time)} by ${one.tsa}`);
  }
  const detail = `${by.join('; ')}: over the signature, signed by a timestamp authority of the trusted root`;
  return { check: { name: 'timestamp', status: 'passed', detail }, times };
}

// One timestamp token: its time and the TSA that signed it, or why it does not verify.
function checkTimestamp(
  der: Buffer,
  signature: Buffer,
  authorities: TrustedTimestampAuthority[],
): { time: Date; tsa: string } | string {
  let ts: RFC3161Timestamp;
  let genTime: Date;
  try {
    ts = RFC3161Timestamp.parse(der as Buffer<ArrayBuffer>);
    genTime = ts.tstInfo.genTime;
  } catch (err) {
    return `unreadable RFC 3161 timestamp (${messageOf(err)})`;
  }
  try {
    ts.tstInfo.verify(signature as Buffer<ArrayBuffer>);
  } catch {
    return 'its message imprint is not the hash of the signature (a timestamp of something else)';
  }
  if (authorities.length === 0) return 'the trusted root has no timestamp authority';
  const reasons: string[] = [];
  for (const tsa of authorities) {
    const [leaf] = tsa.chain;
    if (!leaf) continue;
    try {
      ts.verify(signature as Buffer<ArrayBuffer>, leaf.publicKey);
    } catch (err) {
      reasons.push(`${subject(leaf)}: ${messageOf(err)}`);
      continue;
    }
    const chain = chainProblem(tsa, genTime);
    if (chain) return `signed by ${subject(leaf)}, but ${chain}`;
    return { time: genTime, tsa: subject(leaf) };
  }
  return `not signed by a timestamp authority of the trusted root (${reasons.join('; ')})`;
}

// Why the authority's chain does not vouch for a token made at `time` ("" when it does).
function chainProblem(tsa: TrustedTimestampAuthority, time: Date): string {
  const { start, end } = tsa.validFor;
  if (time < start || time > end)
    return `its genTime ${iso(time)} is outside the authority's validFor (${iso(start)} to ${iso(end)})`;
  const leaf = tsa.chain[0]!;
  if (!(leaf.keyUsage ?? []).includes(EKU_TIME_STAMPING))
    return `its certificate has no timeStamping extended key usage`;
  for (const [i, c] of tsa.chain.entries()) {
    const issuer = tsa.chain[i + 1] ?? c;
    if (!c.checkIssued(issuer) || !c.verify(issuer.publicKey))
      return i + 1 < tsa.chain.length
        ? `${subject(c)} is not issued by ${subject(issuer)} in the authority's chain`
        : `the authority's chain does not end in a self-signed root (${subject(c)})`;
    if (i > 0 && !c.ca) return `${subject(c)} in the authority's chain is not a CA`;
    if (time < new Date(c.validFrom) || time > new Date(c.validTo))
      return `its genTime ${iso(time)} is outside the validity of ${subject(c)} (${c.validFrom} to ${c.validTo})`;
  }
  return '';
}

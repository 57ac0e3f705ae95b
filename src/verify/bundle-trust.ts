// The transparency-log and timestamp checks of one sigstore bundle under `--trusted-root` (trusted-root.ts): its RFC
// 3161 timestamps against the root's timestamp authorities (timestamp.ts), and its tlog entry against the root's
// logs — a Rekor v2 entry here (tlog-v2.ts), a Rekor v1 entry by the SET path of tlog.ts with the root's key for
// its log ID. A Rekor v2 entry carries no time, so a keyless signature needs a timestamp to date its certificate.
import type { X509Certificate, KeyObject } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import type { Check } from './checks.js';
import { checkTimestamps } from './timestamp.js';
import { checkRekorV2Entry, isRekorV2Entry } from './tlog-v2.js';
import type { RekorLogKey, StoredBytes } from './tlog.js';
import { trustedLog, type TrustedRootMaterial } from './trusted-root.js';

/** How the bundle's entry is to be checked, with the checks already made. */
export type TrustedBundleChecks =
  /** checked here (Rekor v2 entry, missing entry, or no log required): the checks and the verified signing times */
  | { kind: 'dated'; checks: Check[]; times: Date[] }
  /** a Rekor v1 entry: checked by its SET with this log (tlog.ts); `more` are the timestamp checks */
  | { kind: 'rekor-v1'; log: RekorLogKey; more: Check[] };

/** What the trusted root is asked for. */
export interface BundleTrustOptions {
  root: TrustedRootMaterial;
  /** keyless: a Rekor v2 entry then needs a timestamp */
  keyless: boolean;
  /** `--insecure-ignore-tlog`: no log entry required */
  ignoreTlog: boolean;
  /** the key or certificate the signature is checked with: the entry must name it */
  signer?: X509Certificate | KeyObject;
  /** `--rekor-public-key`, which a Rekor v1 entry of its log is checked with */
  rekor?: RekorLogKey;
  now?: Date;
}

/** The log and timestamp checks of `bundle` under the trusted root; never throws. */
export function trustedBundleChecks(bundle: Bundle, stored: StoredBytes, o: BundleTrustOptions): TrustedBundleChecks {
  const entry = bundle.verificationMaterial.tlogEntries[0];
  const v2 = isRekorV2Entry(entry);
  const timestamps = (bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).map(
    (t) => t.signedTimestamp,
  );
  const ts = checkTimestamps(timestamps, signatureOf(stored), o.root.timestampAuthorities, o.keyless && v2);
  if (o.ignoreTlog) return { kind: 'dated', checks: [ts.check], times: ts.times };
  if (!entry) {
    const detail = 'no transparency-log entry: the bundle has no tlogEntries';
    return { kind: 'dated', checks: [{ name: 'tlog', status: 'failed', detail }, ts.check], times: ts.times };
  }
  if (v2) {
    const time = ts.times[0] ?? o.now ?? new Date();
    return {
      kind: 'dated',
      checks: [...checkRekorV2Entry(entry, o.root, stored, o.signer, time), ts.check],
      times: ts.times,
    };
  }
  const logID = entry.logId?.keyId.toString('hex') ?? '';
  const trusted = trustedLog(o.root, logID);
  const log = o.rekor?.logID === logID ? o.rekor : trusted ? { key: trusted.key, logID: trusted.logID } : undefined;
  if (!log) {
    const detail =
      `the entry is from log ${logID || '(none)'}, ` + `not a transparency log of the trusted root ${o.root.name}`;
    return { kind: 'dated', checks: [{ name: 'tlog', status: 'failed', detail }, ts.check], times: ts.times };
  }
  return { kind: 'rekor-v1', log, more: [ts.check] };
}

// The signature bytes a timestamp is over: the message signature, or the envelope's (first) signature.
function signatureOf(stored: StoredBytes): Buffer {
  if (stored.kind === 'signature') return stored.signature;
  if (stored.kind === 'bundle-envelope') return stored.signatures[0] ?? Buffer.alloc(0);
  return Buffer.alloc(0);
}

// The transparency-log check of `chainsmith verify --rekor-public-key` (sigstore-stack.md §3.4, cosign's
// `VerifyBundle`): a stored signature passes only with a Rekor v1 entry whose signed entry timestamp (SET) verifies
// with the log's key, whose logID is that key's, and whose body records exactly the stored bytes.
// The SET is checked as @sigstore/verify's `verifyTLogSET` does it, with the same @sigstore/core primitives
// (`json.canonicalize`, RFC 8785, and `crypto.verify`): that function is not exported by the package, and it wants
// a protobuf bundle entry and trust material where cosign's layer annotation gives a Rekor `Payload`. The body
// comparison is src/sigstore/rekor.ts `entryMismatch`, the check the uploader runs on Rekor's answers.
// A bundle's entry also carries an inclusion proof with a checkpoint (cosign's layer annotation has only the SET,
// and cosign checks only the SET there): the proof must lead from the body's leaf hash to its root hash (merkle.ts),
// and the checkpoint must be signed by the same key and name the proof's tree size and root hash (checkpoint.ts).
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { crypto as sigstoreCrypto, json } from '@sigstore/core';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { messageOf } from '../errors.js';
import { dsseEntry, entryMismatch, hashedRekordEntry, intotoEntry, type TlogEntry } from '../sigstore/rekor.js';
import type { Check, LayerVerdict } from './checks.js';
import { parseCheckpoint, verifyCheckpointSignature, type CheckpointForm } from './checkpoint.js';
import { inclusionMismatch } from './merkle.js';

/** A Rekor v1 log as `verify` trusts it: its public key and the log ID derived from it. */
export interface RekorLogKey {
  key: KeyObject;
  /** hex sha256 of the key's DER SubjectPublicKeyInfo, as Rekor names its log */
  logID: string;
}

/**
 * rekor.sigstore.dev's public key (log ID c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d), the key
 * cosign gets from the public-good TUF root. Embedded (there is no TUF client here) so that entries of the
 * public-good log are checked even without --rekor-public-key, as cosign checks them by default.
 */
export const PUBLIC_GOOD_REKOR_KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr
kBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==
-----END PUBLIC KEY-----
`;

let publicGood: RekorLogKey | undefined;

/** The public-good Rekor log (rekor.sigstore.dev). */
export function publicGoodRekor(): RekorLogKey {
  return (publicGood ??= rekorLogKey(createPublicKey(PUBLIC_GOOD_REKOR_KEY)));
}

/**
 * The log to check a record with: the given Rekor key; without one, the public-good key when the entry is from the
 * public-good log (an entry of another log is then not checked: its key is unknown).
 */
export function rekorFor(record: TlogRecord | string, given: RekorLogKey | undefined): RekorLogKey | undefined {
  if (given) return given;
  if (typeof record === 'string') return undefined;
  const log = publicGoodRekor();
  return record.logID.toLowerCase() === log.logID ? log : undefined;
}

/** The trusted log of a Rekor public key. */
export function rekorLogKey(key: KeyObject): RekorLogKey {
  const der = key.export({ type: 'spki', format: 'der' });
  return { key, logID: createHash('sha256').update(der).digest('hex') };
}

/** What a SET signs (Rekor's `Payload`), plus the SET itself. */
export interface TlogRecord {
  /** base64 of the canonicalized entry body */
  body: string;
  integratedTime: number;
  logIndex: number;
  /** hex */
  logID: string;
  signedEntryTimestamp: Buffer;
}

/** What was stored, as the log entry must record it. */
export type StoredBytes =
  /** a simple-signing payload and its raw signature (`.sig` layer, message-signature bundle) */
  | { kind: 'signature'; payload: Buffer; signature: Buffer }
  /** a DSSE envelope exactly as stored (`.att` layer) */
  | { kind: 'envelope'; envelope: Buffer }
  /** a DSSE envelope decoded from a bundle: only its payload and signatures are the stored bytes */
  | { kind: 'bundle-envelope'; payload: Buffer; signatures: Buffer[]; payloadType?: string };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads cosign's `dev.sigstore.cosign/bundle` layer annotation, or says why it holds no usable entry. */
export function recordFromCosignBundle(annotation: string | undefined): TlogRecord | string {
  if (annotation === undefined || annotation === '')
    return 'no transparency-log entry: the layer has no dev.sigstore.cosign/bundle annotation';
  let doc: unknown;
  try {
    doc = JSON.parse(annotation);
  } catch {
    return 'the dev.sigstore.cosign/bundle annotation is not JSON';
  }
  if (!isObject(doc) || !isObject(doc.Payload) || typeof doc.SignedEntryTimestamp !== 'string')
    return 'the dev.sigstore.cosign/bundle annotation has no SignedEntryTimestamp and Payload';
  const p = doc.Payload;
  if (typeof p.body !== 'string' || !isInt(p.integratedTime) || !isInt(p.logIndex) || typeof p.logID !== 'string')
    return 'the dev.sigstore.cosign/bundle Payload lacks body, integratedTime, logIndex or logID';
  return {
    body: p.body,
    integratedTime: p.integratedTime,
    logIndex: p.logIndex,
    logID: p.logID,
    signedEntryTimestamp: Buffer.from(doc.SignedEntryTimestamp, 'base64'),
  };
}

/** Reads the first tlog entry of a sigstore bundle (already validated by @sigstore/bundle), or says why not. */
export function recordFromBundleEntries(entries: TransparencyLogEntry[]): TlogRecord | string {
  const e = entries[0];
  if (!e) return 'no transparency-log entry: the bundle has no tlogEntries';
  const set = e.inclusionPromise?.signedEntryTimestamp;
  if (!set || set.length === 0) return 'the bundle’s tlog entry has no inclusion promise (SET)';
  const integratedTime = Number(e.integratedTime);
  const logIndex = Number(e.logIndex);
  if (!isInt(integratedTime) || !isInt(logIndex)) return 'the bundle’s tlog entry has an invalid logIndex or time';
  return {
    body: e.canonicalizedBody.toString('base64'),
    integratedTime,
    logIndex,
    logID: e.logId.keyId.toString('hex'),
    signedEntryTimestamp: set,
  };
}

const passed = (detail: string): Check => ({ name: 'tlog', status: 'passed', detail });
const failed = (detail: string): Check => ({ name: 'tlog', status: 'failed', detail });

/** The record of an entry as Rekor answered it (the uploader's view), or why it has no SET. */
export function recordFromEntry(entry: TlogEntry): TlogRecord | string {
  if (!entry.signedEntryTimestamp) return `log entry ${entry.logIndex} came without a signed entry timestamp (SET)`;
  return {
    body: entry.body,
    integratedTime: entry.integratedTime,
    logIndex: entry.logIndex,
    logID: entry.logID,
    signedEntryTimestamp: Buffer.from(entry.signedEntryTimestamp, 'base64'),
  };
}

/** Why the record is not signed by the log of `log` ("" when its log ID and SET are the log's). */
export function setFailure(record: TlogRecord, log: RekorLogKey): string {
  if (record.logID.toLowerCase() !== log.logID)
    return `the entry is from log ${record.logID}, not the log of the given Rekor key (${log.logID})`;
  // Rekor signs the RFC 8785 form of exactly these four members (cosign's `VerifySET`)
  const payload = {
    body: record.body,
    integratedTime: record.integratedTime,
    logID: record.logID,
    logIndex: record.logIndex,
  };
  const data = Buffer.from(json.canonicalize(payload), 'utf8');
  if (!sigstoreCrypto.verify(data, log.key, record.signedEntryTimestamp))
    return `the signed entry timestamp of log entry ${record.logIndex} does not verify with the Rekor key`;
  return '';
}

/**
 * Checks one transparency-log record (or the reason there is none) against the log key and the stored bytes; with
 * `signer` (keyless), the entry's verifier must also be that certificate or its key (cosign's `comparePublicKey`).
 */
export function checkTlogRecord(
  record: TlogRecord | string,
  log: RekorLogKey,
  stored: StoredBytes,
  signer?: X509Certificate,
): Check {
  if (typeof record === 'string') return failed(record);
  try {
    const unsigned = setFailure(record, log);
    if (unsigned) return failed(unsigned);
    const mismatch = bodyMismatch(record.body, stored);
    if (mismatch) return failed(`log entry ${record.logIndex} records other bytes than those stored: ${mismatch}`);
    const other = signer ? verifierMismatch(record.body, signer) : '';
    if (other) return failed(`log entry ${record.logIndex} ${other}`);
    const whose = signer ? ', signed with this certificate' : '';
    return passed(
      `log entry ${record.logIndex}: SET verifies with the Rekor key and the entry records these bytes${whose}`,
    );
  } catch (err) {
    return failed(`unreadable transparency-log entry: ${messageOf(err)}`);
  }
}

// Why the entry body does not record the stored bytes ("" when it does).
function bodyMismatch(bodyB64: string, stored: StoredBytes): string {
  const body = JSON.parse(Buffer.from(bodyB64, 'base64').toString('utf8')) as {
    kind?: unknown;
    apiVersion?: unknown;
    spec?: unknown;
  };
  if (typeof body.kind !== 'string' || typeof body.apiVersion !== 'string') return 'the body has no kind/apiVersion';
  const entry: TlogEntry = {
    uuid: '',
    logIndex: 0,
    logID: '',
    integratedTime: 0,
    body: bodyB64,
    kind: body.kind,
    apiVersion: body.apiVersion,
  };
  switch (stored.kind) {
    case 'signature':
      return entryMismatch(entry, hashedRekordEntry(stored.payload, stored.signature, ''));
    case 'envelope':
      if (body.kind === 'intoto') return entryMismatch(entry, intotoEntry(stored.envelope, ''));
      return entryMismatch(entry, dsseEntry(stored.envelope, ''));
    case 'bundle-envelope':
      return dssePayloadMismatch(body, stored.payload, stored.signatures);
  }
}

// Why the entry names another verifier than `signer` ("" when one of its verifiers is the certificate or its key).
// Where each entry type keeps its verifiers (base64 PEM): hashedrekord spec.signature.publicKey.content, intoto
// 0.0.1 spec.publicKey, intoto 0.0.2 spec.content.envelope.signatures[].publicKey, dsse spec.signatures[].verifier.
function verifierMismatch(bodyB64: string, signer: X509Certificate): string {
  const body = JSON.parse(Buffer.from(bodyB64, 'base64').toString('utf8')) as { spec?: unknown };
  const spec = isObject(body.spec) ? body.spec : {};
  const at = (o: unknown, ...path: string[]): unknown => path.reduce((v, k) => (isObject(v) ? v[k] : undefined), o);
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const candidates = [
    at(spec, 'signature', 'publicKey', 'content'),
    at(spec, 'publicKey'),
    ...list(at(spec, 'content', 'envelope', 'signatures')).map((s) => at(s, 'publicKey')),
    ...list(at(spec, 'signatures')).map((s) => at(s, 'verifier')),
  ].filter((v): v is string => typeof v === 'string');
  if (candidates.length === 0) return 'names no verifier';
  for (const c of candidates) {
    const pem = Buffer.from(c, 'base64').toString('utf8');
    try {
      if (pem.includes('BEGIN CERTIFICATE')) {
        if (new X509Certificate(pem).raw.equals(signer.raw)) return '';
      } else if (createPublicKey(pem).equals(signer.publicKey)) return '';
    } catch {
      // not a key or certificate: not this one
    }
  }
  return 'was made with another certificate or key than the one stored with the signature';
}

// A bundle re-serialises the envelope, so its entry is matched by the DSSE payload hash and a signature.
function dssePayloadMismatch(
  body: { kind?: unknown; apiVersion?: unknown; spec?: unknown },
  payload: Buffer,
  signatures: Buffer[],
): string {
  if (body.kind !== 'dsse' || body.apiVersion !== '0.0.1') return `it is ${String(body.kind)}, not dsse 0.0.1`;
  const spec = isObject(body.spec) ? body.spec : {};
  const hash = isObject(spec.payloadHash) ? spec.payloadHash.value : undefined;
  if (hash !== createHash('sha256').update(payload).digest('hex')) return 'another payload hash';
  const recorded = Array.isArray(spec.signatures)
    ? spec.signatures.map((s) => (isObject(s) ? s.signature : undefined))
    : [];
  return signatures.some((s) => recorded.includes(s.toString('base64'))) ? '' : 'another signature';
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Checks the inclusion proof of a bundle's first tlog entry, when it has one: `inclusion-proof` (the audit path leads
 * from the leaf hash of the entry's canonicalized body to the proof's root hash) and `checkpoint` (signed by the
 * Rekor key, Rekor's origin, the proof's tree size and root hash). An entry without a proof gets a skipped check.
 */
export function checkInclusionProof(
  entries: TransparencyLogEntry[],
  log: RekorLogKey,
  form: CheckpointForm = 'rekor-v1',
): Check[] {
  const entry = entries[0];
  if (!entry) return [];
  const proof = entry.inclusionProof;
  if (!proof)
    return [
      { name: 'inclusion-proof', status: 'skipped', detail: 'the entry has no inclusion proof (its SET is checked)' },
    ];
  const proofFailed = (detail: string): Check => ({ name: 'inclusion-proof', status: 'failed', detail });
  const cpFailed = (detail: string): Check => ({ name: 'checkpoint', status: 'failed', detail });
  if (!DECIMAL.test(proof.logIndex) || !DECIMAL.test(proof.treeSize))
    return [proofFailed('the proof’s logIndex or treeSize is not a number'), cpFailed('not checked: no valid proof')];
  const treeSize = BigInt(proof.treeSize);
  const leafIndex = BigInt(proof.logIndex);
  const mismatch = inclusionMismatch(entry.canonicalizedBody, {
    leafIndex,
    treeSize,
    rootHash: proof.rootHash,
    hashes: proof.hashes,
  });
  const root = proof.rootHash.toString('hex');
  const checks: Check[] = [
    mismatch
      ? proofFailed(mismatch)
      : {
          name: 'inclusion-proof',
          status: 'passed',
          detail: `leaf ${leafIndex} of a tree of size ${treeSize}: the audit path leads to root hash ${root}`,
        },
  ];
  if (!proof.checkpoint?.envelope)
    return [...checks, cpFailed('the inclusion proof has no checkpoint, so nothing signs its root hash')];
  const signed = parseCheckpoint(proof.checkpoint.envelope);
  if (typeof signed === 'string') return [...checks, cpFailed(`unreadable: ${signed}`)];
  const signature = verifyCheckpointSignature(signed, log, form);
  if ('failure' in signature) return [...checks, cpFailed(signature.failure)];
  const cp = signed.checkpoint;
  if (cp.treeSize !== treeSize)
    return [...checks, cpFailed(`tree size mismatch: the checkpoint says ${cp.treeSize}, the proof ${treeSize}`)];
  if (!cp.rootHash.equals(proof.rootHash))
    return [
      ...checks,
      cpFailed(`root hash mismatch: the checkpoint says ${cp.rootHash.toString('hex')}, the proof ${root}`),
    ];
  const detail =
    `signed by the Rekor key as ${signature.signer} (origin ${cp.origin}); ` +
    'its tree size and root hash are the proof’s';
  return [...checks, { name: 'checkpoint', status: 'passed', detail }];
}

/** Adds the tlog check to a verdict: an item is authentic only when its entry is too. */
export function withTlogCheck(verdict: LayerVerdict, check: Check): LayerVerdict {
  return withTlogChecks(verdict, [check]);
}

/** Adds tlog checks (entry, inclusion proof, checkpoint) to a verdict; a skipped check does not fail it. */
export function withTlogChecks(verdict: LayerVerdict, checks: Check[]): LayerVerdict {
  return {
    ...verdict,
    authentic: verdict.authentic && checks.every((c) => c.status !== 'failed'),
    checks: [...verdict.checks, ...checks],
  };
}

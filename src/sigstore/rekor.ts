// A Rekor v1 client for what Chains uploads (chains-behaviour.md §6, sigstore-stack.md §3.1): `hashedrekord` 0.0.1
// for simple-signing signatures, `dsse` 0.0.1 (Chains v0.29+) or `intoto` 0.0.1 (Chains ≤ v0.28) for attestations.
// The entry types come from @sigstore/rekor-types. The requests are ours: @sigstore/sign's RekorWitness re-serialises
// the envelope (other member order, no keyid), and Rekor hashes the envelope string as submitted, so cosign's check
// of sha256(stored `.att` layer) against the entry's envelope hash only passes when the stored bytes are sent as is.
// Rekor's answers are untrusted: bodies are capped, requests have deadlines, and a 409 is only accepted after the
// existing entry is fetched and shown to record the same signature.
import { createHash, type KeyObject } from 'node:crypto';
import type {
  InclusionProof,
  LogEntry,
  ProposedDSSEEntry,
  ProposedEntry,
  ProposedHashedRekordEntry,
  ProposedIntotoEntry,
} from '@sigstore/rekor-types';
import { ChainsmithError, messageOf } from '../errors.js';
import { HttpTransport, ResponseTooLargeError, type HttpResponse } from '../oci/transport.js';
import { serviceBase, serviceMessage, shorten } from './service.js';

/** The Rekor entry kind for attestations (`chainsmith.transparency.attestation-entry`). */
export type AttestationEntryType = 'dsse' | 'intoto';

/** Largest Rekor answer we read: one entry with its inclusion proof is a few kB; a DSSE body holds no payload. */
export const MAX_REKOR_RESPONSE_BYTES = 1024 * 1024;
/** Total deadline of one Rekor request (Rekor waits for the entry to be sequenced before it answers). */
export const REKOR_TIMEOUT_MS = 30_000;
/** Idle deadline of one Rekor request. */
export const REKOR_IDLE_TIMEOUT_MS = 15_000;

/** One transparency-log entry as Rekor returned it. */
export interface TlogEntry {
  uuid: string;
  logIndex: number;
  /** hex sha256 of the log's DER public key */
  logID: string;
  integratedTime: number;
  /** base64 of the canonicalized entry body */
  body: string;
  kind: string;
  apiVersion: string;
  /** base64 signed entry timestamp (SET); absent when Rekor returned no verification data */
  signedEntryTimestamp?: string;
  inclusionProof?: InclusionProof;
  /** the log's base URL, when chosen by a signing config (else `transparency.url`) */
  logUrl?: string;
  /** 2 for a Rekor v2 (rekor-tiles) entry: no SET, integratedTime 0 */
  majorApiVersion?: 1 | 2;
  /**
   * DER RFC 3161 timestamps of the same signature, from the timestamp authority of the signing config: not part of
   * the log's entry, carried with it to storage (bundles' `timestampVerificationData`, cosign's
   * `dev.sigstore.cosign/rfc3161timestamp` annotation)
   */
  rfc3161Timestamps?: Buffer[];
  /**
   * DER RFC 3161 timestamp over the whole DSSE envelope: what cosign's tag layout carries for an attestation (cosign
   * timestamps the `.att` layer blob, where a bundle timestamps the envelope's signature). Requested only when an
   * attestation is stored in that layout.
   */
  envelopeTimestamp?: Buffer;
}

/** What a signature is checked with: the certificate PEM when the signer has one, else its PKIX public key PEM. */
export function verifierPem(cert: string, publicKey: KeyObject | undefined): string {
  if (cert !== '') return cert;
  if (!publicKey)
    throw new ChainsmithError('TransparencyFailed', 'the signer has neither a certificate nor a public key');
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** A `hashedrekord` 0.0.1 entry for a signature over `payload` (cosign's `rekorEntry`). */
export function hashedRekordEntry(payload: Buffer, rawSignature: Buffer, verifier: string): ProposedHashedRekordEntry {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
      signature: { content: rawSignature.toString('base64'), publicKey: { content: b64(verifier) } },
    },
  };
}

/** A `dsse` 0.0.1 entry: the envelope exactly as stored, the verifier as its one verifier. */
export function dsseEntry(envelope: Buffer, verifier: string): ProposedDSSEEntry {
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: { proposedContent: { envelope: envelope.toString('utf8'), verifiers: [b64(verifier)] } },
  };
}

/** An `intoto` 0.0.1 entry (Chains ≤ v0.28, cosign's `TLogUploadInTotoAttestation`). */
export function intotoEntry(envelope: Buffer, verifier: string): ProposedIntotoEntry {
  return {
    apiVersion: '0.0.1',
    kind: 'intoto',
    spec: { content: { envelope: envelope.toString('utf8') }, publicKey: b64(verifier) },
  };
}

/** The entry Chains would upload for a stored signature: image signatures hashedrekord, attestations dsse/intoto. */
export function proposedEntry(
  kind: 'simplesigning' | 'in-toto',
  stored: { payload: Buffer; signature: Buffer },
  verifier: string,
  attestationEntry: AttestationEntryType,
): ProposedEntry {
  if (kind === 'simplesigning') return hashedRekordEntry(stored.payload, stored.signature, verifier);
  return attestationEntry === 'intoto'
    ? intotoEntry(stored.signature, verifier)
    : dsseEntry(stored.signature, verifier);
}

/** `chains.tekton.dev/transparency` as Chains writes it: `transparency.url` verbatim, then the entry's query. */
export function transparencyEntryUrl(url: string, logIndex: number, majorApiVersion: 1 | 2 = 1): string {
  // Rekor v2 serves tiles, not entries by index: the annotation names the log and the index
  if (majorApiVersion === 2) return `${url}#logIndex=${logIndex}`;
  return `${url}/api/v1/log/entries?logIndex=${logIndex}`;
}

/** Options of a RekorClient. */
export interface RekorClientOptions {
  /** `transparency.url`, e.g. https://rekor.sigstore.dev */
  url: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  maxResponseBytes?: number;
  /** PEM CA certificates trusted in addition to Node's roots */
  caBundle?: string;
}

/** Uploads entries to one Rekor v1 log. */
export class RekorClient {
  private readonly base: string;
  private readonly transport: HttpTransport;
  private readonly maxBytes: number;
  /** `transparency.url` as configured */
  readonly url: string;

  constructor(opts: RekorClientOptions) {
    this.url = opts.url;
    this.base = serviceBase(opts.url, 'transparency.url');
    this.maxBytes = opts.maxResponseBytes ?? MAX_REKOR_RESPONSE_BYTES;
    this.transport = new HttpTransport({
      timeoutMs: opts.timeoutMs ?? REKOR_TIMEOUT_MS,
      idleTimeoutMs: opts.idleTimeoutMs ?? REKOR_IDLE_TIMEOUT_MS,
      maxBodyBytes: this.maxBytes,
      ...(opts.caBundle ? { tls: { caBundle: opts.caBundle } } : {}),
    });
  }

  /**
   * Creates the entry; on 409 Conflict (already in the log) fetches the existing one and checks it records the same
   * signature. Throws TransparencyFailed: transient for network errors, timeouts, 5xx and 429.
   */
  async upload(entry: ProposedEntry): Promise<TlogEntry> {
    const url = `${this.base}/api/v1/log/entries`;
    const res = await this.send('POST', url, Buffer.from(JSON.stringify(entry)));
    if (res.status === 201) return this.parseEntry(res, entry);
    if (res.status === 409) {
      const location = res.headers['location'] ?? '';
      const uuid = /\/api\/v1\/log\/entries\/([0-9a-fA-F]{64,80})$/.exec(location)?.[1];
      if (!uuid) throw this.fail(`409 Conflict without an entry location (${shorten(location)})`, false);
      const existing = await this.send('GET', `${this.base}/api/v1/log/entries/${uuid}`);
      if (existing.status !== 200) throw this.statusFailure(existing, `reading the existing entry ${uuid}`);
      return this.parseEntry(existing, entry);
    }
    throw this.statusFailure(res, 'creating the entry');
  }

  private async send(method: 'GET' | 'POST', url: string, body?: Buffer): Promise<HttpResponse> {
    try {
      return await this.transport.send({
        method,
        url,
        headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body } : {}),
      });
    } catch (err) {
      if (err instanceof ResponseTooLargeError)
        throw this.fail(`the answer is larger than ${this.maxBytes} bytes`, false, err);
      throw this.fail(`${method} failed: ${messageOf(err)}`, true, err);
    }
  }

  private statusFailure(res: HttpResponse, doing: string): ChainsmithError {
    const transient = res.status >= 500 || res.status === 429 || res.status === 408;
    const message = serviceMessage(res.body);
    return this.fail(`${doing}: HTTP ${res.status}${message ? `: ${message}` : ''}`, transient);
  }

  private fail(detail: string, transient: boolean, cause?: unknown): ChainsmithError {
    return new ChainsmithError('TransparencyFailed', `rekor ${this.base}: ${detail}`, {
      transient,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  private parseEntry(res: HttpResponse, proposed: ProposedEntry): TlogEntry {
    const entry = parseLogEntry(res.body);
    if (typeof entry === 'string') throw this.fail(`not a Rekor log entry: ${entry}`, false);
    const mismatch = entryMismatch(entry, proposed);
    if (mismatch) throw this.fail(`the log entry ${entry.uuid} does not record this signature: ${mismatch}`, false);
    return entry;
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]+$/i.test(v);

/** Parses Rekor's `{ "<uuid>": {body, integratedTime, logID, logIndex, verification} }`, or says why it is not one. */
export function parseLogEntry(bytes: Buffer): TlogEntry | string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'not a JSON object';
  const keys = Object.keys(doc);
  if (keys.length !== 1) return `${keys.length} entries instead of one`;
  const uuid = keys[0]!;
  const e = (doc as LogEntry)[uuid]!;
  if (!isHex(uuid)) return 'the entry UUID is not hex';
  if (e === null || typeof e !== 'object') return 'the entry is not an object';
  if (!isInt(e.logIndex)) return 'logIndex is not a non-negative integer';
  if (!isInt(e.integratedTime)) return 'integratedTime is not a non-negative integer';
  if (!isHex(e.logID)) return 'logID is not hex';
  if (typeof e.body !== 'string') return 'body is not a string';
  let body: { kind?: unknown; apiVersion?: unknown };
  try {
    body = JSON.parse(Buffer.from(e.body, 'base64').toString('utf8')) as typeof body;
  } catch {
    return 'body is not base64 JSON';
  }
  if (typeof body.kind !== 'string' || typeof body.apiVersion !== 'string') return 'body has no kind/apiVersion';
  const out: TlogEntry = {
    uuid,
    logIndex: e.logIndex,
    logID: e.logID.toLowerCase(),
    integratedTime: e.integratedTime,
    body: e.body,
    kind: body.kind,
    apiVersion: body.apiVersion,
  };
  const set = e.verification?.signedEntryTimestamp;
  if (set !== undefined) {
    if (typeof set !== 'string' || set === '') return 'signedEntryTimestamp is not a string';
    out.signedEntryTimestamp = set;
  }
  const proof = e.verification?.inclusionProof;
  if (proof !== undefined) {
    const ok =
      proof !== null &&
      typeof proof === 'object' &&
      isInt(proof.logIndex) &&
      isInt(proof.treeSize) &&
      isHex(proof.rootHash) &&
      Array.isArray(proof.hashes) &&
      proof.hashes.every(isHex) &&
      (proof.checkpoint === undefined || typeof proof.checkpoint === 'string');
    if (!ok) return 'inclusionProof is malformed';
    out.inclusionProof = proof;
  }
  return out;
}

/** Why an entry does not record the proposed signature ("" when it does): kind, version and the signed hashes. */
export function entryMismatch(entry: TlogEntry, proposed: ProposedEntry): string {
  if (entry.kind !== proposed.kind || entry.apiVersion !== proposed.apiVersion)
    return `it is ${entry.kind} ${entry.apiVersion}, not ${proposed.kind} ${proposed.apiVersion}`;
  const spec = (JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8')) as { spec?: Record<string, unknown> })
    .spec;
  const at = (path: string[]): unknown =>
    path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), spec);
  const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
  switch (proposed.kind) {
    case 'hashedrekord': {
      if (at(['data', 'hash', 'value']) !== proposed.spec.data.hash?.value) return 'another payload hash';
      if (at(['signature', 'content']) !== proposed.spec.signature.content) return 'another signature';
      return '';
    }
    case 'dsse': {
      const envelope = proposed.spec.proposedContent?.envelope ?? '';
      return at(['envelopeHash', 'value']) === sha256(envelope) ? '' : 'another envelope hash';
    }
    case 'intoto': {
      const envelope = proposed.apiVersion === '0.0.1' ? (proposed.spec.content.envelope ?? '') : '';
      return at(['content', 'hash', 'value']) === sha256(envelope) ? '' : 'another envelope hash';
    }
  }
}

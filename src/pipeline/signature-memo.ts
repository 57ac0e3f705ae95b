// Signatures made for runs that are not marked yet, kept so a retry reuses them instead of signing again.
// KMS and keyless signatures differ every time (key-file ECDSA signatures for the log are RFC 6979, the same each
// time, but the memo also saves the upload), and Rekor records each distinct signature as a new entry: a run whose
// second upload (or whose storage) failed would otherwise leave one orphaned entry per attempt for the same payload.
// With the same signature, a repeated upload is idempotent (Rekor answers 409 and the existing entry is reused), and an
// entry already obtained is not asked for again. Bounded by entries and bytes (least recently used dropped first);
// a run's memories are dropped once it is signed. A controller restart forgets them (see docs/compatibility.md).
import { createHash } from 'node:crypto';
import type { SignedPayload, Signer } from '../signing/signer.js';
import type { TlogEntry } from '../sigstore/rekor.js';

/** What is remembered for one signed object. */
export interface Remembered {
  signed: SignedPayload;
  /** the transparency-log entry of `signed`, once the upload succeeded */
  tlogEntry?: TlogEntry;
}

export interface SignatureMemoLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_MEMO_LIMITS: SignatureMemoLimits = { maxEntries: 2_000, maxBytes: 64 * 1024 * 1024 };

interface Slot {
  runUid: string;
  value: Remembered;
  bytes: number;
}

/** The identity of one signature: run, object, exact payload bytes, signing key and certificate, and the log. */
export function memoKey(parts: {
  runUid: string;
  fullKey: string;
  payload: Buffer;
  signer: Signer;
  tlog: string;
}): string {
  const h = createHash('sha256');
  for (const p of [parts.runUid, parts.fullKey, parts.tlog, parts.signer.cert()]) h.update(p).update('\0');
  h.update(parts.signer.publicKey().export({ type: 'spki', format: 'der' })).update('\0');
  h.update(parts.payload);
  return h.digest('hex');
}

export class SignatureMemo {
  private readonly slots = new Map<string, Slot>();
  private bytes = 0;

  constructor(private readonly limits: SignatureMemoLimits = DEFAULT_MEMO_LIMITS) {}

  get size(): number {
    return this.slots.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get(key: string): Remembered | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    // most recently used last
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  set(runUid: string, key: string, value: Remembered): void {
    this.delete(key);
    const bytes = value.signed.payload.length + value.signed.signature.length + (value.tlogEntry?.body.length ?? 0);
    // one object larger than the whole budget is not remembered (its retry signs again)
    if (bytes > this.limits.maxBytes) return;
    this.slots.set(key, { runUid, value, bytes });
    this.bytes += bytes;
    for (const [oldest] of this.slots) {
      if (this.slots.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.delete(oldest);
    }
  }

  /** Drops everything remembered for a run (it is signed; nothing will be retried). */
  forgetRun(runUid: string): void {
    for (const [key, slot] of this.slots) if (slot.runUid === runUid) this.delete(key);
  }

  private delete(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    this.bytes -= slot.bytes;
  }
}

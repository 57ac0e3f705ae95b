// Test transparency logs: a key pair that signs SETs and checkpoints as rekor-server v1 does, and RFC 6962 Merkle
// trees computed from the RFC's recursive definitions (MTH, PATH), independent of src/verify/merkle.ts's algorithm.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { rekorLogKey, type RekorLogKey } from '../../src/verify/tlog.js';

/** A test "Rekor": its key pair and log ID. */
export interface TestLog {
  priv: KeyObject;
  trusted: RekorLogKey;
}

/** A fresh P-256 log key. */
export function testLog(): TestLog {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { priv: privateKey, trusted: rekorLogKey(publicKey) };
}

/** A checkpoint as Rekor writes it: origin `<name> - <treeID>`, signed as `<name>` with the log's key hint. */
export function signCheckpoint(
  log: TestLog,
  size: bigint | number,
  root: Buffer,
  opts: { name?: string; origin?: string } = {},
): string {
  const name = opts.name ?? 'rekor.test';
  const note = `${opts.origin ?? `${name} - 1234`}\n${size}\n${root.toString('base64')}\n`;
  const sig = sign('sha256', Buffer.from(note), log.priv);
  const hint = Buffer.from(log.trusted.logID, 'hex').subarray(0, 4);
  return `${note}\n\u2014 ${name} ${Buffer.concat([hint, sig]).toString('base64')}\n`;
}

const sha = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 §2.1 MTH of a list of leaves. */
export function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0]!);
  const k = largestPowerOfTwoBelow(leaves.length);
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 6962 §2.1.1 PATH(m, D[n]): the audit path of leaf m, leaf-side first. */
export function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

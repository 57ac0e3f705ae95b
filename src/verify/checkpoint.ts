// Rekor checkpoints: a signed note (golang.org/x/mod/sumdb/note, transparency-dev/formats log/README.md) whose
// text is the log's origin, tree size and root hash. Rekor writes the origin as `<hostname> - <treeID>` and signs the
// note as `<hostname>` with the key hint sha256(DER public key)[0:4], i.e. the first 4 bytes of the log ID.
// Rekor v2 (rekor-tiles) names its log by the origin alone and signs the note with an Ed25519 key whose hint is the
// signed-note key ID, sha256(<name> || "\n" || 0x01 || raw key)[0:4] (golang.org/x/mod/sumdb/note).
// Hand-written for the same reason as merkle.ts: @sigstore/verify's `verifyCheckpoint` is not exported, wants a
// TLogAuthority with a base URL, and fails with one generic message.
import { createHash, type KeyObject } from 'node:crypto';
import { crypto as sigstoreCrypto } from '@sigstore/core';

/** The body of a checkpoint. */
export interface LogCheckpoint {
  origin: string;
  treeSize: bigint;
  rootHash: Buffer;
}

/** One signature line of a note: `— <name> <base64(key hint ‖ signature)>`. */
interface NoteSignature {
  name: string;
  keyHint: Buffer;
  signature: Buffer;
}

/** A parsed signed note: the exact signed text and its signature lines. */
export interface SignedCheckpoint {
  /** the signed bytes: every line up to and including the newline before the blank line */
  note: string;
  checkpoint: LogCheckpoint;
  signatures: NoteSignature[];
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Parses a checkpoint envelope, or says why it is not one. */
export function parseCheckpoint(envelope: string): SignedCheckpoint | string {
  const split = envelope.indexOf('\n\n');
  if (split < 0) return 'not a signed note (no blank line between the note and its signatures)';
  const note = envelope.slice(0, split + 1);
  const lines = note.slice(0, -1).split('\n');
  if (lines.length < 3) return 'the note has fewer than 3 lines (origin, tree size, root hash)';
  const [origin, size, root] = lines as [string, string, string];
  if (origin.trim() === '') return 'the origin line is empty';
  if (!DECIMAL.test(size)) return `the tree size line ${JSON.stringify(size.slice(0, 40))} is not a decimal number`;
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== root)
    return 'the root hash line is not 32 base64 bytes';

  const sigText = envelope.slice(split + 2);
  if (!sigText.endsWith('\n')) return 'the signature lines do not end with a newline';
  const signatures: NoteSignature[] = [];
  for (const line of sigText.slice(0, -1).split('\n')) {
    const m = SIGNATURE_LINE.exec(line);
    if (!m) return `malformed signature line ${JSON.stringify(line.slice(0, 60))}`;
    const bytes = Buffer.from(m[2]!, 'base64');
    if (bytes.length < 5) return 'a signature line is too short to hold a key hint and a signature';
    signatures.push({ name: m[1]!, keyHint: bytes.subarray(0, 4), signature: bytes.subarray(4) });
  }
  return { note, checkpoint: { origin, treeSize: BigInt(size), rootHash }, signatures };
}

/** How a log names itself in its checkpoints: Rekor v1's `<name> - <tree ID>`, or Rekor v2's origin = signer name. */
export type CheckpointForm = 'rekor-v1' | 'rekor-v2';

/** The signed-note key ID of an Ed25519 key under a signer name: sha256(name || "\n" || 0x01 || raw key)[0:4]. */
export function noteKeyHint(name: string, key: KeyObject): Buffer {
  const raw = key.export({ type: 'spki', format: 'der' }).subarray(-32);
  return createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Buffer.from([0x01]))
    .update(raw)
    .digest()
    .subarray(0, 4);
}

/**
 * Checks that the Rekor log signed the checkpoint: a signature line with the log's key hint verifies over the note,
 * and the origin is Rekor's `<signer name> - <tree ID>` (Rekor v2: the signer name itself). Returns the signer's
 * name, or why not. An Ed25519 key's hint is its signed-note key ID under the line's name; any other key's the first
 * 4 bytes of the log ID.
 */
export function verifyCheckpointSignature(
  signed: SignedCheckpoint,
  log: { key: KeyObject; /** hex */ logID: string },
  form: CheckpointForm = 'rekor-v1',
): { signer: string } | { failure: string } {
  const ed25519 = log.key.asymmetricKeyType === 'ed25519';
  const logHint = Buffer.from(log.logID, 'hex').subarray(0, 4);
  const hintOf = (name: string): Buffer => (ed25519 ? noteKeyHint(name, log.key) : logHint);
  const candidates = signed.signatures.filter((s) => s.keyHint.equals(hintOf(s.name)));
  if (candidates.length === 0)
    return {
      failure: ed25519
        ? "signature invalid: no signature line has the hint of the log's Ed25519 key under its name"
        : `signature invalid: no signature line has the Rekor key's hint ${logHint.toString('hex')}`,
    };
  const data = Buffer.from(signed.note, 'utf8');
  const good = candidates.find((s) => sigstoreCrypto.verify(data, log.key, s.signature));
  if (!good) return { failure: 'signature invalid: the note signature does not verify with the Rekor key' };
  const origin = signed.checkpoint.origin;
  if (form === 'rekor-v2') {
    if (origin === good.name) return { signer: good.name };
    const [o, n] = [JSON.stringify(origin.slice(0, 100)), JSON.stringify(good.name)];
    return { failure: `origin mismatch: ${o} is not the signer ${n}` };
  }
  if (!origin.startsWith(`${good.name} - `) || !DECIMAL.test(origin.slice(good.name.length + 3)))
    return {
      failure:
        `origin mismatch: ${JSON.stringify(origin.slice(0, 100))} is not "<signer> - <tree ID>" ` +
        `for the signer ${JSON.stringify(good.name)}`,
    };
  return { signer: good.name };
}

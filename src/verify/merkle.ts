// RFC 6962 Merkle tree hashes and the verification of an inclusion proof (audit path), as RFC 9162 §2.1.3.2
// writes the algorithm. Hand-written: @sigstore/verify has the same check (`verifyMerkleInclusion`) but does not
// export it (only its Verifier, which needs a whole bundle, trust material and SHA-256 signatures), and it answers
// with one generic error where `verify` must say which part of the proof is broken.
import { createHash } from 'node:crypto';

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 || leaf). */
export function leafHash(leaf: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(leaf)
    .digest();
}

/** RFC 6962 §2.1 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(left)
    .update(right)
    .digest();
}

/** An inclusion proof as Rekor v1 gives it (sigstore bundle `InclusionProof`, bytes decoded). */
export interface MerkleInclusionProof {
  /** index of the leaf in the tree the proof is for (Rekor: the index within the tree shard) */
  leafIndex: bigint;
  treeSize: bigint;
  rootHash: Buffer;
  /** the audit path, from the leaf's sibling up to the root's child */
  hashes: Buffer[];
}

/** Why `leaf` is not proven to be in the tree of `proof` (`''` when it is). */
export function inclusionMismatch(leaf: Buffer, proof: MerkleInclusionProof): string {
  const { leafIndex, treeSize } = proof;
  if (leafIndex < 0n || treeSize <= 0n || leafIndex >= treeSize)
    return `leaf index ${leafIndex} is not inside a tree of size ${treeSize}`;
  if (proof.hashes.some((h) => h.length !== 32) || proof.rootHash.length !== 32)
    return 'a hash of the proof is not 32 bytes long';
  // RFC 9162 §2.1.3.2: fn walks up from the leaf, sn from the last leaf; their paths merge at the border
  let fn = leafIndex;
  let sn = treeSize - 1n;
  let r = leafHash(leaf);
  for (const p of proof.hashes) {
    if (sn === 0n)
      return `the audit path has ${proof.hashes.length} hashes, more than a tree of size ${treeSize} needs`;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  const count = proof.hashes.length;
  if (sn !== 0n)
    return `the audit path has ${count} hashes, fewer than leaf ${leafIndex} of a tree of size ${treeSize} needs`;
  const [got, want] = [r.toString('hex'), proof.rootHash.toString('hex')];
  if (!r.equals(proof.rootHash)) return `root hash mismatch: the audit path leads to ${got}, the proof says ${want}`;
  return '';
}

// Signing for the loopback stand-ins: they receive a digest, but Node signs messages, so the test registers the
// messages it will sign and the stand-in signs the one whose digest it received (same bytes a KMS would sign).
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export type FakeKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'ed25519';

export interface FakeKey {
  type: FakeKeyType;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh key pair of the given type. */
export function fakeKey(type: FakeKeyType): FakeKey {
  const pair =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : type === 'rsa-2048'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: type === 'ec-p256' ? 'P-256' : 'P-384' });
  return { type, ...pair };
}

/** Messages the stand-ins may be asked to sign, looked up by digest. */
export class KnownMessages {
  private readonly byDigest = new Map<string, Buffer>();

  add(message: Buffer): Buffer {
    for (const h of ['sha256', 'sha384', 'sha512'])
      this.byDigest.set(`${h}:${createHash(h).update(message).digest('hex')}`, message);
    return message;
  }

  /** Signs the message whose `hash` digest is `digest`, as a KMS would sign that digest. */
  signDigest(
    key: FakeKey,
    hash: 'sha256' | 'sha384' | 'sha512',
    digest: Buffer,
    encoding: 'der' | 'ieee-p1363' = 'der',
  ): Buffer {
    const message = this.byDigest.get(`${hash}:${digest.toString('hex')}`);
    if (!message) throw new Error(`stand-in asked to sign an unknown ${hash} digest`);
    return sign(hash, message, { key: key.privateKey, dsaEncoding: encoding });
  }
}

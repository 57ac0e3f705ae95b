// The SSH wire encoding of a public key (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4): what OpenSSH hashes for
// its `SHA256:` fingerprints, and what Chains hashes for the DSSE keyid (chains-behaviour.md §5.5).
import { createHash, type KeyObject } from 'node:crypto';
import { ChainsmithError } from '../errors.js';

const CURVE_NAMES: Record<string, string> = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' };

/** SSH wire encoding of an ECDSA (P-256/384/521), Ed25519 or RSA public key; KeyUnsupported for anything else. */
export function sshWireEncoding(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.x) {
    return Buffer.concat([sshString('ssh-ed25519'), sshString(b64url(jwk.x))]);
  }
  if (jwk.kty === 'EC' && jwk.crv && CURVE_NAMES[jwk.crv] && jwk.x && jwk.y) {
    const curve = CURVE_NAMES[jwk.crv]!;
    // JWK coordinates are already left-padded to the field size, as the uncompressed SEC1 point needs.
    const point = Buffer.concat([Buffer.from([0x04]), b64url(jwk.x), b64url(jwk.y)]);
    return Buffer.concat([sshString(`ecdsa-sha2-${curve}`), sshString(curve), sshString(point)]);
  }
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) {
    return Buffer.concat([sshString('ssh-rsa'), sshMpint(b64url(jwk.e)), sshMpint(b64url(jwk.n))]);
  }
  throw new ChainsmithError(
    'KeyUnsupported',
    `no SSH encoding for ${publicKey.asymmetricKeyType ?? 'unknown'} key${jwk.crv ? ` on curve ${jwk.crv}` : ''}`,
  );
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** A non-negative big-endian integer as an SSH mpint: no leading zero bytes, one added if the top bit is set. */
function sshMpint(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  let bytes = magnitude.subarray(start);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

function b64url(s: string): Buffer {
  return Buffer.from(s, 'base64url');
}

/** Chains' DSSE keyid: `SHA256:` + unpadded std base64 of sha256(SSH wire encoding), i.e. the OpenSSH fingerprint. */
export function keyIdOf(publicKey: KeyObject): string {
  const digest = createHash('sha256').update(sshWireEncoding(publicKey)).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

// ECDSA signature encodings. Azure Key Vault (like JOSE) returns r||s; cosign and every verifier we target
// expect ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`, so KMS signers convert before returning.
import { ChainsmithError } from '../../errors.js';

/** Converts a raw r||s ECDSA signature (equal halves) to ASN.1 DER. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new ChainsmithError(
      'KmsError',
      `ECDSA signature of ${raw.length} bytes is not r||s (expected an even, non-zero length)`,
    );
  }
  const half = raw.length / 2;
  const r = derInteger(raw.subarray(0, half));
  const s = derInteger(raw.subarray(half));
  const body = Buffer.concat([r, s]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/** Converts an ASN.1 DER ECDSA signature back to r||s with each half `size` bytes (for tests and JOSE). */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Buffer {
  const buf = Buffer.from(der);
  let pos = 0;
  const expect = (tag: number): number => {
    if (buf[pos++] !== tag) throw new ChainsmithError('KmsError', 'not a DER ECDSA signature');
    let len = buf[pos++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | buf[pos++]!;
    }
    return len;
  };
  expect(0x30);
  const parts: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    const len = expect(0x02);
    let int = buf.subarray(pos, pos + len);
    pos += len;
    while (int.length > size && int[0] === 0) int = int.subarray(1);
    if (int.length > size) throw new ChainsmithError('KmsError', 'DER ECDSA integer longer than the curve size');
    parts.push(Buffer.concat([Buffer.alloc(size - int.length), int]));
  }
  return Buffer.concat(parts);
}

function derInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  // Minimal encoding: drop leading zero bytes, keep one if the value is zero.
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let v = Buffer.from(bytes.subarray(start));
  // A set high bit would read as negative: prefix a zero byte.
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x >>= 8) bytes.unshift(x & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { ecdsaDerToRaw, ecdsaRawToDer } from '../../../src/signing/kms/ecdsa-der.js';

describe('ecdsaRawToDer', () => {
  for (const [curve, size] of [
    ['P-256', 32],
    ['P-384', 48],
    ['P-521', 66],
  ] as const) {
    it(`turns ${curve} r||s signatures into DER that verifies (many signatures, so high-bit and short integers occur)`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      for (let i = 0; i < 40; i++) {
        const data = Buffer.from(`message ${i}`);
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        assert.equal(raw.length, size * 2);
        const der = ecdsaRawToDer(raw);
        assert.equal(der[0], 0x30);
        assert.ok(
          verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der),
          `signature ${i} verifies as DER`,
        );
        assert.deepEqual(ecdsaDerToRaw(der, size), raw);
      }
    });
  }

  it('adds a zero byte before an integer whose high bit is set and drops leading zeros', () => {
    const r = Buffer.alloc(32, 0);
    r[0] = 0x80;
    r[31] = 1;
    const s = Buffer.alloc(32, 0);
    s[30] = 0x01;
    s[31] = 0x02;
    const der = ecdsaRawToDer(Buffer.concat([r, s]));
    // SEQUENCE(len) INTEGER(33: 00 80 ..) INTEGER(2: 01 02)
    assert.deepEqual([...der.subarray(0, 5)], [0x30, 2 + 33 + 2 + 2, 0x02, 33, 0x00]);
    assert.deepEqual([...der.subarray(der.length - 4)], [0x02, 0x02, 0x01, 0x02]);
  });

  it('uses the long length form when the sequence exceeds 127 bytes (P-521)', () => {
    const raw = Buffer.alloc(132, 0xff);
    const der = ecdsaRawToDer(raw);
    assert.deepEqual([...der.subarray(0, 3)], [0x30, 0x81, 2 * (2 + 67)]);
  });

  it('rejects an odd or empty signature', () => {
    assert.throws(() => ecdsaRawToDer(Buffer.alloc(63)), /not r\|\|s/);
    assert.throws(() => ecdsaRawToDer(Buffer.alloc(0)), /not r\|\|s/);
  });
});

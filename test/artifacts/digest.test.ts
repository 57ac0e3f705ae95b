// parseDigest (spec §2.5) and image digests: fixed cases from Chains' signable_test.go plus seeded property tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DIGEST_ALGORITHMS,
  digestProblem,
  imageDigestProblem,
  isImageDigest,
  parseDigest,
} from '../../src/artifacts/digest.js';
import { gen } from './prng.js';

const HEX64 = '05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5';

test('parseDigest accepts the four algorithms with their exact lengths (Chains signable_test vectors)', () => {
  assert.deepEqual(parseDigest(`sha256:${HEX64}`), { algorithm: 'sha256', hex: HEX64 });
  const sha384 = '05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b893c56eeba9ec70f74c9bfd297d951664';
  assert.deepEqual(parseDigest(`sha384:${sha384}`), { algorithm: 'sha384', hex: sha384 });
  const sha512 =
    '05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b805f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b8';
  assert.deepEqual(parseDigest(`sha512:${sha512}`), { algorithm: 'sha512', hex: sha512 });
  assert.deepEqual(parseDigest('sha1:93c56eeba9ec70f74c9bfd297d9516642d366cb5'), {
    algorithm: 'sha1',
    hex: '93c56eeba9ec70f74c9bfd297d9516642d366cb5',
  });
  assert.equal(parseDigest('sha1:93c56eeba9ec70f74c9bfd297d9516642d366c5'), undefined, 'sha1 one char short');
  assert.equal(
    parseDigest(
      'sha512:05f95b26ed1066b7183c1e2da98610e91372fa9f510046d4ce5812addad86b805f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b8',
    ),
    undefined,
  );
  assert.equal(
    parseDigest(
      'sha384:0595b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b893c56eeba9ec70f74c9bfd297d951664',
    ),
    undefined,
  );
});

test('parseDigest trims and lowercases the algorithm, trims the hex, and rejects everything else', () => {
  assert.deepEqual(parseDigest(` SHA256 : ${HEX64}\n`), { algorithm: 'sha256', hex: HEX64 });
  assert.equal(parseDigest(`sha256:${HEX64.toUpperCase()}`), undefined, 'upper-case hex');
  assert.equal(parseDigest('sha256:'), undefined, 'empty hex');
  assert.equal(parseDigest(HEX64), undefined, 'no algorithm');
  assert.equal(parseDigest(`sha256:${HEX64}:x`), undefined, 'three parts');
  assert.equal(parseDigest(`md5:${HEX64.slice(0, 32)}`), undefined, 'unsupported algorithm');
  assert.equal(parseDigest('sha123:abc'), undefined);
  assert.equal(parseDigest(''), undefined);
  // Go's TrimSpace trims U+0085 but not U+FEFF (JavaScript's trim() does the opposite).
  assert.deepEqual(parseDigest(`sha256:${HEX64}\u0085`), { algorithm: 'sha256', hex: HEX64 });
  assert.equal(parseDigest(`sha256:${HEX64}\ufeff`), undefined);
});

test('digestProblem explains why, in words a user can act on', () => {
  assert.match(digestProblem('abc')!, /not in the form <algorithm>:<hex>/);
  assert.match(digestProblem(`md5:${HEX64}`)!, /unsupported digest algorithm "md5"/);
  assert.match(digestProblem('sha256:abc')!, /64 hex characters, got 3/);
  assert.match(digestProblem(`sha256:${HEX64.toUpperCase()}`)!, /lowercase hex/);
  assert.equal(digestProblem(`sha256:${HEX64}`), undefined);
});

test('image digests are stricter: sha256 only, no trimming', () => {
  assert.ok(isImageDigest(`sha256:${HEX64}`));
  assert.ok(!isImageDigest(`sha512:${HEX64}${HEX64}`));
  assert.ok(!isImageDigest(` sha256:${HEX64}`));
  assert.ok(!isImageDigest(`SHA256:${HEX64}`));
  assert.match(imageDigestProblem(`sha512:${HEX64}${HEX64}`)!, /sha256:<64 hex>/);
  assert.match(imageDigestProblem('sha256:abc')!, /64 hex characters/);
});

/** The invariant, stated independently of the implementation. */
function expectedValid(s: string): boolean {
  const parts = s.split(':');
  if (parts.length !== 2) return false;
  const ws = /^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g;
  const alg = parts[0]!.replace(ws, '').toLowerCase();
  const hex = parts[1]!.replace(ws, '');
  const len = ({ sha256: 64, sha384: 96, sha512: 128, sha1: 40 } as Record<string, number>)[alg];
  return len !== undefined && hex.length === len && [...hex].every((c) => '0123456789abcdef'.includes(c));
}

test('property: parseDigest is valid iff algorithm ∈ {sha256, sha384, sha512, sha1} and the hex has the right length and charset', () => {
  const seed = 20261123;
  const g = gen(seed);
  const algs = [
    'sha256',
    'sha384',
    'sha512',
    'sha1',
    'SHA256',
    'Sha1',
    'md5',
    'sha224',
    'sha',
    '',
    'sha256 ',
    ' sha512',
  ];
  const hexAlphabets = ['0123456789abcdef', '0123456789abcdef', '0123456789abcdefABCDEF', '0123456789abcdefg', 'xyz01'];
  let valid = 0;
  for (let i = 0; i < 5000; i++) {
    const alg = g.pick(algs);
    const base = DIGEST_ALGORITHMS[alg.trim().toLowerCase() as keyof typeof DIGEST_ALGORITHMS] ?? 64;
    const len = g.pick([base, base, base, base - 1, base + 1, 0, g.int(140)]);
    let hex = g.str(g.pick(hexAlphabets), len);
    if (g.int(10) === 0) hex = ` ${hex}\n`;
    let s = `${alg}:${hex}`;
    if (g.int(20) === 0) s = s.replace(':', '');
    if (g.int(20) === 0) s += ':extra';
    const got = parseDigest(s);
    const want = expectedValid(s);
    assert.equal(got !== undefined, want, `seed ${seed} case ${i}: ${JSON.stringify(s)}`);
    assert.equal(digestProblem(s) === undefined, want, `digestProblem disagrees on ${JSON.stringify(s)}`);
    if (got) {
      valid++;
      assert.ok(Object.hasOwn(DIGEST_ALGORITHMS, got.algorithm), `algorithm ${got.algorithm} is canonical`);
      assert.equal(got.hex.length, DIGEST_ALGORITHMS[got.algorithm as keyof typeof DIGEST_ALGORITHMS]);
      assert.match(got.hex, /^[0-9a-f]+$/);
      // Re-parsing the canonical form is stable.
      assert.deepEqual(parseDigest(`${got.algorithm}:${got.hex}`), got);
    }
  }
  assert.ok(valid > 500 && valid < 4500, `the generator exercises both outcomes (valid: ${valid})`);
});

test('property: isImageDigest ⇔ parseDigest gives sha256 and the string is already canonical', () => {
  const g = gen(7);
  for (let i = 0; i < 3000; i++) {
    const s = `${g.pick(['sha256', 'sha512', 'SHA256', 'sha1'])}:${g.str(g.pick(['0123456789abcdef', '0123456789ABCDEF']), g.pick([64, 63, 65, 128, 40]))}`;
    const p = parseDigest(s);
    assert.equal(isImageDigest(s), p !== undefined && p.algorithm === 'sha256' && `${p.algorithm}:${p.hex}` === s, s);
  }
});

test("differential: Chains' own ParseDigest (Go) agrees on every digest of the go-containerregistry vectors", async () => {
  const { readFile } = await import('node:fs/promises');
  const vectors = JSON.parse(await readFile(new URL('./ggcr-vectors/vectors.json', import.meta.url), 'utf8')) as Array<{
    input: string;
    digestOk: boolean;
    algorithm?: string;
    hex?: string;
  }>;
  const mismatches: string[] = [];
  for (const v of vectors) {
    const at = v.input.lastIndexOf('@');
    const dig = at >= 0 ? v.input.slice(at + 1) : v.input;
    const got = parseDigest(dig);
    const want = v.digestOk ? { algorithm: v.algorithm, hex: v.hex } : undefined;
    if (JSON.stringify(got) !== JSON.stringify(want))
      mismatches.push(`${JSON.stringify(dig)}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
});

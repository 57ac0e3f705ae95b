// Deterministic ECDSA (src/signing/deterministic-ecdsa.ts): RFC 6979's own test vectors, and the property the
// replicas rely on — the same payload and key give byte-identical signatures that any ECDSA verifier accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, sign as nodeSign, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deterministicEcdsa, type EcdsaHash } from '../../src/signing/deterministic-ecdsa.js';
import { encryptCosignKey } from '../../src/signing/cosign-key.js';
import { PrivateKeySigner } from '../../src/signing/key-signer.js';
import { loadFileSigner } from '../../src/signing/keys.js';

// RFC 6979 appendix A.2.5 (P-256) and A.2.6 (P-384): the keys (x, Ux, Uy) and the r, s of the signatures of
// "sample" and "test", copied from the RFC text.
const RFC_KEYS = {
  'P-256': {
    x: 'C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721',
    Ux: '60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6',
    Uy: '7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299',
  },
  'P-384': {
    x: '6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5',
    Ux: 'EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64DEF8F0EA9055866064A254515480BC13',
    Uy: '8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1288B231C3AE0D4FE7344FD2533264720',
  },
} as const;

const RFC_VECTORS: Array<{ curve: keyof typeof RFC_KEYS; hash: EcdsaHash; message: string; r: string; s: string }> = [
  {
    curve: 'P-256',
    hash: 'sha256',
    message: 'sample',
    r: 'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716',
    s: 'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8',
  },
  {
    curve: 'P-256',
    hash: 'sha256',
    message: 'test',
    r: 'F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367',
    s: '019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083',
  },
  {
    curve: 'P-384',
    hash: 'sha256',
    message: 'sample',
    r: '21B13D1E013C7FA1392D03C5F99AF8B30C570C6F98D4EA8E354B63A21D3DAA33BDE1E888E63355D92FA2B3C36D8FB2CD',
    s: 'F3AA443FB107745BF4BD77CB3891674632068A10CA67E3D45DB2266FA7D1FEEBEFDC63ECCD1AC42EC0CB8668A4FA0AB0',
  },
  {
    curve: 'P-384',
    hash: 'sha384',
    message: 'sample',
    r: '94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46',
    s: '99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8',
  },
  {
    curve: 'P-384',
    hash: 'sha256',
    message: 'test',
    r: '6D6DEFAC9AB64DABAFE36C6BF510352A4CC27001263638E5B16D9BB51D451559F918EEDAF2293BE5B475CC8F0188636B',
    s: '2D46F3BECBCC523D5F1A1256BF0C9B024D879BA9E838144C8BA6BAEB4B53B47D51AB373F9845C0514EEFB14024787265',
  },
  {
    curve: 'P-384',
    hash: 'sha384',
    message: 'test',
    r: '8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36AB775D509D7A5FEB0542A7F0812998DA8F1DD3CA3CF023DB',
    s: 'DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B827C2F13173923E06A739F040649A667BF3B828246BAA5A5',
  },
];

function rfcKey(curve: keyof typeof RFC_KEYS): KeyObject {
  const k = RFC_KEYS[curve];
  const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');
  return createPrivateKey({ key: { kty: 'EC', crv: curve, d: b64(k.x), x: b64(k.Ux), y: b64(k.Uy) }, format: 'jwk' });
}

/** ASN.1 DER of ECDSA-Sig-Value { r INTEGER, s INTEGER }, written independently of the code under test. */
function derSignature(rHex: string, sHex: string): Buffer {
  const integer = (hex: string): Buffer => {
    let bytes = Buffer.from(hex, 'hex');
    while (bytes.length > 1 && bytes[0] === 0 && bytes[1]! < 0x80) bytes = bytes.subarray(1);
    if (bytes[0]! >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([integer(rHex), integer(sHex)]);
  const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), length, body]);
}

const verifies = (hash: EcdsaHash, data: Buffer, key: KeyObject, sig: Buffer): boolean =>
  verify(hash, data, { key, dsaEncoding: 'der' }, sig);

for (const v of RFC_VECTORS) {
  test(`RFC 6979 ${v.curve} ${v.hash.toUpperCase()} "${v.message}": r and s as in the RFC, DER-encoded`, () => {
    const key = rfcKey(v.curve);
    const sig = deterministicEcdsa(key, v.hash)(Buffer.from(v.message));
    assert.equal(sig.toString('hex'), derSignature(v.r, v.s).toString('hex'));
    assert.ok(verifies(v.hash, Buffer.from(v.message), key, sig), 'Node verifies it');
  });
}

/** What sign-run asks for when the signature goes to a transparency log. */
const DET = { deterministic: true };

test('PrivateKeySigner keeps the hash per key source: x509.pem P-384 signs SHA-256, cosign.key P-384 SHA-384', async () => {
  const key = rfcKey('P-384');
  const expected = (hash: EcdsaHash): string => {
    const v = RFC_VECTORS.find((x) => x.curve === 'P-384' && x.hash === hash && x.message === 'sample')!;
    return derSignature(v.r, v.s).toString('hex');
  };
  const sample = Buffer.from('sample');
  assert.equal((await PrivateKeySigner.fromKey(key, 'x509.pem').sign(sample, DET)).toString('hex'), expected('sha256'));
  assert.equal(
    (await PrivateKeySigner.fromKey(key, 'cosign.key').sign(sample, DET)).toString('hex'),
    expected('sha384'),
  );
});

const PAYLOAD = Buffer.from('{"critical":{"identity":{"docker-reference":"registry.test/app"}},"optional":null}');
const OTHER = Buffer.from('{"critical":{"identity":{"docker-reference":"registry.test/other"}},"optional":null}');

for (const [curve, source, hash] of [
  ['P-256', 'x509.pem', 'sha256'],
  ['P-384', 'x509.pem', 'sha256'],
  ['P-521', 'x509.pem', 'sha256'],
  ['P-256', 'cosign.key', 'sha256'],
  ['P-384', 'cosign.key', 'sha384'],
  ['P-521', 'cosign.key', 'sha512'],
] as const) {
  test(`${source} ${curve}: the same payload twice gives identical bytes that Node verifies; another payload differs`, async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    // two signers over the same key: what two replicas (or one after a restart) build from the same Secret
    const a = PrivateKeySigner.fromKey(privateKey, source);
    const b = PrivateKeySigner.fromKey(createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })), source);
    const first = await a.sign(PAYLOAD, DET);
    assert.deepEqual(await a.sign(PAYLOAD, DET), first);
    assert.deepEqual(await b.sign(PAYLOAD, DET), first, 'another signer over the same key signs identically');
    assert.ok(verifies(hash, PAYLOAD, publicKey, first), `verifies with ${hash}`);
    const other = await a.sign(OTHER, DET);
    assert.notDeepEqual(other, first);
    assert.ok(verifies(hash, OTHER, publicKey, other));
    assert.ok(!verifies(hash, OTHER, publicKey, first), 'a signature does not verify another payload');
  });
}

test('contrast: Node’s own ECDSA (OpenSSL, random nonce) signs the same payload differently each time', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.notDeepEqual(nodeSign('sha256', PAYLOAD, privateKey), nodeSign('sha256', PAYLOAD, privateKey));
});

test('without deterministic (no transparency log), ECDSA file keys sign through OpenSSL: random nonces, valid signatures', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = PrivateKeySigner.fromKey(privateKey, 'x509.pem');
  const a = await signer.sign(PAYLOAD);
  const b = await signer.sign(PAYLOAD);
  assert.notDeepEqual(a, b, 'the cheap path is not deterministic');
  assert.ok(verifies('sha256', PAYLOAD, publicKey, a) && verifies('sha256', PAYLOAD, publicKey, b));
  assert.notDeepEqual(await signer.sign(PAYLOAD, DET), a);
  assert.deepEqual(await signer.sign(PAYLOAD, DET), await signer.sign(PAYLOAD, DET));
});

test('a cosign.key loaded twice from its files (two replicas) signs deterministically', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-rfc6979-'));
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir, 'cosign.key'), await encryptCosignKey(privateKey, 'pw'));
    await writeFile(join(dir, 'cosign.password'), 'pw');
    const replicaA = await loadFileSigner(dir);
    const replicaB = await loadFileSigner(dir);
    const sig = await replicaA.sign(PAYLOAD, DET);
    assert.deepEqual(await replicaA.sign(PAYLOAD, DET), sig);
    assert.deepEqual(await replicaB.sign(PAYLOAD, DET), sig);
    assert.ok(verifies('sha256', PAYLOAD, publicKey, sig));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('RSA (PKCS#1 v1.5) and Ed25519 file keys stay on Node and are deterministic too', async () => {
  for (const key of [
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    generateKeyPairSync('ed25519').privateKey,
  ]) {
    const signer = PrivateKeySigner.fromKey(key, 'x509.pem');
    assert.deepEqual(await signer.sign(PAYLOAD, DET), await signer.sign(PAYLOAD, DET), key.asymmetricKeyType);
  }
});

test('a key that is not P-256/P-384/P-521 is refused with KeyUnsupported', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  assert.throws(() => deterministicEcdsa(privateKey, 'sha256'), { reason: 'KeyUnsupported' });
  assert.throws(() => deterministicEcdsa(generateKeyPairSync('ed25519').privateKey, 'sha256'), {
    reason: 'KeyUnsupported',
  });
});

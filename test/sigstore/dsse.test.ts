import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { envelopeFromJSON, envelopeToJSON } from '@sigstore/bundle';
import { createEnvelope, pae, parseEnvelope, verifyEnvelope } from '../../src/sigstore/dsse.js';
import { keyIdOf } from '../../src/signing/ssh-key.js';
import { loadFileSigner } from '../../src/signing/keys.js';
import { COSIGN_FIXTURES, X509_FIXTURES, expectedKeyIds, fixtureDir, fixturePublicKey } from '../signing/fixtures.js';

test('PAE matches the DSSE v1 specification example', () => {
  assert.equal(
    pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
});

test('PAE lengths are byte counts, not character counts', () => {
  const payload = Buffer.from('{"name":"café ✓"}', 'utf8');
  assert.equal(payload.length, 20);
  assert.equal(
    pae('application/vnd.in-toto+json', payload).toString(),
    `DSSEv1 28 application/vnd.in-toto+json 20 {"name":"café ✓"}`,
  );
  assert.equal(pae('t', Buffer.alloc(0)).toString(), 'DSSEv1 1 t 0 ');
});

test('keyid of Chains’ test key x509.pem is the value in the spec (§5.5)', () => {
  const spki = Buffer.from(
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwPwrAuKVeDYJZABULWBXEW8e2cFQzJik6qo5ACg5wUEfwqze3DhjmzL6XSxJFYyfHS9g1FA305dtJE65v84JJQ==',
    'base64',
  );
  assert.equal(
    keyIdOf(createPublicKey({ key: spki, format: 'der', type: 'spki' })),
    'SHA256:DCJQ6D0mrGAUh84xDokyRUNSNkEOa6fyv29g0Y9hFi0',
  );
});

for (const name of [...X509_FIXTURES, ...COSIGN_FIXTURES]) {
  test(`keyid of ${name} equals its ssh-keygen fingerprint`, () => {
    const expected = expectedKeyIds()[name];
    assert.ok(expected, `expected-keyids.json has ${name}`);
    assert.equal(keyIdOf(fixturePublicKey(name)), expected);
  });
}

test('keyid of a key type with no SSH encoding is KeyUnsupported', () => {
  assert.throws(() => keyIdOf(generateKeyPairSync('ed448').publicKey), { reason: 'KeyUnsupported' });
});

test('the envelope has Chains’ exact bytes: member order, no whitespace, padded std base64', async () => {
  const signer = await loadFileSigner(fixtureDir('x509-ecdsa-p256'));
  // 2 bytes → base64 with padding; 0xfb 0xff → "+/" characters that base64url would change
  const payload = Buffer.from([0xfb, 0xff]);
  const bytes = await createEnvelope(signer, payload);
  const m =
    /^\{"payloadType":"application\/vnd\.in-toto\+json","payload":"\+\/8=","signatures":\[\{"keyid":"(SHA256:[A-Za-z0-9+/]{43})","sig":"([A-Za-z0-9+/]+=*)"\}\]\}$/.exec(
      bytes.toString(),
    );
  assert.ok(m, bytes.toString());
  assert.equal(m[1], expectedKeyIds()['x509-ecdsa-p256']);
  const sig = Buffer.from(m[2]!, 'base64');
  assert.equal(
    verify('sha256', pae('application/vnd.in-toto+json', payload), fixturePublicKey('x509-ecdsa-p256'), sig),
    true,
  );
});

test('createEnvelope takes another payloadType when asked', async () => {
  const signer = await loadFileSigner(fixtureDir('x509-ed25519'));
  const env = parseEnvelope(await createEnvelope(signer, Buffer.from('{}'), 'application/json'));
  assert.equal(env?.payloadType, 'application/json');
  assert.equal(
    verify(null, pae('application/json', Buffer.from('{}')), fixturePublicKey('x509-ed25519'), env!.signatures[0]!.sig),
    true,
  );
});

for (const name of [
  'x509-ecdsa-p256',
  'cosign-ecdsa-p384',
  'x509-ecdsa-p384',
  'cosign-ecdsa-p521',
  'cosign-ed25519',
  'cosign-rsa',
]) {
  test(`verifyEnvelope accepts a ${name} envelope and rejects tampering and other keys`, async () => {
    const signer = await loadFileSigner(fixtureDir(name));
    const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}');
    const envelope = await createEnvelope(signer, statement);
    const ok = verifyEnvelope(envelope, fixturePublicKey(name));
    assert.deepEqual(ok, {
      ok: true,
      payloadType: 'application/vnd.in-toto+json',
      payload: statement,
      keyid: keyIdOf(fixturePublicKey(name)),
    });

    const doc = JSON.parse(envelope.toString()) as { payload: string };
    doc.payload = Buffer.from('{"_type":"forged"}').toString('base64');
    const tampered = verifyEnvelope(JSON.stringify(doc), fixturePublicKey(name));
    assert.equal(tampered.ok, false);

    const other = verifyEnvelope(envelope, fixturePublicKey('cosign-ecdsa-p256'));
    assert.equal(other.ok, false);
  });
}

test('verifyEnvelope explains what is wrong with a non-envelope', () => {
  const pub = fixturePublicKey('x509-ecdsa-p256');
  assert.deepEqual(verifyEnvelope('not json', pub), { ok: false, reason: 'not a DSSE envelope' });
  assert.deepEqual(verifyEnvelope('{"payloadType":"t","payload":"","signatures":[]}', pub), {
    ok: false,
    reason: 'envelope has no signatures',
  });
});

test('verifyEnvelope reads cosign ≥ 3.1 envelopes (other member order, keyid omitted)', async () => {
  const signer = await loadFileSigner(fixtureDir('x509-ecdsa-p256'));
  const payload = Buffer.from('{"a":1}');
  const sig = (await signer.sign(pae('application/vnd.in-toto+json', payload))).toString('base64');
  const env = `{"payload":"${payload.toString('base64')}","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"${sig}"}]}`;
  assert.deepEqual(verifyEnvelope(env, fixturePublicKey('x509-ecdsa-p256')), {
    ok: true,
    payloadType: 'application/vnd.in-toto+json',
    payload,
    keyid: '',
  });
});

test('createEnvelope stays hand-written: @sigstore/bundle would write cosign ≥ 3.1 bytes, not Chains’', async () => {
  const signer = await loadFileSigner(fixtureDir('x509-ecdsa-p256'));
  const ours = (await createEnvelope(signer, Buffer.from('{}'))).toString();
  const env = parseEnvelope(ours)!;
  const library = JSON.stringify(envelopeToJSON(env));
  assert.ok(ours.startsWith('{"payloadType":'), ours);
  assert.ok(library.startsWith('{"payload":'), library);
  assert.deepEqual(JSON.parse(library), JSON.parse(ours), 'same members, other order');
  const noKeyid = JSON.stringify(envelopeToJSON({ ...env, signatures: [{ ...env.signatures[0]!, keyid: '' }] }));
  assert.doesNotMatch(noKeyid, /keyid/, 'an empty keyid is left out by the library, Chains writes "keyid":""');
});

test('parseEnvelope refuses JSON that is no envelope, which envelopeFromJSON would turn into an empty one', () => {
  for (const text of [
    '{}',
    'null',
    '[]',
    '{"payloadType":1,"payload":"e30=","signatures":[]}',
    '{"payloadType":"t","payload":["e30="],"signatures":[]}',
    '{"payloadType":"t","payload":"e30=","signatures":{}}',
    '{"payloadType":"t","payload":"e30=","signatures":[null]}',
    '{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"k"}]}',
  ]) {
    assert.equal(parseEnvelope(text), undefined, text);
  }
  assert.deepEqual(envelopeFromJSON({}), { payload: Buffer.alloc(0), payloadType: '', signatures: [] });
});

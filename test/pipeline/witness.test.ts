// `chainsmith.signing-config` (src/pipeline/witness.ts): the file is followed when it changes, and what cannot be
// honoured is refused before any service is asked. Uploads to the real Rekor v2 and TSA: e2e/controller-rekor-v2.e2e.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainsmithError } from '../../src/errors.js';
import { SigningConfigWitness } from '../../src/pipeline/witness.js';
import { SIGNING_CONFIG_MEDIA_TYPE } from '../../src/sigstore/signing-config.js';

const service = (url: string, majorApiVersion: number) => ({
  url,
  majorApiVersion,
  validFor: { start: '2020-01-01T00:00:00Z' },
  operator: 'test',
});
const config = (rekor: Array<ReturnType<typeof service>>, tsa: Array<ReturnType<typeof service>> = []) =>
  JSON.stringify({
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [],
    oidcUrls: [],
    rekorTlogUrls: rekor,
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: tsa,
    tsaConfig: { selector: 'ANY' },
  });

// No test here reaches a log: an upload would be a failure of the test.
const noUpload = async (): Promise<never> => assert.fail('no Rekor v1 upload expected');

test('a changed signing config is read again: Rekor v1 to v2 without a restart', async () => {
  const file = join(await mkdtemp(join(tmpdir(), 'chainsmith-witness-')), 'signing_config.json');
  const witness = new SigningConfigWitness(noUpload);
  await writeFile(file, config([service('http://rekor-v1.test', 1)]));
  await utimes(file, new Date(1_000_000), new Date(1_000_000));
  assert.deepEqual((await witness.services(file)).rekor, { url: 'http://rekor-v1.test', majorApiVersion: 1 });
  await writeFile(file, config([service('http://rekor-v2.test', 2)], [service('http://tsa.test/api/v1/timestamp', 1)]));
  await utimes(file, new Date(2_000_000), new Date(2_000_000));
  assert.deepEqual((await witness.services(file)).rekor, { url: 'http://rekor-v2.test', majorApiVersion: 2 });
});

test('Rekor v2 without a timestamp authority, no log, or an unreadable file: InvalidConfig, nothing uploaded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-witness-'));
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signed = { payload: Buffer.from('{}'), signature: Buffer.from([1]), cert: '', chain: '', publicKey };
  const invalid = (re: RegExp) => (e: unknown) =>
    e instanceof ChainsmithError && e.reason === 'InvalidConfig' && re.test(e.message);
  const witness = new SigningConfigWitness(noUpload);
  // closed ports: a request would fail as TransparencyFailed, not InvalidConfig
  const noTsa = join(dir, 'no-tsa.json');
  await writeFile(noTsa, config([service('http://127.0.0.1:1', 2)]));
  await assert.rejects(witness.witness(noTsa, 'simplesigning', signed, 'dsse'), invalid(/needs a timestamp authority/));
  const noLog = join(dir, 'no-log.json');
  await writeFile(noLog, config([]));
  await assert.rejects(witness.witness(noLog, 'simplesigning', signed, 'dsse'), invalid(/names no transparency log/));
  await assert.rejects(
    witness.witness(join(dir, 'missing.json'), 'simplesigning', signed, 'dsse'),
    invalid(/cannot read .*missing\.json/),
  );
});

test('the timestamp comes first: with the timestamp authority down nothing is logged, so a retry adds no entry', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-witness-'));
  const file = join(dir, 'signing_config.json');
  // a closed port for the TSA; the log must not be asked at all
  await writeFile(
    file,
    config([service('http://rekor-v1.test', 1)], [service('http://127.0.0.1:1/api/v1/timestamp', 1)]),
  );
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signed = { payload: Buffer.from('{}'), signature: Buffer.from([1]), cert: '', chain: '', publicKey };
  await assert.rejects(
    new SigningConfigWitness(noUpload).witness(file, 'simplesigning', signed, 'dsse'),
    (e: unknown) =>
      e instanceof ChainsmithError &&
      e.reason === 'TransparencyFailed' &&
      e.transient &&
      /timestamp authority http:\/\/127\.0\.0\.1:1/.test(e.message),
  );
});

// A loopback HTTP server records what the witness asks the timestamp authority to stamp (the answer is not a real
// timestamp: nothing here verifies it; the real TSA's are verified in e2e/controller-rekor-v2.e2e.ts).
test('an attestation stored in cosign tag layout is also timestamped over its whole envelope, as cosign reads it', async () => {
  const hashes: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hashes.push((JSON.parse(body) as { artifactHash: string }).artifactHash);
      res.writeHead(201, { 'content-type': 'application/timestamp-reply' }).end(`stamp ${hashes.length}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const file = join(await mkdtemp(join(tmpdir(), 'chainsmith-witness-')), 'signing_config.json');
    await writeFile(
      file,
      config([service('http://rekor-v1.test', 1)], [service(`http://127.0.0.1:${port}/api/v1/timestamp`, 1)]),
    );
    const entry = {
      uuid: 'u',
      logIndex: 1,
      logID: 'l',
      integratedTime: 1,
      body: '',
      kind: 'dsse',
      apiVersion: '0.0.1',
    };
    const witness = new SigningConfigWitness(async () => entry);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sig = Buffer.from('the signature');
    const envelope = Buffer.from(
      JSON.stringify({ payloadType: 't', payload: '', signatures: [{ sig: sig.toString('base64') }] }),
    );
    const signed = { payload: Buffer.from('{}'), signature: envelope, cert: '', chain: '', publicKey };
    const b64sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

    const bundleOnly = await witness.witness(file, 'in-toto', signed, 'dsse');
    assert.deepEqual(hashes, [b64sha(sig)], 'a bundle timestamps the envelope’s signature only');
    assert.equal(bundleOnly.envelopeTimestamp, undefined);

    hashes.length = 0;
    const tags = await witness.witness(file, 'in-toto', signed, 'dsse', undefined, true);
    assert.deepEqual(hashes, [b64sha(sig), b64sha(envelope)]);
    assert.equal(tags.rfc3161Timestamps?.[0]?.toString(), 'stamp 1');
    assert.equal(tags.envelopeTimestamp?.toString(), 'stamp 2');

    hashes.length = 0;
    const simple = { ...signed, payload: Buffer.from('{"critical":{}}'), signature: sig };
    await witness.witness(file, 'simplesigning', simple, 'dsse', undefined, true);
    assert.deepEqual(hashes, [b64sha(sig)], 'a .sig layer’s timestamp is over its signature: one request');
  } finally {
    server.close();
  }
});

// This test builds its own Rekor log key: entries and their SETs are signed here, as rekor-server v1 signs them.
// The transparency-log check of `verify --rekor-public-key` (src/verify/tlog.ts): a SET over the RFC 8785 JSON of
// {body, integratedTime, logID, logIndex} that verifies with the log key, the log ID of that key, and a body that
// records exactly the stored bytes — for `.sig`/`.att` layers (cosign's bundle annotation) and referrer bundles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, sign } from 'node:crypto';
import { json } from '@sigstore/core';
import { simpleSigningJson } from '../../src/formats/simplesigning.js';
import { dsseBundle, messageSignatureBundle } from '../../src/sigstore/bundle.js';
import { cosignRekorBundle } from '../../src/sigstore/cosign-layout.js';
import { createEnvelope } from '../../src/sigstore/dsse.js';
import type { TlogEntry } from '../../src/sigstore/rekor.js';
import { checkBundle } from '../../src/verify/bundles.js';
import { leafHash } from '../../src/verify/merkle.js';
import {
  checkTlogRecord,
  publicGoodRekor,
  recordFromCosignBundle,
  rekorFor,
  withTlogCheck,
  type RekorLogKey,
  type StoredBytes,
} from '../../src/verify/tlog.js';
import { ephemeralSigner } from '../signing/fixtures.js';
import { signCheckpoint, testLog, type TestLog } from './tlog-fixtures.js';

const IMAGE = { repository: '127.0.0.1:5000/demo/app', digest: `sha256:${'ab'.repeat(32)}` };
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

/** The entry Rekor would return for `body`, with its SET signed by `log` (claiming `logID`). */
function entry(log: TestLog, body: object, logID = log.trusted.logID): TlogEntry {
  const bodyB64 = b64(json.canonicalize(body));
  const integratedTime = 1_780_000_000;
  const logIndex = 42;
  const payload = json.canonicalize({ body: bodyB64, integratedTime, logID, logIndex });
  const set = sign('sha256', Buffer.from(payload), log.priv);
  const parsed = JSON.parse(Buffer.from(bodyB64, 'base64').toString()) as { kind: string; apiVersion: string };
  return {
    uuid: 'ab'.repeat(40),
    logIndex,
    logID,
    integratedTime,
    body: bodyB64,
    kind: parsed.kind,
    apiVersion: parsed.apiVersion,
    signedEntryTimestamp: set.toString('base64'),
    // the entry as the only leaf of a one-leaf tree (inclusion.test.ts tests real and larger trees)
    inclusionProof: {
      logIndex: 0,
      treeSize: 1,
      rootHash: leafHash(Buffer.from(bodyB64, 'base64')).toString('hex'),
      hashes: [],
      checkpoint: signCheckpoint(log, 1, leafHash(Buffer.from(bodyB64, 'base64'))),
    },
  };
}

const PEM = '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----\n';

function hashedRekordBody(payload: Buffer, signature: Buffer): object {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: sha256(payload) } },
      signature: { content: b64(signature), publicKey: { content: b64(PEM) } },
    },
  };
}

function dsseBody(envelope: Buffer): object {
  const env = JSON.parse(envelope.toString()) as { payload: string; signatures: Array<{ sig: string }> };
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')) },
      signatures: env.signatures.map((s) => ({ signature: s.sig, verifier: b64(PEM) })),
    },
  };
}

function intotoBody(envelope: Buffer): object {
  const env = JSON.parse(envelope.toString()) as { payload: string };
  return {
    apiVersion: '0.0.1',
    kind: 'intoto',
    spec: {
      content: {
        hash: { algorithm: 'sha256', value: sha256(envelope) },
        payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')) },
      },
      publicKey: b64(PEM),
    },
  };
}

async function signedPayload(): Promise<{ payload: Buffer; signature: Buffer }> {
  const payload = Buffer.from(simpleSigningJson(IMAGE.repository, IMAGE.digest));
  return { payload, signature: await ephemeralSigner().sign(payload) };
}

function statement(): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [{ name: IMAGE.repository, digest: { sha256: IMAGE.digest.slice(7) } }],
      predicate: { builder: { id: 'https://tekton.dev/chains/v2' } },
    }),
  );
}

const annotationCheck = (e: TlogEntry | undefined, log: RekorLogKey, stored: StoredBytes) =>
  checkTlogRecord(recordFromCosignBundle(cosignRekorBundle(e)), log, stored);

test('a .sig layer whose hashedrekord entry records its payload and signature passes', async () => {
  const log = testLog();
  const s = await signedPayload();
  const c = annotationCheck(entry(log, hashedRekordBody(s.payload, s.signature)), log.trusted, {
    kind: 'signature',
    ...s,
  });
  assert.equal(c.status, 'passed', c.detail);
  assert.match(c.detail, /log entry 42/);
});

test('an entry from another log (another Rekor key) fails on its log ID', async () => {
  const log = testLog();
  const other = testLog();
  const s = await signedPayload();
  const c = annotationCheck(entry(other, hashedRekordBody(s.payload, s.signature)), log.trusted, {
    kind: 'signature',
    ...s,
  });
  assert.equal(c.status, 'failed');
  assert.match(c.detail, /not the log of the given Rekor key/);
});

test('a SET signed by another key that claims the trusted log ID fails', async () => {
  const log = testLog();
  const other = testLog();
  const s = await signedPayload();
  const forged = entry(other, hashedRekordBody(s.payload, s.signature), log.trusted.logID);
  const c = annotationCheck(forged, log.trusted, { kind: 'signature', ...s });
  assert.equal(c.status, 'failed');
  assert.match(c.detail, /signed entry timestamp .* does not verify/);
});

test('a changed integratedTime or logIndex breaks the SET', async () => {
  const log = testLog();
  const s = await signedPayload();
  for (const change of [{ integratedTime: 1 }, { logIndex: 7 }]) {
    const e = { ...entry(log, hashedRekordBody(s.payload, s.signature)), ...change };
    const c = annotationCheck(e, log.trusted, { kind: 'signature', ...s });
    assert.equal(c.status, 'failed', JSON.stringify(change));
    assert.match(c.detail, /does not verify with the Rekor key/);
  }
});

test('an entry whose body records other bytes fails (another payload, another signature)', async () => {
  const log = testLog();
  const s = await signedPayload();
  const otherPayload = Buffer.from(simpleSigningJson(IMAGE.repository, `sha256:${'cd'.repeat(32)}`));
  const otherSig = await ephemeralSigner().sign(s.payload);
  for (const [body, why] of [
    [hashedRekordBody(otherPayload, s.signature), /another payload hash/],
    [hashedRekordBody(s.payload, otherSig), /another signature/],
  ] as const) {
    const c = annotationCheck(entry(log, body), log.trusted, { kind: 'signature', ...s });
    assert.equal(c.status, 'failed');
    assert.match(c.detail, /records other bytes than those stored/);
    assert.match(c.detail, why);
  }
});

test('a layer without a bundle annotation fails with "no transparency-log entry"', async () => {
  const log = testLog();
  const s = await signedPayload();
  const c = annotationCheck(undefined, log.trusted, { kind: 'signature', ...s });
  assert.equal(c.status, 'failed');
  assert.match(c.detail, /^no transparency-log entry/);
  for (const bad of ['not json', '{}', '{"SignedEntryTimestamp":"eA==","Payload":{"body":1}}']) {
    const r = checkTlogRecord(recordFromCosignBundle(bad), log.trusted, { kind: 'signature', ...s });
    assert.equal(r.status, 'failed', bad);
  }
});

test('an .att layer passes with a dsse or intoto entry of exactly its bytes, and fails once re-serialised', async () => {
  const log = testLog();
  const envelope = await createEnvelope(ephemeralSigner(), statement());
  const env = JSON.parse(envelope.toString()) as Record<string, unknown>;
  const reordered = Buffer.from(JSON.stringify({ payload: env.payload, signatures: env.signatures, ...env }));
  assert.notDeepEqual(reordered, envelope);
  for (const body of [dsseBody(envelope), intotoBody(envelope)]) {
    const e = entry(log, body);
    const ok = annotationCheck(e, log.trusted, { kind: 'envelope', envelope });
    assert.equal(ok.status, 'passed', `${e.kind}: ${ok.detail}`);
    const bad = annotationCheck(e, log.trusted, { kind: 'envelope', envelope: reordered });
    assert.equal(bad.status, 'failed', e.kind);
    assert.match(bad.detail, /another envelope hash/);
  }
});

test('withTlogCheck: an authentic item with a failed tlog check is not authentic', () => {
  const v = { source: 's', authentic: true, checks: [] };
  const failed = withTlogCheck(v, { name: 'tlog', status: 'failed', detail: 'x' });
  assert.equal(failed.authentic, false);
  assert.equal(failed.checks.length, 1);
  assert.equal(withTlogCheck(v, { name: 'tlog', status: 'passed', detail: 'y' }).authentic, true);
});

test('referrer bundles: the tlog entry must verify and record the bundle’s signature', async () => {
  const log = testLog();
  const signer = ephemeralSigner();
  const key = signer.publicKey()!;
  const envelope = await createEnvelope(signer, statement());
  const dsseE = entry(log, dsseBody(envelope));
  const expect = {};

  const att = checkBundle('r1', dsseBundle(envelope, '', dsseE), key, IMAGE, expect, log.trusted);
  assert.equal(att.kind, 'attestation');
  assert.equal(att.verdict.authentic, true, JSON.stringify(att.verdict.checks));

  const none = checkBundle('r2', dsseBundle(envelope, ''), key, IMAGE, expect, log.trusted);
  assert.equal(none.verdict.authentic, false);
  assert.match(none.verdict.checks.at(-1)!.detail, /^no transparency-log entry/);
  // without a Rekor key, the same bundle is accepted as before
  assert.equal(checkBundle('r3', dsseBundle(envelope, ''), key, IMAGE, expect).verdict.authentic, true);

  const other = await createEnvelope(signer, Buffer.from(statement().toString().replace('chains/v2', 'other')));
  const wrong = checkBundle(
    'r4',
    dsseBundle(envelope, '', entry(log, dsseBody(other))),
    key,
    IMAGE,
    expect,
    log.trusted,
  );
  assert.equal(wrong.verdict.authentic, false);
  assert.match(wrong.verdict.checks.find((c) => c.name === 'tlog')!.detail, /another payload hash/);

  const payload = Buffer.from(simpleSigningJson(IMAGE.repository, IMAGE.digest));
  const sig = await signer.sign(payload);
  const sigE = entry(log, hashedRekordBody(payload, sig));
  const ms = checkBundle(
    'r5',
    messageSignatureBundle(payload, sha256(payload), sig, '', sigE),
    key,
    IMAGE,
    {},
    log.trusted,
  );
  assert.equal(ms.kind, 'signature');
  assert.equal(ms.verdict.authentic, true, JSON.stringify(ms.verdict.checks));
  const otherLog = testLog();
  const foreign = checkBundle(
    'r6',
    messageSignatureBundle(payload, sha256(payload), sig, '', entry(otherLog, hashedRekordBody(payload, sig))),
    key,
    IMAGE,
    {},
    log.trusted,
  );
  assert.equal(foreign.verdict.authentic, false);
});

test('without --rekor-public-key, entries of the public-good log are checked with its embedded key; others are not', () => {
  const good = publicGoodRekor();
  assert.equal(good.logID, 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d');
  const record = (logID: string) => ({
    body: Buffer.from('{}').toString('base64'),
    integratedTime: 1,
    logIndex: 2,
    logID,
    signedEntryTimestamp: Buffer.from('not a signature'),
  });
  const fromPublicGood = record(good.logID);
  assert.equal(rekorFor(fromPublicGood, undefined), good);
  assert.equal(rekorFor(record('ab'.repeat(32)), undefined), undefined, 'an unknown log: nothing to check with');
  assert.equal(rekorFor('no entry', undefined), undefined);
  const given = publicGoodRekor();
  assert.equal(rekorFor(record('ab'.repeat(32)), given), given, 'a given key is always used');
  // a forged public-good entry fails, though the user gave no key
  const check = checkTlogRecord(fromPublicGood, good, { kind: 'envelope', envelope: Buffer.from('{}') });
  assert.equal(check.status, 'failed');
  assert.match(check.detail, /does not verify with the Rekor key/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dsseBundle, messageSignatureBundle, parseBundle } from '../../src/sigstore/bundle.js';
import { attestationLayer, cosignRekorBundle, signatureLayer } from '../../src/sigstore/cosign-layout.js';
import type { TlogEntry } from '../../src/sigstore/rekor.js';

const ENTRY: TlogEntry = {
  uuid: 'ab'.repeat(40),
  logIndex: 42,
  logID: 'bcda82369972ae5b65bd389483afbb81c3e1fdd4b33ab1e54a602d3fd2eaa0e7',
  integratedTime: 1796319108,
  body: Buffer.from('{"apiVersion":"0.0.1","kind":"dsse","spec":{}}').toString('base64'),
  kind: 'dsse',
  apiVersion: '0.0.1',
  signedEntryTimestamp: 'TUVZQ0lRRA==',
  inclusionProof: {
    logIndex: 42,
    rootHash: '4d'.repeat(32),
    treeSize: 43,
    hashes: ['01'.repeat(32)],
    checkpoint: 'cp\n',
  },
};

test('the cosign bundle annotation is Go’s RekorBundle: SET, then Payload{body, integratedTime, logIndex, logID}', () => {
  assert.equal(
    cosignRekorBundle(ENTRY),
    `{"SignedEntryTimestamp":"TUVZQ0lRRA==","Payload":{"body":"${ENTRY.body}","integratedTime":1796319108,` +
      `"logIndex":42,"logID":"${ENTRY.logID}"}}`,
  );
  assert.equal(cosignRekorBundle({ ...ENTRY, signedEntryTimestamp: undefined } as TlogEntry), undefined);
  assert.equal(cosignRekorBundle(undefined), undefined);
});

test('.sig and .att layers carry dev.sigstore.cosign/bundle when uploaded, and nothing new otherwise', () => {
  const sig = signatureLayer(Buffer.from('{}'), Buffer.from('s'), '', '', ENTRY).descriptor.annotations!;
  assert.equal(sig['dev.sigstore.cosign/bundle'], cosignRekorBundle(ENTRY));
  const att = attestationLayer(Buffer.from('{}'), undefined, '', '', ENTRY).descriptor.annotations!;
  assert.equal(att['dev.sigstore.cosign/bundle'], cosignRekorBundle(ENTRY));
  assert.equal(
    'dev.sigstore.cosign/bundle' in signatureLayer(Buffer.from('{}'), Buffer.from('s')).descriptor.annotations!,
    false,
  );
});

test('sigstore bundles carry the full tlog entry (kindVersion, SET, inclusion proof, body) and still validate', () => {
  const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}');
  const envelope = Buffer.from(
    JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: statement.toString('base64'),
      signatures: [{ keyid: 'k', sig: 'c2ln' }],
    }),
  );
  const b = JSON.parse(dsseBundle(envelope, '', ENTRY).toString()) as {
    verificationMaterial: { tlogEntries: unknown[] };
  };
  assert.deepEqual(b.verificationMaterial.tlogEntries, [
    {
      logIndex: '42',
      logId: { keyId: Buffer.from(ENTRY.logID, 'hex').toString('base64') },
      kindVersion: { kind: 'dsse', version: '0.0.1' },
      integratedTime: '1796319108',
      inclusionPromise: { signedEntryTimestamp: 'TUVZQ0lRRA==' },
      inclusionProof: {
        logIndex: '42',
        rootHash: Buffer.from('4d'.repeat(32), 'hex').toString('base64'),
        treeSize: '43',
        hashes: [Buffer.from('01'.repeat(32), 'hex').toString('base64')],
        checkpoint: { envelope: 'cp\n' },
      },
      canonicalizedBody: ENTRY.body,
    },
  ]);
  assert.notEqual(typeof parseBundle(dsseBundle(envelope, '', ENTRY)), 'string');
  const hr = { ...ENTRY, kind: 'hashedrekord' };
  const ms = messageSignatureBundle(Buffer.from('x'), 'ab'.repeat(32), Buffer.from([1]), '', hr);
  assert.notEqual(typeof parseBundle(ms), 'string');
  assert.match(ms.toString(), /"kindVersion":\{"kind":"hashedrekord","version":"0.0.1"\}/);
});

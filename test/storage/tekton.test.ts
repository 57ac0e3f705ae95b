import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import { TektonStorer } from '../../src/storage/tekton.js';
import type { TaskRun } from '../../src/tekton/types.js';

const run: TaskRun = {
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name: 'b', namespace: 'n', uid: 'u' },
  spec: {},
};

test('run attestation: the four Chains annotations, base64 std padded, cert and chain "" when the key has none', async () => {
  const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}');
  const envelope = Buffer.from('{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}');
  const res = await new TektonStorer().store({
    run,
    payload: { bytes: statement, kind: 'in-toto' },
    signed: { payload: statement, signature: envelope, cert: '', chain: '' },
    shortKey: 'taskrun-u',
    fullKey: 'tekton.dev-v1-TaskRun-u',
    config: DEFAULT_CONFIG,
  });
  assert.deepEqual(res.annotations, {
    'chains.tekton.dev/payload-taskrun-u': statement.toString('base64'),
    'chains.tekton.dev/signature-taskrun-u': envelope.toString('base64'),
    'chains.tekton.dev/cert-taskrun-u': '',
    'chains.tekton.dev/chain-taskrun-u': '',
  });
  assert.equal(
    Buffer.from(res.annotations!['chains.tekton.dev/payload-taskrun-u']!, 'base64').toString(),
    statement.toString(),
  );
});

test('image signature: raw signature bytes, short key, PEM cert and chain base64-encoded when present', async () => {
  const payload = Buffer.from('{"critical":{}}');
  const der = Buffer.from([0x30, 0x45, 0x02, 0x20, 0xff]);
  const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const res = await new TektonStorer().store({
    run,
    payload: { bytes: payload, kind: 'simplesigning' },
    signed: { payload, signature: der, cert, chain: cert + cert },
    shortKey: '4d6dd704ef58',
    fullKey: '127.0.0.1:5000/app@sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac',
    config: DEFAULT_CONFIG,
  });
  assert.equal(res.annotations!['chains.tekton.dev/signature-4d6dd704ef58'], der.toString('base64'));
  assert.equal(Buffer.from(res.annotations!['chains.tekton.dev/cert-4d6dd704ef58']!, 'base64').toString(), cert);
  assert.equal(
    Buffer.from(res.annotations!['chains.tekton.dev/chain-4d6dd704ef58']!, 'base64').toString(),
    cert + cert,
  );
  assert.match(res.annotations!['chains.tekton.dev/payload-4d6dd704ef58']!, /^[A-Za-z0-9+/]+=*$/);
});

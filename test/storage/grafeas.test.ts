// The `grafeas` backend through Google's real client (grpc transport) against a loopback stand-in of grafeas.v1:
// no Grafeas v1 server can run here (see grafeas-standin.ts), so the stand-in keeps notes and occurrences in memory.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { OAuth2Client } from 'google-auth-library';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import { ChainsmithError } from '../../src/errors.js';
import { createEnvelope } from '../../src/sigstore/dsse.js';
import {
  createGrafeasStorer,
  openGrafeasClient,
  type GrafeasConnection,
  type GrafeasStorer,
} from '../../src/storage/grafeas.js';
import { readGrafeasOccurrences, verifyGrafeasOccurrence } from '../../src/storage/grafeas-read.js';
import type { StoreRequest } from '../../src/storage/storer.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';
import { ephemeralSigner } from '../signing/fixtures.js';
import { startGrafeasStandin, type GrafeasStandin, type StoredObject } from './grafeas-standin.js';

const KMSREF = 'gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k';
const IMG_A = 'registry.example/team/app';
const IMG_B = 'registry.example/team/tool';
const HEX_A = 'a'.repeat(64);
const HEX_B = 'b'.repeat(64);

const taskRun = (namespace: string, uid = 'uid-1'): TaskRun => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name: 'build', namespace, uid },
  spec: {},
});

const statement = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [
      { name: IMG_A, digest: { sha256: HEX_A } },
      { name: IMG_B, digest: { sha256: HEX_B } },
    ],
    predicate: {
      builder: { id: 'https://tekton.dev/chains/v2' },
      buildType: 'tekton.dev/v1/TaskRun',
      invocation: {
        configSource: {},
        parameters: { IMAGE: IMG_A, FLAGS: ['--a', '--b'], N: 3, ON: true, NONE: null },
        environment: { labels: { 'tekton.dev/task': 'build' } },
      },
      buildConfig: { steps: [{ entryPoint: 'make', arguments: null }] },
      metadata: {
        buildStartedOn: '2026-12-04T01:02:03.123456789Z',
        buildFinishedOn: '2026-12-04T01:05:00Z',
        completeness: { parameters: false, environment: false, materials: false },
        reproducible: false,
      },
      materials: [{ uri: 'git+https://example/repo.git', digest: { sha1: 'c0ffee' } }],
    },
  }),
);

function config(grafeas: Partial<ChainsConfig['storage']['grafeas']> = { projectId: 'proj' }): ChainsConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  c.storage.grafeas = { ...c.storage.grafeas, ...grafeas };
  c.signers.kms.kmsref = KMSREF;
  return c;
}

const signer = ephemeralSigner();
let envelope: Buffer;
let standin: GrafeasStandin;
let conn: GrafeasConnection;
const storers: GrafeasStorer[] = [];

function storer(): GrafeasStorer {
  const s = createGrafeasStorer(conn);
  storers.push(s);
  return s;
}

function attestationRequest(run: TaskRun | PipelineRun, cfg = config()): StoreRequest {
  const uid = run.metadata.uid!;
  const lower = run.kind.toLowerCase();
  return {
    run,
    payload: { bytes: statement, kind: 'in-toto', predicateType: 'https://slsa.dev/provenance/v0.2' },
    signed: { payload: statement, signature: envelope, cert: '', chain: '' },
    shortKey: `${lower}-${uid}`,
    fullKey: `tekton.dev-v1-${run.kind}-${uid}`,
    config: cfg,
  };
}

const occurrencesOf = (note: string): StoredObject[] =>
  [...standin.occurrences.values()].filter((o) => o.noteName === note);
const buf = (v: unknown): Buffer => Buffer.from(v as Uint8Array);

before(async () => {
  standin = await startGrafeasStandin();
  // An auth client holding a token keeps google-auth-library from probing for a GCE metadata server.
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'ya29.test', expiry_date: Date.now() + 3_600_000 });
  conn = {
    apiEndpoint: standin.host,
    port: standin.port,
    sslCreds: grpc.credentials.createInsecure(),
    authClient,
  };
  envelope = await createEnvelope(signer, statement);
});
after(async () => {
  for (const s of storers) await s.close();
  await standin.close();
});
beforeEach(() => {
  standin.notes.clear();
  standin.occurrences.clear();
  standin.calls.length = 0;
});

describe('grafeas storage', () => {
  it('a TaskRun attestation: BUILD note, one occurrence per subject with the statement proto and the envelope', async () => {
    const res = await storer().store(attestationRequest(taskRun('team-a')));
    assert.deepEqual(res, {});

    const noteName = 'projects/proj/notes/tekton-team-a-taskrun-intoto';
    const note = standin.notes.get(noteName);
    assert.ok(note, `note ${noteName} created`);
    assert.equal(note.kind, 'BUILD');
    assert.equal(note.shortDescription, 'Build Provenance Note for TaskRun');
    assert.deepEqual(note.build, { builderVersion: 'tekton.dev/v1/TaskRun' });

    const occs = occurrencesOf(noteName);
    assert.deepEqual(occs.map((o) => o.resourceUri).sort(), [`${IMG_A}@sha256:${HEX_A}`, `${IMG_B}@sha256:${HEX_B}`]);
    for (const o of occs) {
      assert.equal(o.kind, 'BUILD');
      assert.match(o.name, /^projects\/proj\/occurrences\//);
      const env = o.envelope as {
        payload: Buffer;
        payloadType: string;
        signatures: Array<{ sig: Buffer; keyid: string }>;
      };
      assert.equal(env.payloadType, 'application/vnd.in-toto+json');
      assert.ok(buf(env.payload).equals(statement), 'envelope payload = statement bytes');
      assert.equal(env.signatures.length, 1);
      assert.ok(buf(env.signatures[0]!.sig).equals(envelope), 'sig = the DSSE envelope JSON, as Chains stores it');
      assert.equal(env.signatures[0]!.keyid, KMSREF);

      const st = (o.build as { intotoStatement: Record<string, unknown> }).intotoStatement;
      assert.equal(st.type, 'https://in-toto.io/Statement/v0.1');
      assert.equal(st.predicateType, 'https://slsa.dev/provenance/v0.2');
      assert.deepEqual(st.subject, [
        { name: IMG_A, digest: { sha256: HEX_A } },
        { name: IMG_B, digest: { sha256: HEX_B } },
      ]);
      const p = st.slsaProvenanceZeroTwo as Record<string, unknown> & {
        invocation: { parameters: { fields: Record<string, unknown> } };
        metadata: { buildStartedOn: { seconds: string; nanos: number } };
      };
      assert.deepEqual(p.builder, { id: 'https://tekton.dev/chains/v2' });
      assert.equal(p.buildType, 'tekton.dev/v1/TaskRun');
      assert.deepEqual(p.invocation.parameters.fields.IMAGE, { stringValue: IMG_A });
      assert.deepEqual(p.invocation.parameters.fields.FLAGS, {
        listValue: { values: [{ stringValue: '--a' }, { stringValue: '--b' }] },
      });
      assert.deepEqual(p.invocation.parameters.fields.N, { numberValue: 3 });
      assert.deepEqual(p.invocation.parameters.fields.NONE, { nullValue: 'NULL_VALUE' });
      assert.deepEqual(p.metadata.buildStartedOn, {
        seconds: String(Date.parse('2026-12-04T01:02:03Z') / 1000),
        nanos: 123456789,
      });
      assert.deepEqual(p.materials, [{ uri: 'git+https://example/repo.git', digest: { sha1: 'c0ffee' } }]);
    }
  });

  it('a PipelineRun attestation goes to its own BUILD note `<noteid>-pipelinerun-intoto`', async () => {
    const run: PipelineRun = {
      apiVersion: 'tekton.dev/v1',
      kind: 'PipelineRun',
      metadata: { name: 'p', namespace: 'team-a', uid: 'pr-1' },
      spec: {},
    };
    await storer().store(attestationRequest(run, config({ projectId: 'proj', noteId: 'mynote' })));
    const note = standin.notes.get('projects/proj/notes/mynote-pipelinerun-intoto');
    assert.deepEqual(note?.build, { builderVersion: 'tekton.dev/v1/PipelineRun' });
    assert.equal(occurrencesOf('projects/proj/notes/mynote-pipelinerun-intoto').length, 2);
  });

  it('an image signature: ATTESTATION note with the hint, one occurrence for the image with payload and signature', async () => {
    const payload = Buffer.from(
      `{"critical":{"identity":{"docker-reference":"${IMG_A}"},"image":{"docker-manifest-digest":"sha256:${HEX_A}"},` +
        '"type":"cosign container image signature"},"optional":null}',
    );
    const der = await signer.sign(payload);
    const fullKey = `${IMG_A}@sha256:${HEX_A}`;
    await storer().store({
      run: taskRun('team-a'),
      payload: { bytes: payload, kind: 'simplesigning' },
      signed: { payload, signature: der, cert: '', chain: '' },
      shortKey: HEX_A.slice(0, 12),
      fullKey,
      config: config({ projectId: 'proj', noteHint: 'signed by chainsmith' }),
    });
    const noteName = 'projects/proj/notes/tekton-team-a-simplesigning';
    const note = standin.notes.get(noteName);
    assert.equal(note?.kind, 'ATTESTATION');
    assert.equal(note?.shortDescription, 'OCI Artifact Attestation Note');
    assert.deepEqual(note?.attestation, { hint: { humanReadableName: 'signed by chainsmith' } });

    const occs = occurrencesOf(noteName);
    assert.equal(occs.length, 1);
    const o = occs[0]!;
    assert.equal(o.resourceUri, fullKey);
    assert.equal(o.kind, 'ATTESTATION');
    const att = o.attestation as {
      serializedPayload: Buffer;
      signatures: Array<{ signature: Buffer; publicKeyId: string }>;
    };
    assert.ok(buf(att.serializedPayload).equals(payload));
    assert.ok(buf(att.signatures[0]!.signature).equals(der));
    assert.equal(att.signatures[0]!.publicKeyId, KMSREF);
    const env = o.envelope as {
      payload: Buffer;
      payloadType: string;
      signatures: Array<{ sig: Buffer; keyid: string }>;
    };
    assert.equal(env.payloadType, 'application/vnd.dev.cosign.simplesigning.v1+json');
    assert.ok(buf(env.payload).equals(payload));
    assert.ok(buf(env.signatures[0]!.sig).equals(der));
    assert.equal(env.signatures[0]!.keyid, KMSREF);

    // read back as `verify-run` would, and check with the signer's key (a raw signature over the payload)
    const [back] = await readGrafeasOccurrences(
      { config: config(), namespace: 'team-a', object: 'image', resourceUris: [fullKey] },
      conn,
    );
    assert.ok(back);
    assert.deepEqual(verifyGrafeasOccurrence(back, signer.publicKey()), {
      ok: true,
      payloadType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      payload,
      keyid: KMSREF,
    });
  });

  it('a retried store (note and some occurrences already there) creates no second identical occurrence', async () => {
    const s = storer();
    const req = attestationRequest(taskRun('team-a'));
    // first attempt: as if the note and the first occurrence were written before the server went away
    await s.store(req);
    const [first] = [...standin.occurrences.keys()];
    standin.occurrences.delete([...standin.occurrences.keys()][1]!);
    assert.equal(standin.occurrences.size, 1);

    await s.store(req); // retry: ALREADY_EXISTS for the note, one occurrence kept, the missing one created
    await s.store(req); // and again: nothing new
    const occs = occurrencesOf('projects/proj/notes/tekton-team-a-taskrun-intoto');
    assert.equal(occs.length, 2);
    assert.deepEqual(occs.map((o) => o.resourceUri).sort(), [`${IMG_A}@sha256:${HEX_A}`, `${IMG_B}@sha256:${HEX_B}`]);
    assert.ok(standin.occurrences.has(first!), 'the occurrence of the first attempt is kept');
    assert.equal(standin.calls.filter((c) => c.method === 'CreateNote').length, 3);

    // a new signature of the same statement (a new run of the signer) is a new occurrence, not a duplicate
    const again = { ...req, signed: { ...req.signed, signature: await createEnvelope(signer, statement) } };
    await s.store(again);
    assert.equal(occurrencesOf('projects/proj/notes/tekton-team-a-taskrun-intoto').length, 4);
  });

  it('each namespace gets its own default note id (Chains keeps the first namespace for all)', async () => {
    const s = storer();
    await s.store(attestationRequest(taskRun('team-a', 'u1')));
    await s.store(attestationRequest(taskRun('team-b', 'u2')));
    assert.deepEqual([...standin.notes.keys()].sort(), [
      'projects/proj/notes/tekton-team-a-taskrun-intoto',
      'projects/proj/notes/tekton-team-b-taskrun-intoto',
    ]);
    assert.equal(occurrencesOf('projects/proj/notes/tekton-team-b-taskrun-intoto').length, 2);
  });

  it('the attestation read back verifies with the signer public key over the DSSE PAE', async () => {
    await storer().store(attestationRequest(taskRun('team-a')));
    const uris = [`${IMG_A}@sha256:${HEX_A}`, `${IMG_B}@sha256:${HEX_B}`];
    const back = await readGrafeasOccurrences(
      { config: config(), namespace: 'team-a', object: 'taskrun', resourceUris: uris },
      conn,
    );
    assert.deepEqual(back.map((o) => o.resourceUri).sort(), uris);
    for (const o of back) {
      const v = verifyGrafeasOccurrence(o, signer.publicKey());
      assert.equal(v.ok, true, JSON.stringify(v));
      assert.ok(v.ok && v.payload.equals(statement));
      assert.equal(o.intotoStatement?.subject?.length, 2);
    }
    const other = ephemeralSigner();
    assert.equal(verifyGrafeasOccurrence(back[0]!, other.publicKey()).ok, false);
    // a tampered payload in the occurrence does not pass
    const tampered = { ...back[0]!, payload: Buffer.from('{}') };
    assert.equal(verifyGrafeasOccurrence(tampered, signer.publicKey()).ok, false);
  });

  it('UNAVAILABLE → transient StorageFailed with the status and message; the next attempt stores', async () => {
    const s = storer();
    standin.failNext('CreateOccurrence', grpc.status.UNAVAILABLE, 1, 'backend is down');
    await assert.rejects(s.store(attestationRequest(taskRun('team-a'))), (err: unknown) => {
      assert.ok(err instanceof ChainsmithError);
      assert.equal(err.reason, 'StorageFailed');
      assert.equal(err.transient, true);
      assert.match(err.message, /UNAVAILABLE: backend is down/);
      return true;
    });
    await s.store(attestationRequest(taskRun('team-a')));
    assert.equal(occurrencesOf('projects/proj/notes/tekton-team-a-taskrun-intoto').length, 2);
  });

  it('a refused note (PERMISSION_DENIED) is a permanent StorageFailed; an unreachable server a transient one', async () => {
    standin.failNext('CreateNote', grpc.status.PERMISSION_DENIED, 1, 'caller lacks containeranalysis.notes.create');
    await assert.rejects(storer().store(attestationRequest(taskRun('team-a'))), (err: unknown) => {
      assert.ok(err instanceof ChainsmithError);
      assert.equal(err.reason, 'StorageFailed');
      assert.equal(err.transient, false);
      assert.match(err.message, /creating note .*PERMISSION_DENIED: caller lacks/);
      return true;
    });
    const down = createGrafeasStorer({ ...conn, port: 1, timeoutMs: 2000 });
    storers.push(down);
    await assert.rejects(down.store(attestationRequest(taskRun('team-a'))), (err: unknown) => {
      assert.ok(err instanceof ChainsmithError);
      assert.equal(err.reason, 'StorageFailed');
      assert.equal(err.transient, true, err.message);
      return true;
    });
  });

  it('without connection options the client talks to Container Analysis, as Chains', async () => {
    const client = await openGrafeasClient();
    try {
      assert.equal(client.apiEndpoint, 'containeranalysis.googleapis.com');
    } finally {
      await client.close();
    }
  });

  it('no storage.grafeas.projectid → InvalidConfig, and nothing is sent', async () => {
    await assert.rejects(storer().store(attestationRequest(taskRun('team-a'), config({ projectId: undefined }))), {
      name: 'ChainsmithError',
      reason: 'InvalidConfig',
      message: /storage\.grafeas\.projectid/,
    });
    assert.equal(standin.calls.length, 0);
  });
});

// `verify-run`'s checks over annotations written by the real TektonStorer from real signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadFileSigner } from '../../src/signing/keys.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import { simpleSigningFormat } from '../../src/formats/simplesigning.js';
import { payloadFormat } from '../../src/formats/index.js';
import { TektonStorer } from '../../src/storage/tekton.js';
import type { Payload } from '../../src/formats/types.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { parsePublicKeyPem } from '../../src/verify/key.js';
import { verifyRunAnnotations } from '../../src/verify/run-annotations.js';

const KEYS = join(import.meta.dirname, '..', 'fixtures', 'keys');
const KEY_DIR = join(KEYS, 'cosign-ecdsa-p256');
const pub = (dir: string) => parsePublicKeyPem(readFileSync(join(KEYS, dir, 'cosign.pub'), 'utf8'));
const UID = '7f6c1b9e-0000-4000-8000-000000000001';
const DIGEST = `sha256:${'05f95b26ed10'}${'a'.repeat(52)}`;
const REPO = '127.0.0.1:5000/demo/app';

async function store(payload: Payload, shortKey: string): Promise<Record<string, string>> {
  const signed = await signPayload(await loadFileSigner(KEY_DIR), payload);
  const res = await new TektonStorer().store({
    run: {} as never,
    payload,
    signed,
    shortKey,
    fullKey: shortKey,
    config: {} as never,
  });
  return res.annotations ?? {};
}

async function signedRun(): Promise<TaskRun> {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    predicateType: 'https://slsa.dev/provenance/v1',
    subject: [{ name: REPO, digest: { sha256: DIGEST.slice(7) } }],
    predicate: { runDetails: { builder: { id: 'b' }, metadata: { invocationId: UID } } },
  };
  const provenance: Payload = {
    bytes: Buffer.from(JSON.stringify(statement)),
    kind: 'in-toto',
    predicateType: statement.predicateType,
  };
  const image = simpleSigningFormat.createPayload(
    { kind: 'Image', image: { repository: REPO, digest: DIGEST } } as never,
    {} as never,
  ) as Payload;
  const annotations = {
    ...(await store(provenance, `taskrun-${UID}`)),
    ...(await store(image, DIGEST.slice(7, 19))),
    'chains.tekton.dev/signed': 'true',
  };
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'build', namespace: 'ns', uid: UID, annotations },
    spec: {},
  };
}

test('a run signed and stored by the tekton backend verifies, listing its subjects and image signature', async () => {
  const report = verifyRunAnnotations(await signedRun(), pub('cosign-ecdsa-p256'));
  assert.equal(report.verified, true, report.firstFailure);
  assert.deepEqual(
    report.entries.map((e) => [e.shortKey, e.kind, e.ok]),
    [
      [`taskrun-${UID}`, 'run-attestation', true],
      ['05f95b26ed10', 'image-signature', true],
    ],
  );
  assert.deepEqual(report.entries[0]!.subjects, [`${REPO}@sha256:${DIGEST.slice(7)}`]);
});

test('another key fails both the provenance and the image signature', async () => {
  const report = verifyRunAnnotations(await signedRun(), pub('x509-ecdsa-p256'));
  assert.equal(report.verified, false);
  assert.ok(report.entries.every((e) => !e.ok));
  assert.match(report.firstFailure!, /^taskrun-.*: signature:/);
});

test('a payload annotation edited after signing is caught', async () => {
  const run = await signedRun();
  const key = `chains.tekton.dev/payload-taskrun-${UID}`;
  const text = Buffer.from(run.metadata.annotations![key]!, 'base64').toString().replace('"id":"b"', '"id":"evil"');
  run.metadata.annotations![key] = Buffer.from(text).toString('base64');
  const report = verifyRunAnnotations(run, pub('cosign-ecdsa-p256'));
  assert.equal(report.verified, false);
  assert.match(
    report.firstFailure!,
    /payload: the payload annotation differs from the statement inside the signed envelope/,
  );
});

test("annotations copied from another run are not this run's provenance", async () => {
  const run = await signedRun();
  run.metadata.uid = 'another-uid';
  const report = verifyRunAnnotations(run, pub('cosign-ecdsa-p256'));
  assert.equal(report.verified, false);
  assert.match(report.firstFailure!, /owner: stored for taskrun-7f6c.*but this run is taskrun-another-uid/);
});

test('a run with nothing stored says so', () => {
  const run: TaskRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'x', namespace: 'ns', uid: UID, annotations: { 'chains.tekton.dev/signed': 'true' } },
    spec: {},
  };
  const report = verifyRunAnnotations(run, pub('cosign-ecdsa-p256'));
  assert.equal(report.verified, false);
  assert.match(report.firstFailure!, /no chains\.tekton\.dev\/payload-\* annotations/);
});

// With `storage.oci.encoding-format: sigstore-bundle`, an image signature also stored by `tekton` is a DSSE envelope
// of a cosign/sign/v1 statement (src/formats/cosign-sign.ts).
test('an image signature stored as a cosign-sign statement verifies, and fails with another key or image', async () => {
  const image = { repository: REPO, digest: DIGEST, source: 'IMAGE_URL' };
  const stored = await store(
    payloadFormat('cosign-sign').createPayload({ kind: 'Image', image }, {} as never),
    DIGEST.slice(7, 19),
  );
  const run = await signedRun();
  const withStatement: TaskRun = {
    ...run,
    metadata: { ...run.metadata, annotations: { ...run.metadata.annotations, ...stored } },
  };
  const report = verifyRunAnnotations(withStatement, pub('cosign-ecdsa-p256'));
  assert.equal(report.verified, true, report.firstFailure);
  assert.deepEqual(report.entries[1]?.subjects, [DIGEST]);
  assert.equal(report.entries[1]?.kind, 'image-signature');
  assert.equal(verifyRunAnnotations(withStatement, pub('x509-ecdsa-p256')).entries[1]?.ok, false);
  // the same signed statement filed under another image's key
  const moved: TaskRun = {
    ...run,
    metadata: {
      ...run.metadata,
      annotations: Object.fromEntries(
        Object.entries({ ...run.metadata.annotations, ...stored }).map(([k, v]) => [
          k.replace(DIGEST.slice(7, 19), 'ffffffffffff'),
          v,
        ]),
      ),
    },
  };
  const movedReport = verifyRunAnnotations(moved, pub('cosign-ecdsa-p256'));
  assert.equal(movedReport.verified, false);
  assert.match(
    movedReport.firstFailure ?? '',
    /ffffffffffff: digest: stored under ffffffffffff but signs sha256:05f95b26ed10/,
  );
});

// A TaskRun that built one image, signed for real (provenance DSSE envelope + simple-signing image signature), as the
// store requests every backend receives: the readers' tests store through the real storers into in-memory clients and
// read back. `otherRun` is a second run that built the same image (its provenance must never count as this run's).
import { generateKeyPairSync } from 'node:crypto';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import { simpleSigningFormat } from '../../src/formats/simplesigning.js';
import type { Payload } from '../../src/formats/types.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import type { StoreRequest } from '../../src/storage/storer.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { ephemeralSigner } from '../signing/fixtures.js';

export const REPO = '127.0.0.1:5000/demo/app';
export const HEX = `05f95b26ed10${'a'.repeat(52)}`;
export const DIGEST = `sha256:${HEX}`;
export const SHORT = HEX.slice(0, 12);

export function taskRun(name: string, uid: string): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace: 'ns', uid, annotations: { 'chains.tekton.dev/signed': 'true' } },
    spec: {},
    status: {
      conditions: [{ type: 'Succeeded', status: 'True' }],
      startTime: '2026-12-04T01:00:00Z',
      completionTime: '2026-12-04T01:05:00Z',
      results: [
        { name: 'IMAGE_URL', type: 'string', value: REPO },
        { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST },
      ],
    },
  } as TaskRun;
}

function provenance(run: TaskRun): Payload {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    predicateType: 'https://slsa.dev/provenance/v1',
    subject: [{ name: REPO, digest: { sha256: HEX } }],
    predicate: {
      buildDefinition: { buildType: 'https://tekton.dev/chains/v2/slsa' },
      runDetails: {
        builder: { id: 'b' },
        metadata: {
          invocationId: run.metadata.uid,
          startedOn: run.status!.startTime,
          finishedOn: run.status!.completionTime,
        },
      },
    },
  };
  return { bytes: Buffer.from(JSON.stringify(statement)), kind: 'in-toto', predicateType: statement.predicateType };
}

export interface SignedFixture {
  run: TaskRun;
  otherRun: TaskRun;
  config: ChainsConfig;
  /** the run's provenance, then its image signature */
  requests: StoreRequest[];
  /** the other run's provenance */
  otherRequest: StoreRequest;
  signer: ReturnType<typeof ephemeralSigner>;
  wrongKey: ReturnType<typeof generateKeyPairSync>['publicKey'];
}

export async function signedFixture(config: ChainsConfig = structuredClone(DEFAULT_CONFIG)): Promise<SignedFixture> {
  const signer = ephemeralSigner();
  const run = taskRun('build', '7f6c1b9e-0000-4000-8000-000000000001');
  const otherRun = taskRun('build-2', '7f6c1b9e-0000-4000-8000-000000000002');
  const image = simpleSigningFormat.createPayload(
    { kind: 'Image', image: { repository: REPO, digest: DIGEST } } as never,
    {} as never,
  ) as Payload;
  const request = async (r: TaskRun, payload: Payload, shortKey: string, fullKey: string): Promise<StoreRequest> => ({
    run: r,
    payload,
    signed: await signPayload(signer, payload),
    shortKey,
    fullKey,
    config,
  });
  const requests = [
    await request(run, provenance(run), `taskrun-${run.metadata.uid}`, `tekton.dev-v1-TaskRun-${run.metadata.uid}`),
    await request(run, image, SHORT, `${REPO}@${DIGEST}`),
  ];
  const otherRequest = await request(
    otherRun,
    provenance(otherRun),
    `taskrun-${otherRun.metadata.uid}`,
    `tekton.dev-v1-TaskRun-${otherRun.metadata.uid}`,
  );
  const { publicKey: wrongKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { run, otherRun, config, requests, otherRequest, signer, wrongKey };
}

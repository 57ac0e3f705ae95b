// Store requests for the service backends' tests (gcs, docdb, kafka, archivista): a TaskRun attestation signed as a
// real DSSE envelope, a PipelineRun attestation, and an image signature (simplesigning), with the key to verify them.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import { createEnvelope } from '../../src/sigstore/dsse.js';
import type { Signer } from '../../src/signing/signer.js';
import type { StoreRequest } from '../../src/storage/storer.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** The key the requests are signed with. */
export const signingKey: KeyObject = publicKey;

const signer: Signer = {
  sign: async (data) => sign('sha256', data, privateKey),
  publicKey: () => publicKey,
  cert: () => '',
  chain: () => '',
  description: 'test key',
};

export const taskRun: TaskRun = {
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name: 'build-1', namespace: 'team-a', uid: '0b4ea2ab-7e56-4b8c-9e4b-5c8a0a6b1f3d' },
  spec: {},
};

export const pipelineRun: PipelineRun = {
  apiVersion: 'tekton.dev/v1',
  kind: 'PipelineRun',
  metadata: { name: 'release-7', namespace: 'team-b', uid: '5d1c7f1e-2a34-4bcb-8f0e-9d6a3e2c4b10' },
  spec: {},
};

/** chains-config with `data` on top of the defaults. */
export function configWith(data: Record<string, string>): ChainsConfig {
  return parseChainsConfig(data);
}

/** An in-toto statement with a number and dotted label keys (what real provenance carries), signed as DSSE. */
export async function attestationRequest(
  run: TaskRun | PipelineRun = taskRun,
  config: ChainsConfig = configWith({}),
  extra: Partial<Pick<StoreRequest['signed'], 'cert' | 'chain'>> = {},
): Promise<StoreRequest> {
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [{ name: 'registry.example/app', digest: { sha256: 'ab'.repeat(32) } }],
      predicate: { invocation: { parameters: { replicas: 3, ratio: 0.5 } }, labels: { 'tekton.dev/task': 'build' } },
    }),
  );
  const envelope = await createEnvelope(signer, statement);
  const kind = run.kind === 'PipelineRun' ? 'pipelinerun' : 'taskrun';
  return {
    run,
    payload: { bytes: statement, kind: 'in-toto' },
    signed: { payload: statement, signature: envelope, cert: extra.cert ?? '', chain: extra.chain ?? '', publicKey },
    shortKey: `${kind}-${run.metadata.uid}`,
    fullKey: `tekton.dev-v1-${run.kind}-${run.metadata.uid}`,
    config,
  };
}

/** An image signature: simplesigning JSON and its raw (DER) signature. */
export function imageSignatureRequest(config: ChainsConfig = configWith({})): StoreRequest {
  const digest = '4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': 'registry.example/app' },
        image: { 'docker-manifest-digest': `sha256:${digest}` },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  return {
    run: taskRun,
    payload: { bytes: payload, kind: 'simplesigning' },
    signed: { payload, signature: sign('sha256', payload, privateKey), cert: '', chain: '', publicKey },
    shortKey: digest.slice(0, 12),
    fullKey: `registry.example/app@sha256:${digest}`,
    config,
  };
}

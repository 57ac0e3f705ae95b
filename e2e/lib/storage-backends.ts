// Helpers for e2e tests against the storage add-on's servers (e2e/stack/addons/storage-up.sh): buckets and objects of
// fake-gcs-server through its JSON API, runs that built an image, and waiting for the controller's `signed` mark.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';
import type { StorageEnv } from './env.js';
import { completeTaskRun, createTaskRun, getPipelineRun, getTaskRun } from './tekton.js';
import { waitFor } from './wait.js';

const SIGNED = 'chains.tekton.dev/signed';

/** Creates a bucket in fake-gcs-server. */
export async function createBucket(env: StorageEnv, bucket: string): Promise<void> {
  const r = await fetch(`${env.gcsUrl}/storage/v1/b?project=chainsmith`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: bucket }),
  });
  assert.equal(r.status, 200, `creating bucket ${bucket}: HTTP ${r.status}`);
}

/** One object of a bucket, through the GCS JSON API. */
export async function gcsObject(env: StorageEnv, bucket: string, name: string): Promise<Buffer> {
  const r = await fetch(`${env.gcsUrl}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`);
  assert.equal(r.status, 200, `gs://${bucket}/${name}: HTTP ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

/** Overwrites (or creates) one object, through the GCS JSON API's media upload. */
export async function putGcsObject(env: StorageEnv, bucket: string, name: string, data: Buffer): Promise<void> {
  const r = await fetch(
    `${env.gcsUrl}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`,
    { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(data) },
  );
  assert.equal(r.status, 200, `writing gs://${bucket}/${name}: HTTP ${r.status}`);
}

/** A completed TaskRun in `ns` that built `<repository>@sha256:<random>`; with the image's digest and short key. */
export async function imageTaskRun(
  ns: string,
  repository: string,
): Promise<{ tr: TaskRun; digest: string; short: string }> {
  const hex = randomBytes(32).toString('hex');
  const created = await createTaskRun(ns);
  const tr = await completeTaskRun(ns, created.metadata.name!, {
    results: [
      { name: 'IMAGE_URL', type: 'string', value: repository },
      { name: 'IMAGE_DIGEST', type: 'string', value: `sha256:${hex}` },
    ],
  });
  return { tr, digest: `sha256:${hex}`, short: hex.slice(0, 12) };
}

/** The TaskRun once the controller marked it signed. */
export function signedTaskRun(ns: string, name: string, timeoutMs = 45_000): Promise<TaskRun> {
  return waitFor(
    async () => {
      const tr = await getTaskRun(ns, name);
      return tr.metadata.annotations?.[SIGNED] === 'true' ? tr : undefined;
    },
    { timeoutMs, description: `TaskRun ${name} signed` },
  );
}

/** The PipelineRun once the controller marked it signed. */
export function signedPipelineRun(ns: string, name: string, timeoutMs = 45_000): Promise<PipelineRun> {
  return waitFor(
    async () => {
      const pr = await getPipelineRun(ns, name);
      return pr.metadata.annotations?.[SIGNED] === 'true' ? pr : undefined;
    },
    { timeoutMs, description: `PipelineRun ${name} signed` },
  );
}

// What the simulated Tekton Pipelines controller writes: TaskRuns/PipelineRuns as a user creates them and the
// /status a successful run ends with — the e2e helpers (e2e/lib/tekton.ts), so the benchmark signs the same
// realistic runs the e2e tests do — with IMAGE_URL/IMAGE_DIGEST results, retried through a loaded API server.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../src/kube/client.js';
import type { ObjectMeta } from '../../src/tekton/types.js';
import { retryTransient } from '../../e2e/lib/kube.js';
import {
  childTaskRunMetadata,
  completePipelineRun as completePipelineRunStatus,
  completeTaskRun as completeTaskRunStatus,
  createPipelineRun as createPipelineRunObject,
  createTaskRun as createTaskRunObject,
} from '../../e2e/lib/tekton.js';

export interface ImageRef {
  url: string;
  digest: string;
}

/** A made-up image (for storage backends that never contact the registry). */
export function fakeImage(registry: string, name: string): ImageRef {
  return { url: `${registry}/bench/${name}`, digest: `sha256:${randomBytes(32).toString('hex')}` };
}

/** Creates a TaskRun (spec only); `owner` makes it a PipelineRun's child; `labels` are added to its metadata. */
export async function createTaskRun(
  client: KubeClient,
  ns: string,
  name: string,
  owner?: { name: string; uid: string; task: string },
  labels?: Record<string, string>,
): Promise<void> {
  const metadata: ObjectMeta = owner ? { ...childTaskRunMetadata(owner, owner.task), name } : { name };
  if (labels) metadata.labels = { ...metadata.labels, ...labels };
  await retryTransient(() => createTaskRunObject(ns, { metadata }, client));
}

/** Creates a PipelineRun (spec only) and returns its uid (children need it for ownerReferences). */
export async function createPipelineRun(client: KubeClient, ns: string, name: string): Promise<string> {
  const pr = await retryTransient(() => createPipelineRunObject(ns, { metadata: { name } }, client));
  return pr.metadata.uid!;
}

/** Completes a TaskRun like Tekton does (one merge patch of /status); resolves at the server's answer. */
export async function completeTaskRun(client: KubeClient, ns: string, name: string, image: ImageRef): Promise<number> {
  const results = [
    { name: 'IMAGE_URL', type: 'string' as const, value: image.url },
    { name: 'IMAGE_DIGEST', type: 'string' as const, value: image.digest },
  ];
  await retryTransient(() => completeTaskRunStatus(ns, name, { results }, client));
  return Date.now();
}

/** Completes a PipelineRun whose children are already done; its results name the built image. */
export async function completePipelineRun(
  client: KubeClient,
  ns: string,
  name: string,
  children: Array<{ name: string; task: string }>,
  image: ImageRef,
): Promise<number> {
  const childReferences = children.map((c) => ({
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    name: c.name,
    pipelineTaskName: c.task,
  }));
  const results = [
    { name: 'IMAGE_URL', value: image.url },
    { name: 'IMAGE_DIGEST', value: image.digest },
  ];
  await retryTransient(() => completePipelineRunStatus(ns, name, { childReferences, results }, client));
  return Date.now();
}

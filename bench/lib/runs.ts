// What the simulated Tekton Pipelines controller writes: TaskRun/PipelineRun bodies as a user
// creates them, and the /status a successful run ends with (reused from the e2e helpers so the
// benchmark signs the same realistic runs the e2e tests do), with IMAGE_URL/IMAGE_DIGEST results.
import { randomBytes } from 'node:crypto';
import { succeededPipelineRunStatus, succeededTaskRunStatus } from '../../e2e/lib/tekton.js';
import type { ApiClient } from './api.js';

export type RunPlural = 'taskruns' | 'pipelineruns';

export interface ImageRef {
  url: string;
  digest: string;
}

/** A made-up image (for storage backends that never contact the registry). */
export function fakeImage(registry: string, name: string): ImageRef {
  return { url: `${registry}/bench/${name}`, digest: `sha256:${randomBytes(32).toString('hex')}` };
}

export function runPath(ns: string, plural: RunPlural, name?: string, sub?: string): string {
  return `/apis/tekton.dev/v1/namespaces/${ns}/${plural}${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
}

/** Creates a TaskRun (spec only); `owner` makes it a PipelineRun's child. */
export async function createTaskRun(
  api: ApiClient,
  ns: string,
  name: string,
  owner?: { name: string; uid: string; task: string },
): Promise<void> {
  const labels: Record<string, string> = {
    'app.kubernetes.io/managed-by': 'tekton-pipelines',
    'tekton.dev/taskRun': name,
  };
  const metadata: Record<string, unknown> = { name, namespace: ns, labels };
  if (owner) {
    labels['tekton.dev/pipelineRun'] = owner.name;
    labels['tekton.dev/pipelineTask'] = owner.task;
    metadata.ownerReferences = [
      {
        apiVersion: 'tekton.dev/v1',
        kind: 'PipelineRun',
        name: owner.name,
        uid: owner.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  await api.callRetrying('POST', runPath(ns, 'taskruns'), {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata,
    spec: { serviceAccountName: 'default', timeout: '1h0m0s', taskRef: { kind: 'Task', name: 'build-push' } },
  });
}

/** Creates a PipelineRun (spec only) and returns its uid (children need it for ownerReferences). */
export async function createPipelineRun(api: ApiClient, ns: string, name: string): Promise<string> {
  const pr = await api.callRetrying<{ metadata: { uid: string } }>('POST', runPath(ns, 'pipelineruns'), {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: {
      name,
      namespace: ns,
      labels: { 'app.kubernetes.io/managed-by': 'tekton-pipelines', 'tekton.dev/pipelineRun': name },
    },
    spec: { pipelineRef: { name: 'build-and-push' }, taskRunTemplate: { serviceAccountName: 'default' } },
  });
  return pr.metadata.uid;
}

function imageResults(image: ImageRef): Array<{ name: string; type: 'string'; value: string }> {
  return [
    { name: 'IMAGE_URL', type: 'string', value: image.url },
    { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
  ];
}

/** Completes a TaskRun like Tekton does (one merge patch of /status); resolves at the server's answer. */
export async function completeTaskRun(api: ApiClient, ns: string, name: string, image: ImageRef): Promise<number> {
  const status = succeededTaskRunStatus({ results: imageResults(image) }, `${name}-pod`);
  await api.callRetrying('PATCH', runPath(ns, 'taskruns', name, 'status'), { status }, 'application/merge-patch+json');
  return Date.now();
}

/** Completes a PipelineRun whose children are already done; its results name the built image. */
export async function completePipelineRun(
  api: ApiClient,
  ns: string,
  name: string,
  children: Array<{ name: string; task: string }>,
  image: ImageRef,
): Promise<number> {
  const status = succeededPipelineRunStatus({
    childReferences: children.map((c) => ({
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      name: c.name,
      pipelineTaskName: c.task,
    })),
    results: [
      { name: 'IMAGE_URL', value: image.url },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ],
  });
  await api.callRetrying(
    'PATCH',
    runPath(ns, 'pipelineruns', name, 'status'),
    { status },
    'application/merge-patch+json',
  );
  return Date.now();
}

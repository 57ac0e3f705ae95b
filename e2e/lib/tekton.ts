// Plays the Tekton Pipelines controller against the stack: creates TaskRuns/PipelineRuns (spec
// only) and completes them by merge-patching the /status subresource with what Tekton writes there.
// Status goes through the CRD's structural schema, so only v1 field names survive (unknown ones are pruned).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type {
  ChildStatusReference,
  ObjectMeta,
  PipelineRun,
  PipelineRunSpec,
  PipelineRunStatus,
  TaskRun,
  TaskRunSpec,
  TaskRunStatus,
} from '../../src/tekton/types.js';
import { kube, randomSuffix } from './kube.js';

const GROUP = 'tekton.dev';
const VERSION = 'v1';

/** What a test gives for a new run: any metadata/spec fields; name and spec get defaults. */
export interface RunInput<S> {
  metadata?: ObjectMeta;
  spec?: S;
}

/** A builder image digest Tekton would report in steps[].imageID. */
export const KANIKO_IMAGE_ID =
  'docker-pullable://gcr.io/kaniko-project/executor@sha256:d4b63d3e24d6eef04a6dc0795cf8a73470688803d97c52cffa3c8d4efd3397b6';

const REF_SOURCE = {
  uri: 'git+https://github.com/example/catalog.git',
  digest: { sha1: 'f99d13e554ffcb696dee719fa85b695cb5b0f428' },
};

function isoSecondsAgo(s: number): string {
  return new Date(Math.floor(Date.now() / 1000 - s) * 1000).toISOString().replace('.000Z', 'Z');
}

async function createRun<T>(ns: string, plural: string, body: object): Promise<T> {
  const { custom } = kube();
  return (await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural,
    body,
  })) as T;
}

/** Merge-patches a run's /status subresource (arrays in the patch replace the stored ones). */
export async function patchRunStatus<T>(
  ns: string,
  plural: 'taskruns' | 'pipelineruns',
  name: string,
  status: object,
): Promise<T> {
  const { custom } = kube();
  return (await custom.patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, namespace: ns, plural, name, body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as T;
}

/** Reads a TaskRun back from the API server. */
export async function getTaskRun(ns: string, name: string): Promise<TaskRun> {
  const { custom } = kube();
  return (await custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: 'taskruns',
    name,
  })) as TaskRun;
}

/** Reads a PipelineRun back from the API server. */
export async function getPipelineRun(ns: string, name: string): Promise<PipelineRun> {
  const { custom } = kube();
  return (await custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: 'pipelineruns',
    name,
  })) as PipelineRun;
}

/** Creates a TaskRun (spec only, as a user would); defaults: a random name, taskRef build-push. */
export async function createTaskRun(ns: string, partial: RunInput<TaskRunSpec> = {}): Promise<TaskRun> {
  const name = partial.metadata?.name ?? `tr-${randomSuffix()}`;
  const body: TaskRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: {
      ...partial.metadata,
      name,
      namespace: ns,
      labels: {
        'app.kubernetes.io/managed-by': 'tekton-pipelines',
        'tekton.dev/taskRun': name,
        ...partial.metadata?.labels,
      },
    },
    spec: partial.spec ?? {
      serviceAccountName: 'default',
      timeout: '1h0m0s',
      taskRef: { kind: 'Task', name: 'build-push' },
    },
  };
  return createRun<TaskRun>(ns, 'taskruns', body);
}

/** The status a successful Tekton TaskRun ends with; `patch` fields replace the defaults. */
export function succeededTaskRunStatus(patch: Partial<TaskRunStatus> = {}, podName = 'pod'): TaskRunStatus {
  const done = isoSecondsAgo(0);
  return {
    podName,
    startTime: isoSecondsAgo(42),
    completionTime: done,
    conditions: [
      {
        type: 'Succeeded',
        status: 'True',
        reason: 'Succeeded',
        message: 'All Steps have completed executing',
        lastTransitionTime: done,
      },
    ],
    steps: [
      {
        name: 'build-and-push',
        container: 'step-build-and-push',
        imageID: KANIKO_IMAGE_ID,
        terminated: { exitCode: 0, reason: 'Completed', startedAt: isoSecondsAgo(37), finishedAt: isoSecondsAgo(1) },
      },
    ],
    taskSpec: {
      params: [{ name: 'IMAGE', type: 'string' }],
      results: [
        { name: 'IMAGE_DIGEST', type: 'string' },
        { name: 'IMAGE_URL', type: 'string' },
      ],
      steps: [
        {
          name: 'build-and-push',
          image: 'gcr.io/kaniko-project/executor:v1.23.2',
          script: '#!/busybox/sh\n/kaniko/executor --destination=$(params.IMAGE)',
        },
      ],
    },
    provenance: {
      refSource: { ...REF_SOURCE, entryPoint: 'task/build-push/build-push.yaml' },
      featureFlags: { enableAPIFields: 'beta', resultExtractionMethod: 'termination-message' },
    },
    ...patch,
  };
}

/**
 * Completes a TaskRun the way the Tekton controller does: one /status patch with the Succeeded
 * condition, start/completion time, steps with imageIDs, the resolved taskSpec and provenance.
 * `statusPatch` fields (results, a failed condition, …) replace the defaults.
 */
export async function completeTaskRun(
  ns: string,
  name: string,
  statusPatch: Partial<TaskRunStatus> = {},
): Promise<TaskRun> {
  return patchRunStatus<TaskRun>(ns, 'taskruns', name, succeededTaskRunStatus(statusPatch, `${name}-pod`));
}

/** Creates a PipelineRun (spec only); defaults: a random name, pipelineRef build-and-push. */
export async function createPipelineRun(ns: string, partial: RunInput<PipelineRunSpec> = {}): Promise<PipelineRun> {
  const name = partial.metadata?.name ?? `pr-${randomSuffix()}`;
  const body: PipelineRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: {
      ...partial.metadata,
      name,
      namespace: ns,
      labels: {
        'app.kubernetes.io/managed-by': 'tekton-pipelines',
        'tekton.dev/pipelineRun': name,
        ...partial.metadata?.labels,
      },
    },
    spec: partial.spec ?? {
      pipelineRef: { name: 'build-and-push' },
      taskRunTemplate: { serviceAccountName: 'default' },
    },
  };
  return createRun<PipelineRun>(ns, 'pipelineruns', body);
}

/**
 * Creates a TaskRun as the child of a PipelineRun (ownerReference and the tekton.dev/pipelineRun,
 * tekton.dev/pipelineTask labels), named `<pipelinerun>-<pipelineTask>` like Tekton names them.
 */
export async function createChildTaskRun(
  pr: PipelineRun,
  pipelineTask: string,
  partial: RunInput<TaskRunSpec> = {},
): Promise<TaskRun> {
  const prName = pr.metadata.name!;
  return createTaskRun(pr.metadata.namespace!, {
    spec: partial.spec,
    metadata: {
      name: `${prName}-${pipelineTask}`,
      ...partial.metadata,
      labels: {
        'tekton.dev/pipelineRun': prName,
        'tekton.dev/pipelineTask': pipelineTask,
        ...partial.metadata?.labels,
      },
      ownerReferences: [
        {
          apiVersion: 'tekton.dev/v1',
          kind: 'PipelineRun',
          name: prName,
          uid: pr.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
  });
}

/** The childReferences entry Tekton records for a child TaskRun. */
export function childReference(tr: TaskRun): ChildStatusReference {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    name: tr.metadata.name!,
    pipelineTaskName: tr.metadata.labels?.['tekton.dev/pipelineTask'] ?? tr.metadata.name!,
  };
}

/** The status a successful Tekton PipelineRun ends with; `patch` fields replace the defaults. */
export function succeededPipelineRunStatus(patch: Partial<PipelineRunStatus> = {}): PipelineRunStatus {
  const done = isoSecondsAgo(0);
  const children = patch.childReferences ?? [];
  return {
    startTime: isoSecondsAgo(90),
    completionTime: done,
    conditions: [
      {
        type: 'Succeeded',
        status: 'True',
        reason: 'Succeeded',
        message: `Tasks Completed: ${children.length} (Failed: 0, Cancelled 0), Skipped: 0`,
        lastTransitionTime: done,
      },
    ],
    childReferences: children,
    pipelineSpec: {
      params: [{ name: 'IMAGE', type: 'string' }],
      tasks: [
        { name: 'git-clone', taskRef: { kind: 'Task', name: 'git-clone' } },
        {
          name: 'build',
          runAfter: ['git-clone'],
          taskRef: { kind: 'Task', name: 'build-push' },
          params: [{ name: 'IMAGE', value: '$(params.IMAGE)' }],
        },
      ],
      results: [
        { name: 'IMAGE_URL', value: '$(tasks.build.results.IMAGE_URL)' },
        { name: 'IMAGE_DIGEST', value: '$(tasks.build.results.IMAGE_DIGEST)' },
      ],
    },
    provenance: {
      refSource: { ...REF_SOURCE, uri: 'git+https://github.com/example/pipelines.git', entryPoint: 'pipeline.yaml' },
    },
    ...patch,
  };
}

/**
 * Completes a PipelineRun the way the Tekton controller does (conditions, times, pipelineSpec,
 * childReferences, provenance). Complete its child TaskRuns first: Chains signs a PipelineRun only
 * once every child exists and is done. `statusPatch` fields replace the defaults.
 */
export async function completePipelineRun(
  ns: string,
  name: string,
  statusPatch: Partial<PipelineRunStatus> = {},
): Promise<PipelineRun> {
  return patchRunStatus<PipelineRun>(ns, 'pipelineruns', name, succeededPipelineRunStatus(statusPatch));
}

// Plays the Tekton Pipelines controller against the stack: creates TaskRuns/PipelineRuns (spec
// only) and completes them by merge-patching the /status subresource with what Tekton writes there.
// Status goes through the CRD's structural schema, so only v1 field names survive (unknown ones are pruned).
import { PIPELINERUNS, TASKRUNS, type KubeClient } from '../../src/kube/client.js';
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

const KINDS = {
  TaskRun: { resource: TASKRUNS, namePrefix: 'tr', label: 'tekton.dev/taskRun' },
  PipelineRun: { resource: PIPELINERUNS, namePrefix: 'pr', label: 'tekton.dev/pipelineRun' },
} as const;

// a run as a user creates it: Tekton's labels, the test's metadata on top, and a default spec
function runBody<R extends TaskRun | PipelineRun>(
  kind: R['kind'],
  ns: string,
  partial: RunInput<R['spec']>,
  defaultSpec: R['spec'],
): R {
  const { namePrefix, label } = KINDS[kind];
  // 6 random bytes: a 2,000-run burst with 3 bytes collided about once in eight tries
  const name = partial.metadata?.name ?? `${namePrefix}-${randomSuffix(6)}`;
  return {
    apiVersion: 'tekton.dev/v1',
    kind,
    metadata: {
      ...partial.metadata,
      name,
      namespace: ns,
      labels: { 'app.kubernetes.io/managed-by': 'tekton-pipelines', [label]: name, ...partial.metadata?.labels },
    },
    spec: partial.spec ?? defaultSpec,
  } as unknown as R;
}

/** A TaskRun body (spec only, as a user writes it); defaults: a random name, taskRef build-push. */
export function taskRunBody(ns: string, partial: RunInput<TaskRunSpec> = {}): TaskRun {
  return runBody<TaskRun>('TaskRun', ns, partial, {
    serviceAccountName: 'default',
    timeout: '1h0m0s',
    taskRef: { kind: 'Task', name: 'build-push' },
  });
}

/** A PipelineRun body (spec only); defaults: a random name, pipelineRef build-and-push. */
export function pipelineRunBody(ns: string, partial: RunInput<PipelineRunSpec> = {}): PipelineRun {
  return runBody<PipelineRun>('PipelineRun', ns, partial, {
    pipelineRef: { name: 'build-and-push' },
    taskRunTemplate: { serviceAccountName: 'default' },
  });
}

/** Merge-patches a run's /status subresource (arrays in the patch replace the stored ones). */
export async function patchRunStatus<T>(
  ns: string,
  plural: 'taskruns' | 'pipelineruns',
  name: string,
  status: object,
  client: KubeClient = kube(),
): Promise<T> {
  return client.mergePatchStatus<T>(plural === 'taskruns' ? TASKRUNS : PIPELINERUNS, ns, name, { status });
}

async function getRun<R extends TaskRun | PipelineRun>(kind: R['kind'], ns: string, name: string): Promise<R> {
  const run = await kube().get<R>(KINDS[kind].resource, ns, name);
  if (!run) throw new Error(`${kind} ${ns}/${name} not found`);
  return run;
}

/** Reads a TaskRun back from the API server; throws when there is none. */
export function getTaskRun(ns: string, name: string): Promise<TaskRun> {
  return getRun<TaskRun>('TaskRun', ns, name);
}

/** Reads a PipelineRun back from the API server; throws when there is none. */
export function getPipelineRun(ns: string, name: string): Promise<PipelineRun> {
  return getRun<PipelineRun>('PipelineRun', ns, name);
}

/** Creates a TaskRun (see taskRunBody). */
export function createTaskRun(
  ns: string,
  partial: RunInput<TaskRunSpec> = {},
  client: KubeClient = kube(),
): Promise<TaskRun> {
  return client.create<TaskRun>(TASKRUNS, ns, taskRunBody(ns, partial));
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
  client: KubeClient = kube(),
): Promise<TaskRun> {
  return patchRunStatus<TaskRun>(ns, 'taskruns', name, succeededTaskRunStatus(statusPatch, `${name}-pod`), client);
}

/** Creates a PipelineRun (see pipelineRunBody). */
export function createPipelineRun(
  ns: string,
  partial: RunInput<PipelineRunSpec> = {},
  client: KubeClient = kube(),
): Promise<PipelineRun> {
  return client.create<PipelineRun>(PIPELINERUNS, ns, pipelineRunBody(ns, partial));
}

/**
 * What makes a TaskRun the child of a PipelineRun: its ownerReference and the tekton.dev/pipelineRun,
 * tekton.dev/pipelineTask labels, and the name `<pipelinerun>-<pipelineTask>` Tekton gives it.
 */
export function childTaskRunMetadata(pr: { name: string; uid: string }, pipelineTask: string): ObjectMeta {
  return {
    name: `${pr.name}-${pipelineTask}`,
    labels: { 'tekton.dev/pipelineRun': pr.name, 'tekton.dev/pipelineTask': pipelineTask },
    ownerReferences: [
      {
        apiVersion: 'tekton.dev/v1',
        kind: 'PipelineRun',
        name: pr.name,
        uid: pr.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

/** Creates a TaskRun as the child of a PipelineRun (see childTaskRunMetadata); `partial` fields win. */
export async function createChildTaskRun(
  pr: PipelineRun,
  pipelineTask: string,
  partial: RunInput<TaskRunSpec> = {},
): Promise<TaskRun> {
  const child = childTaskRunMetadata({ name: pr.metadata.name!, uid: pr.metadata.uid! }, pipelineTask);
  return createTaskRun(pr.metadata.namespace!, {
    spec: partial.spec,
    metadata: { ...child, ...partial.metadata, labels: { ...child.labels, ...partial.metadata?.labels } },
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
  client: KubeClient = kube(),
): Promise<PipelineRun> {
  return patchRunStatus<PipelineRun>(ns, 'pipelineruns', name, succeededPipelineRunStatus(statusPatch), client);
}

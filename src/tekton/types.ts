// Types for tekton.dev/v1 TaskRun and PipelineRun as the API server serves them.
// Field names are the API's own (conventions: keep metadata/status names as they are).
// Only fields chainsmith reads are typed; everything else passes through untouched.

/** A Tekton ParamValue / result value: string, array of strings, or object of strings. */
export type ParamValue = string | string[] | Record<string, string>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Param {
  name: string;
  value: ParamValue;
}

export interface ParamSpec {
  name: string;
  type?: 'string' | 'array' | 'object';
  description?: string;
  default?: ParamValue;
  properties?: Record<string, { type?: string }>;
}

export interface ResultSpec {
  name: string;
  type?: 'string' | 'array' | 'object';
  description?: string;
  properties?: Record<string, { type?: string }>;
}

export interface RunResult {
  name: string;
  type?: 'string' | 'array' | 'object';
  value: ParamValue;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface RefSource {
  uri?: string;
  digest?: Record<string, string>;
  entryPoint?: string;
}

export interface Provenance {
  refSource?: RefSource;
  featureFlags?: Record<string, unknown>;
}

export interface ResolverRef {
  resolver?: string;
  params?: Param[];
}

export interface TaskRef extends ResolverRef {
  name?: string;
  kind?: string;
  apiVersion?: string;
}

export interface PipelineRef extends ResolverRef {
  name?: string;
  apiVersion?: string;
}

export interface Step {
  name?: string;
  image?: string;
  ref?: { name?: string } & ResolverRef;
  [k: string]: unknown;
}

export interface TaskSpec {
  params?: ParamSpec[];
  results?: ResultSpec[];
  steps?: Step[];
  sidecars?: Step[];
  [k: string]: unknown;
}

export interface PipelineTask {
  name: string;
  taskRef?: TaskRef;
  taskSpec?: TaskSpec;
  params?: Param[];
  [k: string]: unknown;
}

export interface PipelineSpec {
  params?: ParamSpec[];
  results?: Array<{ name: string; type?: string; value?: ParamValue }>;
  tasks?: PipelineTask[];
  finally?: PipelineTask[];
  [k: string]: unknown;
}

export interface StepState {
  name?: string;
  container?: string;
  imageID?: string;
  results?: RunResult[];
  provenance?: Provenance;
  terminated?: Record<string, unknown>;
  terminationReason?: string;
  [k: string]: unknown;
}

export interface SidecarState {
  name?: string;
  container?: string;
  imageID?: string;
  [k: string]: unknown;
}

export interface ChildStatusReference {
  apiVersion?: string;
  kind?: string;
  name: string;
  displayName?: string;
  pipelineTaskName?: string;
  whenExpressions?: unknown[];
}

export interface TaskRunSpec {
  taskRef?: TaskRef;
  taskSpec?: TaskSpec;
  params?: Param[];
  serviceAccountName?: string;
  managedBy?: string;
  timeout?: string;
  workspaces?: unknown[];
  podTemplate?: unknown;
  status?: string;
  [k: string]: unknown;
}

export interface PipelineRunSpec {
  pipelineRef?: PipelineRef;
  pipelineSpec?: PipelineSpec;
  params?: Param[];
  taskRunTemplate?: { serviceAccountName?: string; podTemplate?: unknown; [k: string]: unknown };
  managedBy?: string;
  timeouts?: unknown;
  workspaces?: unknown[];
  status?: string;
  [k: string]: unknown;
}

export interface RunStatusCommon {
  conditions?: Condition[];
  startTime?: string;
  completionTime?: string;
  provenance?: Provenance;
  observedGeneration?: number;
  annotations?: Record<string, string>;
}

export interface TaskRunStatus extends RunStatusCommon {
  podName?: string;
  results?: RunResult[];
  steps?: StepState[];
  sidecars?: SidecarState[];
  taskSpec?: TaskSpec;
  retriesStatus?: unknown[];
  [k: string]: unknown;
}

export interface PipelineRunStatus extends RunStatusCommon {
  results?: RunResult[];
  pipelineSpec?: PipelineSpec;
  childReferences?: ChildStatusReference[];
  skippedTasks?: unknown[];
  finallyStartTime?: string;
  [k: string]: unknown;
}

export interface TaskRun {
  apiVersion: 'tekton.dev/v1';
  kind: 'TaskRun';
  metadata: ObjectMeta;
  spec: TaskRunSpec;
  status?: TaskRunStatus;
}

export interface PipelineRun {
  apiVersion: 'tekton.dev/v1';
  kind: 'PipelineRun';
  metadata: ObjectMeta;
  spec: PipelineRunSpec;
  status?: PipelineRunStatus;
}

export type Run = TaskRun | PipelineRun;

/** A PipelineRun together with the child TaskRuns collected for it (childReferences order). */
export interface PipelineRunWithChildren {
  run: PipelineRun;
  children: TaskRun[];
}

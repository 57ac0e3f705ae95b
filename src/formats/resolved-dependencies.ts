// SLSA v1.0 `buildDefinition.resolvedDependencies` (spec §3.4, §3.5, §2.7 last rule, §2.8).
import type { BuildType } from '../config/types.js';
import type { Material } from '../artifacts/types.js';
import { sidecarImageMaterials, stepActionInputs, stepImageMaterials, taskRunInputs } from '../artifacts/materials.js';
import { executedChildTaskRuns } from '../tekton/accessors.js';
import type { PipelineRunWithChildren, TaskRun } from '../tekton/types.js';
import { TEKTON_BUILD_TYPE } from './build-types.js';
import { goJsonMarshalAs } from './go-json.js';
import { pipelineRunInputs } from './pipeline-materials.js';
import { sortedKeys } from './serialise.js';

/** An in-toto ResourceDescriptor as the SLSA v1.0 predicate carries it; `content` is already base64. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  content?: string;
  mediaType?: string;
}

const INPUT_RESULT = 'inputs/result';
const PIPELINE_RESOURCE = 'pipelineResource';

export interface ResolveOptions {
  /** v2alpha4: read StepAction results and remote StepActions */
  withStepActions: boolean;
  deepInspection: boolean;
  buildType: BuildType;
}

/** A descriptor as protojson writes it: empty fields left out. */
export function descriptorJson(rd: ResourceDescriptor): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rd.name) out.name = rd.name;
  if (rd.uri) out.uri = rd.uri;
  if (rd.digest && Object.keys(rd.digest).length > 0) out.digest = rd.digest;
  if (rd.content) out.content = rd.content;
  if (rd.mediaType) out.mediaType = rd.mediaType;
  return out;
}

/** Appends in place; not push(...items), which passes every item as an argument and overflows on 100,000 steps. */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

function fromMaterials(mats: Material[], name?: string): ResourceDescriptor[] {
  return mats.map((m) => (name ? { name, uri: m.uri, digest: m.digest } : { uri: m.uri, digest: m.digest }));
}

function refSourceDescriptor(
  name: string,
  ref: { uri?: string; digest?: Record<string, string> } | undefined,
): ResourceDescriptor[] {
  return ref ? [{ name, uri: ref.uri ?? '', digest: { ...(ref.digest ?? {}) } }] : [];
}

/**
 * Drops a descriptor whose (uri, digest, content) was seen before, ignoring names — except the run's
 * own `task`/`pipeline` source and `stepAction/*` entries, which are always kept (§2.7).
 */
export function removeDuplicateDependencies(rds: ResourceDescriptor[]): ResourceDescriptor[] {
  const seen = new Set<string>();
  const out: ResourceDescriptor[] = [];
  for (const rd of rds) {
    const digest = rd.digest ?? {};
    const key = JSON.stringify([rd.uri ?? '', sortedKeys(digest).map((k) => [k, digest[k]]), rd.content ?? '']);
    const alwaysKept = rd.name === 'task' || rd.name === 'pipeline' || (rd.name ?? '').startsWith('stepAction/');
    if (seen.has(key) && !alwaysKept) continue;
    seen.add(key);
    out.push(rd);
  }
  return out;
}

/** `stepAction/<step>` descriptors for steps that ran a remotely resolved StepAction. */
export function remoteStepActions(tr: TaskRun): ResourceDescriptor[] {
  return (tr.status?.steps ?? []).flatMap((s) =>
    refSourceDescriptor(`stepAction/${s.name ?? ''}`, s.provenance?.refSource),
  );
}

function imageDependencies(tr: TaskRun): ResourceDescriptor[] {
  return fromMaterials([...stepImageMaterials(tr), ...sidecarImageMaterials(tr)]);
}

/** TaskRun resolvedDependencies (§3.4, §3.5). */
export function taskRunResolvedDependencies(tr: TaskRun, opts: ResolveOptions): ResourceDescriptor[] {
  const rds: ResourceDescriptor[] = [
    ...refSourceDescriptor('task', tr.status?.provenance?.refSource),
    ...imageDependencies(tr),
  ];
  if (opts.withStepActions) {
    append(rds, fromMaterials(stepActionInputs(tr), INPUT_RESULT));
    append(rds, remoteStepActions(tr));
  }
  const inputs = taskRunInputs(tr);
  // Chains also lists the inputs as `pipelineResource`; de-duplication always removes that copy.
  append(rds, fromMaterials(inputs, INPUT_RESULT));
  append(rds, fromMaterials(inputs, PIPELINE_RESOURCE));
  return removeDuplicateDependencies(rds);
}

/**
 * The child TaskRun as Chains embeds it: Go's encoding of its v1.TaskRun struct, without `apiVersion`/`kind`.
 * Chains reads children from its informer cache, where client-go's typed decoder has cleared them for every
 * object that arrived by a watch event (a child is watched until it completes); Chains' own test data lacks them too.
 */
function embeddedTaskRun(tr: TaskRun): string {
  const { apiVersion: _apiVersion, kind: _kind, ...withoutTypeMeta } = tr;
  return goJsonMarshalAs(withoutTypeMeta, 'TaskRun');
}

/** The `pipelineTask` descriptor of a child TaskRun for the configured build type (§3.4). */
export function pipelineTaskDescriptor(tr: TaskRun, buildType: BuildType): ResourceDescriptor | undefined {
  const ref = tr.status?.provenance?.refSource;
  if (buildType === TEKTON_BUILD_TYPE) {
    const rd: ResourceDescriptor = {
      name: 'pipelineTask',
      content: Buffer.from(embeddedTaskRun(tr), 'utf8').toString('base64'),
    };
    if (ref) {
      rd.uri = ref.uri ?? '';
      rd.digest = { ...(ref.digest ?? {}) };
    }
    return rd;
  }
  return ref ? { name: 'pipelineTask', uri: ref.uri ?? '', digest: { ...(ref.digest ?? {}) } } : undefined;
}

/** PipelineRun resolvedDependencies (§3.4, §3.5). */
export function pipelineRunResolvedDependencies(
  pr: PipelineRunWithChildren,
  opts: ResolveOptions,
): ResourceDescriptor[] {
  const rds: ResourceDescriptor[] = [...refSourceDescriptor('pipeline', pr.run.status?.provenance?.refSource)];
  const children = executedChildTaskRuns(pr);
  for (const child of children) {
    const descriptor = pipelineTaskDescriptor(child, opts.buildType);
    if (descriptor) rds.push(descriptor);
    if (opts.withStepActions) append(rds, remoteStepActions(child));
    append(rds, imageDependencies(child));
  }
  if (opts.deepInspection && opts.withStepActions) {
    for (const child of children) append(rds, fromMaterials(stepActionInputs(child), INPUT_RESULT));
  }
  append(rds, fromMaterials(pipelineRunInputs(pr, opts.deepInspection), INPUT_RESULT));
  return removeDuplicateDependencies(rds);
}

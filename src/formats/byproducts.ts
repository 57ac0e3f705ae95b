// SLSA v1.0 `runDetails.byproducts`: run results that are not subjects (spec §3.4, §3.5).
import { buildArtifactStatus } from '../artifacts/structured.js';
import { executedChildTaskRuns, stepResults } from '../tekton/accessors.js';
import type { PipelineRunWithChildren, RunResult, TaskRun } from '../tekton/types.js';
import { goJsonMarshal } from './go-json.js';
import type { ResourceDescriptor } from './resolved-dependencies.js';

const JSON_MEDIA_TYPE = 'application/json';

function byproduct(name: string, r: RunResult): ResourceDescriptor {
  // content is Go json.Marshal of the ParamValue: a quoted string, an array, or an object with sorted keys
  return { name, mediaType: JSON_MEDIA_TYPE, content: Buffer.from(goJsonMarshal(r.value), 'utf8').toString('base64') };
}

/** v2alpha3: every result of the run, unfiltered, as `taskRunResults/<r>` or `pipelineRunResults/<r>`. */
export function v2alpha3Byproducts(
  prefix: 'taskRunResults' | 'pipelineRunResults',
  results: RunResult[],
): ResourceDescriptor[] {
  return results.map((r) => byproduct(`${prefix}/${r.name}`, r));
}

/**
 * Whether v2alpha4 leaves a result out of byproducts: build artifacts (they are subjects), malformed
 * `*ARTIFACT_OUTPUTS` (Chains treats them as errors and drops them), `*IMAGE_URL`, `*IMAGE_DIGEST`, `IMAGES`.
 */
export function isSubjectLikeResult(r: RunResult): boolean {
  if (r.name.endsWith('IMAGE_URL') || r.name.endsWith('IMAGE_DIGEST') || r.name === 'IMAGES') return true;
  // a valid build artifact is a subject; a malformed `*ARTIFACT_OUTPUTS` is an error upstream: both vanish
  return buildArtifactStatus(r) !== 'no';
}

function filtered(prefix: string, runName: string, results: RunResult[]): ResourceDescriptor[] {
  return results.filter((r) => !isSubjectLikeResult(r)).map((r) => byproduct(`${prefix}/${runName}/${r.name}`, r));
}

/** v2alpha4 TaskRun byproducts: its own results, then all StepAction results, filtered. */
export function v2alpha4TaskRunByproducts(tr: TaskRun): ResourceDescriptor[] {
  const name = tr.metadata.name ?? '';
  return [
    ...filtered('taskRunResults', name, tr.status?.results ?? []),
    ...filtered('stepResults', name, stepResults(tr)),
  ];
}

/** v2alpha4 PipelineRun byproducts: its own results, then (deep inspection) each executed child's. */
export function v2alpha4PipelineRunByproducts(
  pr: PipelineRunWithChildren,
  deepInspection: boolean,
): ResourceDescriptor[] {
  const own = filtered('pipelineRunResults', pr.run.metadata.name ?? '', pr.run.status?.results ?? []);
  if (!deepInspection) return own;
  return [...own, ...executedChildTaskRuns(pr).flatMap(v2alpha4TaskRunByproducts)];
}

// What a PipelineRun consumed (spec §3.3 materials; also the inputs of §3.4 resolvedDependencies):
// its own sources and inputs, and those of the child TaskRuns that executed.
import type { Material } from '../artifacts/types.js';
import {
  artifactInputs,
  gitMaterialForPipelineRun,
  materialAccumulator,
  sidecarImageMaterials,
  stepImageMaterials,
  taskRunInputs,
} from '../artifacts/materials.js';
import { executedChildTaskRuns } from '../tekton/accessors.js';
import type { PipelineRunWithChildren } from '../tekton/types.js';

/**
 * PipelineRun inputs (Chains' FromPipelineParamsAndResults): its `*ARTIFACT_INPUTS`, then with deep
 * inspection each executed child's git + inputs, then the PipelineRun-level git source.
 */
export function pipelineRunInputs(pr: PipelineRunWithChildren, deepInspection: boolean): Material[] {
  // One accumulator for the whole list: Chains' `mats = AppendMaterials(mats, …)` keeps `mats` as it is and
  // merges the new items in, which is what continuing the accumulator does, without re-indexing per child.
  const mats = materialAccumulator().add(artifactInputs(pr.run.status?.results ?? []));
  if (deepInspection && pr.run.status?.pipelineSpec) {
    for (const child of executedChildTaskRuns(pr)) mats.add(taskRunInputs(child));
  }
  const git = gitMaterialForPipelineRun(pr.run);
  if (git) mats.add([git]);
  return mats.toArray();
}

/** PipelineRun materials (§3.3): pipeline source, each executed child's images and task source, then inputs. */
export function pipelineRunMaterials(pr: PipelineRunWithChildren, deepInspection: boolean): Material[] {
  const mats = materialAccumulator();
  const ref = pr.run.status?.provenance?.refSource;
  if (ref) mats.add([{ uri: ref.uri ?? '', digest: { ...(ref.digest ?? {}) } }]);
  for (const child of executedChildTaskRuns(pr)) {
    mats.add(stepImageMaterials(child));
    mats.add(sidecarImageMaterials(child));
    const childRef = child.status?.provenance?.refSource;
    if (childRef) mats.add([{ uri: childRef.uri ?? '', digest: { ...(childRef.digest ?? {}) } }]);
  }
  return mats.add(pipelineRunInputs(pr, deepInspection)).toArray();
}

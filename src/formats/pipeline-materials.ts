// What a PipelineRun consumed (spec §3.3 materials; also the inputs of §3.4 resolvedDependencies):
// its own sources and inputs, and those of the child TaskRuns that executed.
import type { Material } from '../artifacts/types.js';
import {
  appendMaterials,
  artifactInputs,
  gitMaterialForPipelineRun,
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
  let mats = appendMaterials([], artifactInputs(pr.run.status?.results ?? []));
  if (deepInspection && pr.run.status?.pipelineSpec) {
    for (const child of executedChildTaskRuns(pr)) mats = appendMaterials(mats, taskRunInputs(child));
  }
  const git = gitMaterialForPipelineRun(pr.run);
  return git ? appendMaterials(mats, [git]) : mats;
}

/** PipelineRun materials (§3.3): pipeline source, each executed child's images and task source, then inputs. */
export function pipelineRunMaterials(pr: PipelineRunWithChildren, deepInspection: boolean): Material[] {
  let mats: Material[] = [];
  const ref = pr.run.status?.provenance?.refSource;
  if (ref) mats = appendMaterials(mats, [{ uri: ref.uri ?? '', digest: { ...(ref.digest ?? {}) } }]);
  for (const child of executedChildTaskRuns(pr)) {
    mats = appendMaterials(mats, stepImageMaterials(child));
    mats = appendMaterials(mats, sidecarImageMaterials(child));
    const childRef = child.status?.provenance?.refSource;
    if (childRef) mats = appendMaterials(mats, [{ uri: childRef.uri ?? '', digest: { ...(childRef.digest ?? {}) } }]);
  }
  return appendMaterials(mats, pipelineRunInputs(pr, deepInspection));
}

// Type hinting for one signable input: everything a run's results say it built (subjects), what it consumed
// (materials), the images to sign, and a finding for every candidate that was rejected.
// Pure: no I/O, same input → same output (deterministic order everywhere, unlike Chains' map iteration).
import type { RunFormat } from '../config/types.js';
import type { FormatInput } from '../formats/types.js';
import { executedChildTaskRuns } from '../tekton/accessors.js';
import type { PipelineRunWithChildren, TaskRun } from '../tekton/types.js';
import type { Finding, ImageReference, Material, Subject } from './types.js';
import { finding, mergeFindings } from './findings.js';
import { extractOciImages } from './images.js';
import {
  appendMaterials,
  artifactInputs,
  artifactInputsWithFindings,
  gitFindingsForPipelineRun,
  gitFindingsForTaskRun,
  gitMaterialForPipelineRun,
  sidecarImageMaterials,
  stepActionInputs,
  stepImageMaterials,
  taskRunInputs,
  taskRunMaterials,
} from './materials.js';
import { nearMissFindings } from './near-miss.js';
import { appendSubjects, subjectsFromBuildArtifacts, subjectsV02WithFindings, subjectsV2alpha4WithFindings } from './subjects.js';

export { parseDigest } from './digest.js';
export { parseImageReference, normaliseRepository } from './reference.js';
export { extractOciImages } from './images.js';
export { appendSubjects, subjectsV02, subjectsV2alpha4 } from './subjects.js';
export { appendMaterials, artifactInputs, gitMaterialForPipelineRun, gitMaterialForTaskRun } from './materials.js';

/** The result of type hinting for one input. */
export interface ExtractedArtifacts {
  subjects: Subject[];
  /** in-toto v0.2-style materials (uri + digest); v1.0 formats name and de-duplicate them in formats/ */
  materials: Material[];
  /** images to sign with simplesigning: TaskRuns only (Chains never signs images named by PipelineRun results) */
  images: ImageReference[];
  findings: Finding[];
}

const NO_ARTIFACTS_MESSAGE =
  'no subjects: no result is a valid type hint (IMAGE_URL/IMAGE_DIGEST, IMAGES, *IMAGE_URL/*IMAGE_DIGEST, *ARTIFACT_URI/*ARTIFACT_DIGEST, *ARTIFACT_OUTPUTS)';

const GIT_HINTS = new Set(['CHAINS-GIT_URL', 'CHAINS-GIT_COMMIT']);

function isV2alpha4(format: RunFormat): boolean {
  return format === 'slsa/v2alpha4';
}

/** Findings about a TaskRun's hints, as the given format reads them. `context` prefixes child messages. */
function taskRunFindings(tr: TaskRun, format: RunFormat, context: string): Finding[] {
  const results = tr.status?.results ?? [];
  const steps = isV2alpha4(format) ? (tr.status?.steps ?? []).flatMap((s) => s.results ?? []) : [];
  const subjects = isV2alpha4(format) ? subjectsV2alpha4WithFindings(tr).findings : subjectsV02WithFindings(results).findings;
  const params = [...(tr.spec.params ?? []), ...(tr.status?.taskSpec?.params ?? [])];
  const list = mergeFindings(
    nearMissFindings([...results, ...steps]),
    nearMissFindings(params, 'param').filter((f) => GIT_HINTS.has(nearHintOf(f))),
    subjects,
    extractOciImages(results).findings,
    artifactInputsWithFindings([...results, ...steps]).findings,
    gitFindingsForTaskRun(tr, { steps: isV2alpha4(format) }),
  );
  return context ? list.map((f) => ({ ...f, message: `${context}: ${f.message}` })) : list;
}

/** The hint name a NearMissName finding refers to (from its message). */
function nearHintOf(f: Finding): string {
  return /type hint (\S+)/.exec(f.message)?.[1] ?? '';
}

function extractTaskRun(tr: TaskRun, format: RunFormat): ExtractedArtifacts {
  const results = tr.status?.results ?? [];
  const subjects = isV2alpha4(format) ? subjectsV2alpha4WithFindings(tr).subjects : subjectsV02WithFindings(results).subjects;
  let materials = taskRunMaterialsLenient(tr);
  if (isV2alpha4(format)) {
    materials = appendMaterials(materials, stepActionInputs(tr));
    materials = appendMaterials(materials, remoteStepActions(tr));
  }
  const images = extractOciImages(results).images;
  return { subjects, materials, images, findings: taskRunFindings(tr, format, '') };
}

/** taskRunMaterials, but a malformed imageID (which fails payload creation later) does not hide the rest here. */
function taskRunMaterialsLenient(tr: TaskRun): Material[] {
  try {
    return taskRunMaterials(tr);
  } catch {
    return taskRunInputs(tr);
  }
}

/** Remote StepActions of a TaskRun (`status.steps[].provenance.refSource`) as named materials (§2.8). */
function remoteStepActions(tr: TaskRun): Material[] {
  return (tr.status?.steps ?? [])
    .filter((s) => s.provenance?.refSource)
    .map((s) => ({ name: `stepAction/${s.name ?? ''}`, uri: s.provenance!.refSource!.uri ?? '', digest: { ...(s.provenance!.refSource!.digest ?? {}) } }));
}

function extractPipelineRun(pr: PipelineRunWithChildren, format: RunFormat, deep: boolean): ExtractedArtifacts {
  const results = pr.run.status?.results ?? [];
  const children = executedChildTaskRuns(pr);
  const findings: Finding[][] = [];

  // Subjects (§3.3 / §3.5): v0.2 family puts children first with deep inspection; v2alpha4 the PipelineRun first.
  let subjects: Subject[] = [];
  const own = isV2alpha4(format) ? subjectsFromBuildArtifacts(results) : subjectsV02WithFindings(results);
  if (deep && !isV2alpha4(format)) {
    for (const c of children) subjects = appendSubjects(subjects, subjectsV02WithFindings(c.status?.results ?? []).subjects);
  }
  subjects = appendSubjects(subjects, own.subjects);
  if (deep && isV2alpha4(format)) {
    for (const c of children) subjects = appendSubjects(subjects, subjectsV2alpha4WithFindings(c).subjects);
  }

  // Materials (§3.3): pipeline source, per child its images and source, then inputs and git.
  const ref = pr.run.status?.provenance?.refSource;
  let materials: Material[] = ref ? [{ uri: ref.uri ?? '', digest: { ...(ref.digest ?? {}) } }] : [];
  for (const c of children) {
    if (isV2alpha4(format)) materials = appendMaterials(materials, remoteStepActions(c));
    try {
      materials = appendMaterials(materials, stepImageMaterials(c));
      materials = appendMaterials(materials, sidecarImageMaterials(c));
    } catch {
      // A malformed imageID fails payload creation (formats/); listing the other materials is still useful here.
    }
    const childRef = c.status?.provenance?.refSource;
    if (childRef) materials = appendMaterials(materials, [{ uri: childRef.uri ?? '', digest: { ...(childRef.digest ?? {}) } }]);
  }
  // v2alpha4 with deep inspection: the children's StepAction inputs come before the PipelineRun's inputs (§3.5).
  if (deep && isV2alpha4(format)) for (const c of children) materials = appendMaterials(materials, stepActionInputs(c));
  materials = appendMaterials(materials, artifactInputs(results));
  if (deep) for (const c of children) materials = appendMaterials(materials, taskRunInputs(c));
  const git = gitMaterialForPipelineRun(pr.run);
  if (git) materials = appendMaterials(materials, [git]);

  const params = [...(pr.run.spec.params ?? []), ...(pr.run.status?.pipelineSpec?.params ?? [])];
  findings.push(
    nearMissFindings(results),
    nearMissFindings(params, 'param').filter((f) => GIT_HINTS.has(nearHintOf(f))),
    own.findings,
    artifactInputsWithFindings(results).findings,
    gitFindingsForPipelineRun(pr.run),
  );
  if (deep) for (const c of children) findings.push(taskRunFindings(c, format, `TaskRun ${c.metadata.name ?? '?'}`));
  return { subjects, materials, images: [], findings: mergeFindings(...findings) };
}

/**
 * Type hinting for one input as the given format reads it (spec §2, §2.9): subjects, materials, the images
 * to sign (TaskRuns only), and findings — every rejected candidate, plus `NoArtifacts` when there is no subject.
 * Findings are information only: they never change what is extracted.
 */
export function extractArtifacts(input: FormatInput, format: RunFormat, opts: { deepInspection: boolean }): ExtractedArtifacts {
  let out: ExtractedArtifacts;
  if (input.kind === 'Image') {
    const { repository, digest } = input.image;
    out = { subjects: [{ name: repository, digest: { sha256: digest.slice('sha256:'.length) } }], materials: [], images: [input.image], findings: [] };
  } else if (input.kind === 'TaskRun') {
    out = extractTaskRun(input.run, format);
  } else {
    out = extractPipelineRun(input.run, format, opts.deepInspection);
  }
  if (out.subjects.length === 0) out.findings.push(finding('NoArtifacts', '', NO_ARTIFACTS_MESSAGE));
  return out;
}

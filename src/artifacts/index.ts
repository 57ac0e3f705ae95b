// Type hinting for one signable input: everything a run's results say it built (subjects), what it consumed
// (materials), the images to sign, and a finding for every candidate that was rejected.
// Pure: no I/O, same input → same output (deterministic order everywhere, unlike Chains' map iteration).
import type { RunFormat } from '../config/types.js';
import { executedChildTaskRuns } from '../tekton/accessors.js';
import { assertValidRun } from '../tekton/validate.js';
import type { PipelineRunWithChildren, TaskRun } from '../tekton/types.js';
import type { ExtractedArtifacts, Finding, FormatInput, ImageReference, Material, Subject } from './types.js';
import { finding, mergeFindings } from './findings.js';
import {
  artifactInputs,
  artifactInputsWithFindings,
  gitFindingsForPipelineRun,
  gitFindingsForTaskRun,
  gitMaterialForPipelineRun,
  materialAccumulator,
  sidecarImageMaterials,
  stepActionInputs,
  stepImageMaterials,
  taskRunInputs,
  taskRunMaterials,
} from './materials.js';
import { nearMissFindings } from './near-miss.js';
import {
  subjectAccumulator,
  subjectsFromBuildArtifacts,
  subjectsV02WithFindings,
  subjectsV2alpha4WithFindings,
} from './subjects.js';

export { parseDigest } from './digest.js';
export { parseImageReference, normaliseRepository } from '../reference/reference.js';
export { extractOciImages } from './images.js';
export { appendSubjects, subjectsV02, subjectsV2alpha4 } from './subjects.js';
export { appendMaterials, artifactInputs, gitMaterialForPipelineRun, gitMaterialForTaskRun } from './materials.js';

export type { ExtractedArtifacts };

const NO_ARTIFACTS_MESSAGE =
  'no subjects: no result is a valid type hint (IMAGE_URL/IMAGE_DIGEST, IMAGES, *IMAGE_URL/*IMAGE_DIGEST, ' +
  '*ARTIFACT_URI/*ARTIFACT_DIGEST, *ARTIFACT_OUTPUTS)';

const GIT_HINTS = new Set(['CHAINS-GIT_URL', 'CHAINS-GIT_COMMIT']);

function isV2alpha4(format: RunFormat): boolean {
  return format === 'slsa/v2alpha4';
}

/** Subjects, images to sign and findings of a TaskRun as the given format reads it. `context` prefixes messages. */
function analyseTaskRun(
  tr: TaskRun,
  format: RunFormat,
  context: string,
): { subjects: Subject[]; images: ImageReference[]; findings: Finding[] } {
  const results = tr.status?.results ?? [];
  const steps = isV2alpha4(format) ? (tr.status?.steps ?? []).flatMap((s) => s.results ?? []) : [];
  // Both extractors include the OCI passes over the TaskRun's own results, so `images` comes with them.
  const extracted = isV2alpha4(format) ? subjectsV2alpha4WithFindings(tr) : subjectsV02WithFindings(results);
  const params = [...(tr.spec.params ?? []), ...(tr.status?.taskSpec?.params ?? [])];
  const list = mergeFindings(
    nearMissFindings([...results, ...steps]),
    nearMissFindings(params, 'param', '', GIT_HINTS),
    extracted.findings,
    artifactInputsWithFindings([...results, ...steps]).findings,
    gitFindingsForTaskRun(tr, { steps: isV2alpha4(format) }),
  );
  const findings = context ? list.map((f) => ({ ...f, message: `${context}: ${f.message}` })) : list;
  return { subjects: extracted.subjects, images: extracted.images, findings };
}

function extractTaskRun(tr: TaskRun, format: RunFormat): ExtractedArtifacts {
  const { subjects, images, findings } = analyseTaskRun(tr, format, '');
  const materials = materialAccumulator().add(taskRunMaterialsLenient(tr));
  if (isV2alpha4(format)) materials.add(stepActionInputs(tr)).add(remoteStepActions(tr));
  return { subjects, materials: materials.toArray(), images, findings };
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
    .map((s) => ({
      name: `stepAction/${s.name ?? ''}`,
      uri: s.provenance!.refSource!.uri ?? '',
      digest: { ...(s.provenance!.refSource!.digest ?? {}) },
    }));
}

function extractPipelineRun(pr: PipelineRunWithChildren, format: RunFormat, deep: boolean): ExtractedArtifacts {
  const results = pr.run.status?.results ?? [];
  const children = executedChildTaskRuns(pr);
  const findings: Finding[][] = [];

  // Subjects (§3.3 / §3.5): v0.2 family puts children first with deep inspection; v2alpha4 the PipelineRun first.
  const subjects = subjectAccumulator();
  const own = isV2alpha4(format) ? subjectsFromBuildArtifacts(results) : subjectsV02WithFindings(results);
  if (deep && !isV2alpha4(format))
    for (const c of children) subjects.add(subjectsV02WithFindings(c.status?.results ?? []).subjects);
  subjects.add(own.subjects);
  if (deep && isV2alpha4(format)) for (const c of children) subjects.add(subjectsV2alpha4WithFindings(c).subjects);

  // Materials (§3.3): pipeline source, per child its images and source, then inputs and git.
  const materials = materialAccumulator();
  const ref = pr.run.status?.provenance?.refSource;
  if (ref) materials.add([{ uri: ref.uri ?? '', digest: { ...(ref.digest ?? {}) } }]);
  for (const c of children) {
    if (isV2alpha4(format)) materials.add(remoteStepActions(c));
    try {
      const images = [...stepImageMaterials(c), ...sidecarImageMaterials(c)];
      materials.add(images);
    } catch {
      // A malformed imageID fails payload creation (formats/); listing the other materials is still useful here.
    }
    const childRef = c.status?.provenance?.refSource;
    if (childRef) materials.add([{ uri: childRef.uri ?? '', digest: { ...(childRef.digest ?? {}) } }]);
  }
  // v2alpha4 with deep inspection: the children's StepAction inputs come before the PipelineRun's inputs (§3.5).
  if (deep && isV2alpha4(format)) for (const c of children) materials.add(stepActionInputs(c));
  materials.add(artifactInputs(results));
  if (deep) for (const c of children) materials.add(taskRunInputs(c));
  const git = gitMaterialForPipelineRun(pr.run);
  if (git) materials.add([git]);

  const params = [...(pr.run.spec.params ?? []), ...(pr.run.status?.pipelineSpec?.params ?? [])];
  findings.push(
    nearMissFindings(results),
    nearMissFindings(params, 'param', '', GIT_HINTS),
    own.findings,
    artifactInputsWithFindings(results).findings,
    gitFindingsForPipelineRun(pr.run),
  );
  if (deep)
    for (const c of children) findings.push(analyseTaskRun(c, format, `TaskRun ${c.metadata.name ?? '?'}`).findings);
  return {
    subjects: subjects.toArray(),
    materials: materials.toArray(),
    images: [],
    findings: mergeFindings(...findings),
  };
}

/**
 * Checks a run (and a PipelineRun's children) from any source before it is read: shapes, counts, result sizes and
 * nesting (tekton/validate.ts). Throws ChainsmithError('InvalidRun' | 'InvalidResult'); the controller turns it into
 * an Event. Type hinting and every run payload format call it first.
 */
export function assertValidInput(input: FormatInput): void {
  if (input.kind === 'TaskRun') assertValidRun(input.run);
  else if (input.kind === 'PipelineRun') {
    assertValidRun(input.run.run);
    for (const child of input.run.children) assertValidRun(child);
  }
}

/**
 * Type hinting for one input as the given format reads it (spec §2, §2.9): subjects, materials, the images
 * to sign (TaskRuns only), and findings — every rejected candidate, plus `NoArtifacts` when there is no subject.
 * Findings are information only: they never change what is extracted.
 */
export function extractArtifacts(
  input: FormatInput,
  format: RunFormat,
  opts: { deepInspection: boolean },
): ExtractedArtifacts {
  assertValidInput(input);
  let out: ExtractedArtifacts;
  if (input.kind === 'Image') {
    const { repository, digest } = input.image;
    out = {
      subjects: [{ name: repository, digest: { sha256: digest.slice('sha256:'.length) } }],
      materials: [],
      images: [input.image],
      findings: [],
    };
  } else if (input.kind === 'TaskRun') {
    out = extractTaskRun(input.run, format);
  } else {
    out = extractPipelineRun(input.run, format, opts.deepInspection);
  }
  if (out.subjects.length === 0) {
    let hint = '';
    if (input.kind === 'PipelineRun' && !opts.deepInspection) {
      // A common surprise: the images are results of child TaskRuns, which only deep inspection reads.
      const childSubjects = extractPipelineRun(input.run, format, true).subjects.length;
      if (childSubjects > 0)
        hint =
          `; its child TaskRuns name ${childSubjects} subject(s), ` +
          'which artifacts.pipelinerun.enable-deep-inspection: "true" would include';
    }
    out.findings.push(finding('NoArtifacts', '', NO_ARTIFACTS_MESSAGE + hint));
  }
  return out;
}

/**
 * The subjects a format names for a run: those of the extraction handed along with the input when it was made
 * for this format and inspection depth (the signing pipeline extracts once per run), else a fresh extraction.
 */
export function subjectsOf(
  input: Exclude<FormatInput, { kind: 'Image' }>,
  format: RunFormat,
  opts: { deepInspection: boolean },
): Subject[] {
  const e = input.extraction;
  if (e && e.format === format && e.deepInspection === opts.deepInspection) return e.artifacts.subjects;
  return extractArtifacts(input, format, opts).subjects;
}

// Materials / resolved dependencies (what a run consumed): step and sidecar images, the git source
// (`CHAINS-GIT_URL`/`CHAINS-GIT_COMMIT`), `*ARTIFACT_INPUTS` objects, StepAction inputs (spec §2.4, §2.6, §2.7, §2.8).
import { ChainsmithError } from '../errors.js';
import { stringValue } from '../tekton/accessors.js';
import type { Param, ParamSpec, PipelineRun, RunResult, TaskRun } from '../tekton/types.js';
import type { Finding, Material } from './types.js';
import { parseDigest } from './digest.js';
import { finding } from './findings.js';
import { ArtifactAccumulator } from './merge.js';
import { ARTIFACT_INPUTS, structuredTargets } from './structured.js';

export const CHAINS_GIT_URL = 'CHAINS-GIT_URL';
export const CHAINS_GIT_COMMIT = 'CHAINS-GIT_COMMIT';
export const OCI_SCHEME = 'oci://';
const GIT_PREFIX = 'git+';

function copy(m: Material): Material {
  return m.name === undefined
    ? { uri: m.uri, digest: { ...m.digest } }
    : { name: m.name, uri: m.uri, digest: { ...m.digest } };
}

/**
 * Chains' AppendMaterials (§2.7): `existing` is kept as it is; a new material merges into an existing one with the
 * same uri and a shared `alg: hex` (its digest entries are copied over), else it is appended. Returns a new array;
 * inputs are not modified.
 */
export function appendMaterials(existing: Material[], add: Material[]): Material[] {
  return materialAccumulator().addVerbatim(existing).add(add).toArray();
}

/** A fresh §2.7 accumulator for materials (merging on uri). */
export function materialAccumulator(): ArtifactAccumulator<Material> {
  return new ArtifactAccumulator<Material>((m) => m.uri, copy);
}

/** SPDX git locator as Chains writes it: `git+` prefix and `.git` suffix added when missing. */
export function spdxGitUri(url: string): string {
  let out = url.startsWith(GIT_PREFIX) ? url : GIT_PREFIX + url;
  if (!out.endsWith('.git')) out += '.git';
  return out;
}

/**
 * A step or sidecar imageID (`[docker-pullable://]repo@alg:hex`) as a material `oci://repo`, `{alg: hex}`.
 * Throws ChainsmithError('PayloadFailed') when it does not split into exactly one `@` and one `:` after it —
 * Chains fails payload creation in that case (spec §3.2 QUIRK), so callers decide whether to follow.
 */
export function materialFromImageId(imageID: string): Material {
  const at = imageID.split('@');
  if (at.length !== 2)
    throw new ChainsmithError(
      'PayloadFailed',
      `image ID "${imageID}" is not of the form <repository>@<algorithm>:<hex>`,
    );
  const dig = at[1]!.split(':');
  if (dig.length !== 2)
    throw new ChainsmithError(
      'PayloadFailed',
      `image ID "${imageID}" is not of the form <repository>@<algorithm>:<hex>`,
    );
  const uri = at[0]!.startsWith('docker-pullable://') ? at[0]!.slice('docker-pullable://'.length) : at[0]!;
  return { uri: OCI_SCHEME + uri, digest: { [dig[0]!]: dig[1]! } };
}

/** Step images of a TaskRun in status order (`status.steps[].imageID`), merged per §2.7. */
export function stepImageMaterials(tr: TaskRun): Material[] {
  return materialAccumulator()
    .add((tr.status?.steps ?? []).map((s) => materialFromImageId(s.imageID ?? '')))
    .toArray();
}

/** Sidecar images of a TaskRun in status order (`status.sidecars[].imageID`), merged per §2.7. */
export function sidecarImageMaterials(tr: TaskRun): Material[] {
  return materialAccumulator()
    .add((tr.status?.sidecars ?? []).map((s) => materialFromImageId(s.imageID ?? '')))
    .toArray();
}

/**
 * Chains' RetrieveMaterialsFromStructuredResults: valid `*ARTIFACT_INPUTS` objects as materials
 * `{uri, digest: {<alg lowercased>: <hex trimmed>}}`, in result order.
 */
export function artifactInputs(results: RunResult[]): Material[] {
  return artifactInputsWithFindings(results).materials;
}

/** artifactInputs plus a finding for every rejected `*ARTIFACT_INPUTS` result. */
export function artifactInputsWithFindings(results: RunResult[]): { materials: Material[]; findings: Finding[] } {
  const { targets, findings } = structuredTargets(results, ARTIFACT_INPUTS);
  const materials = targets.map((t) => {
    const d = parseDigest(t.digest)!;
    return { uri: t.uri, digest: { [d.algorithm]: d.hex } };
  });
  return { materials, findings };
}

/** The git hint values with Chains' precedence: spec defaults, then params, then results (values not trimmed). */
interface GitHint {
  url: string;
  commit: string;
  /** where each value came from, for messages */
  urlFrom?: string;
  commitFrom?: string;
}

function readGitHint(defaults: ParamSpec[], params: Param[], results: RunResult[]): GitHint {
  const h: GitHint = { url: '', commit: '' };
  // Go reads `.StringVal`: a non-string value resets the hint to "" (it is not skipped).
  for (const p of defaults) {
    if (p.default === undefined || p.default === null) continue;
    if (p.name === CHAINS_GIT_COMMIT)
      Object.assign(h, { commit: stringValue(p.default), commitFrom: 'a task/pipeline param default' });
    else if (p.name === CHAINS_GIT_URL)
      Object.assign(h, { url: stringValue(p.default), urlFrom: 'a task/pipeline param default' });
  }
  for (const p of params) {
    if (p.name === CHAINS_GIT_COMMIT) Object.assign(h, { commit: stringValue(p.value), commitFrom: 'a param' });
    else if (p.name === CHAINS_GIT_URL) Object.assign(h, { url: stringValue(p.value), urlFrom: 'a param' });
  }
  for (const r of results) {
    if (r.name === CHAINS_GIT_COMMIT) Object.assign(h, { commit: stringValue(r.value), commitFrom: 'a result' });
    if (r.name === CHAINS_GIT_URL) Object.assign(h, { url: stringValue(r.value), urlFrom: 'a result' });
  }
  return h;
}

/**
 * TaskRun-level git material (§2.6; also used for deep inspection and StepActions). QUIRK kept: Chains normalises
 * the URL before the emptiness check, so a commit without a URL gives `{uri: "git+.git", digest: {sha1: commit}}`
 * (see docs/compatibility.md, "Type hinting"); gitFindingsForHint reports it.
 */
function taskLevelGitMaterial(h: GitHint): Material | undefined {
  const uri = spdxGitUri(h.url);
  return h.commit !== '' ? { uri, digest: { sha1: h.commit } } : undefined;
}

/** TaskRun-level git hint from `status.taskSpec.params` defaults → `spec.params` → `status.results`. */
function taskRunGitHint(tr: TaskRun): GitHint {
  return readGitHint(tr.status?.taskSpec?.params ?? [], tr.spec.params ?? [], tr.status?.results ?? []);
}

/** PipelineRun git hint from `status.pipelineSpec.params` defaults → `spec.params` → `status.results`. */
function pipelineRunGitHint(pr: PipelineRun): GitHint {
  return readGitHint(pr.status?.pipelineSpec?.params ?? [], pr.spec.params ?? [], pr.status?.results ?? []);
}

/** The TaskRun's git source material `git+<url>.git` `{sha1: commit}`, or undefined without a commit (§2.6). */
export function gitMaterialForTaskRun(tr: TaskRun): Material | undefined {
  return taskLevelGitMaterial(taskRunGitHint(tr));
}

/** The PipelineRun's git source material; only when both URL and commit are non-empty (§2.6). */
export function gitMaterialForPipelineRun(pr: PipelineRun): Material | undefined {
  const h = pipelineRunGitHint(pr);
  if (h.commit === '' || h.url === '') return undefined;
  return { uri: spdxGitUri(h.url), digest: { sha1: h.commit } };
}

/** Git materials of a TaskRun's StepActions: each step's own `CHAINS-GIT_*` results (TaskRun-level rules). */
export function gitMaterialsForSteps(tr: TaskRun): Material[] {
  const out = materialAccumulator();
  for (const step of tr.status?.steps ?? []) {
    const m = taskLevelGitMaterial(readGitHint([], [], step.results ?? []));
    if (m) out.add([m]);
  }
  return out.toArray();
}

/** Chains' FromStepActionsResults (v2alpha4): each step's git material, then all steps' `*ARTIFACT_INPUTS`. */
export function stepActionInputs(tr: TaskRun): Material[] {
  const all = (tr.status?.steps ?? []).flatMap((s) => s.results ?? []);
  return appendMaterials(gitMaterialsForSteps(tr), artifactInputs(all));
}

/** Chains' FromTaskParamsAndResults: TaskRun git material then `*ARTIFACT_INPUTS` of its results. */
export function taskRunInputs(tr: TaskRun): Material[] {
  const git = gitMaterialForTaskRun(tr);
  return appendMaterials(git ? [git] : [], artifactInputs(tr.status?.results ?? []));
}

/** Chains' TaskMaterials (v0.2 TaskRun `materials`, §3.2): step images, sidecar images, git, `*ARTIFACT_INPUTS`. */
export function taskRunMaterials(tr: TaskRun): Material[] {
  return materialAccumulator()
    .add(stepImageMaterials(tr))
    .add(sidecarImageMaterials(tr))
    .add(taskRunInputs(tr))
    .toArray();
}

/** What is odd about a git hint: a lone commit or URL, a trailing newline. `level` words the messages. */
function gitFindingsForHint(h: GitHint, level: 'TaskRun' | 'PipelineRun' | 'step', context: string): Finding[] {
  const out: Finding[] = [];
  const where = context ? `${context}: ` : '';
  if (h.commit !== '' && h.url === '') {
    out.push(
      finding(
        'UnpairedDigest',
        CHAINS_GIT_COMMIT,
        level === 'PipelineRun'
          ? `${where}CHAINS-GIT_COMMIT is set (from ${h.commitFrom}) but CHAINS-GIT_URL is empty; ` +
              'no git material recorded'
          : `${where}CHAINS-GIT_COMMIT is set (from ${h.commitFrom}) but CHAINS-GIT_URL is empty; ` +
              'recorded as material "git+.git" like Tekton Chains — set CHAINS-GIT_URL',
      ),
    );
  }
  if (h.url !== '' && h.commit === '') {
    out.push(
      finding(
        'UnpairedUrl',
        CHAINS_GIT_URL,
        `${where}CHAINS-GIT_URL "${h.url}" is set (from ${h.urlFrom}) but CHAINS-GIT_COMMIT is empty; ` +
          'no git material recorded',
      ),
    );
  }
  if (h.commit !== '' && h.commit !== h.commit.trim()) {
    out.push(
      finding(
        'InvalidDigest',
        CHAINS_GIT_COMMIT,
        `${where}CHAINS-GIT_COMMIT ${JSON.stringify(h.commit)} has surrounding whitespace (echo without -n?); ` +
          'recorded verbatim like Tekton Chains',
      ),
    );
  }
  return out;
}

/** Findings about a TaskRun's git hints (its own, and with `steps` its StepActions'). */
export function gitFindingsForTaskRun(tr: TaskRun, opts: { steps?: boolean; context?: string } = {}): Finding[] {
  const out = gitFindingsForHint(taskRunGitHint(tr), 'TaskRun', opts.context ?? '');
  if (opts.steps) {
    (tr.status?.steps ?? []).forEach((s, i) => {
      const context = `${opts.context ? `${opts.context} ` : ''}step ${s.name ?? i}`;
      for (const f of gitFindingsForHint(readGitHint([], [], s.results ?? []), 'step', context)) out.push(f);
    });
  }
  return out;
}

/** Findings about a PipelineRun's own git hints. */
export function gitFindingsForPipelineRun(pr: PipelineRun): Finding[] {
  return gitFindingsForHint(pipelineRunGitHint(pr), 'PipelineRun', '');
}

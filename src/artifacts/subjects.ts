// Subjects (what a run built) per format family (spec §2.3, §2.7, §2.8, §2.9).
import { stepResults } from '../tekton/accessors.js';
import type { RunResult, TaskRun } from '../tekton/types.js';
import type { Finding, ImageReference, Subject } from './types.js';
import { digestProblem } from './digest.js';
import { finding } from './findings.js';
import { extractOciImages } from './images.js';
import { ArtifactAccumulator } from './merge.js';
import { pairBySuffix, unpairedFindings } from './pairs.js';
import { ARTIFACT_OUTPUTS, buildArtifacts, structuredTargets, type StructuredTarget } from './structured.js';

export const ARTIFACT_URI = 'ARTIFACT_URI';
export const ARTIFACT_DIGEST = 'ARTIFACT_DIGEST';

function copy(s: Subject): Subject {
  return { name: s.name, digest: { ...s.digest } };
}

export { ArtifactAccumulator, sameArtifact } from './merge.js';

/** A fresh accumulator for subjects. */
export function subjectAccumulator(): ArtifactAccumulator<Subject> {
  return new ArtifactAccumulator<Subject>((s) => s.name, copy);
}

/**
 * Chains' AppendSubjects (§2.7): `existing` is kept as it is; each new subject merges into an existing one with the
 * same name and a shared `alg: hex` (its digest entries are copied over), else it is appended. Returns a new array;
 * inputs are not modified.
 */
export function appendSubjects(existing: Subject[], add: Subject[]): Subject[] {
  return subjectAccumulator().addVerbatim(existing).add(add).toArray();
}

/** An image as a subject: normalised repository, `{sha256: hex}`. */
function imageSubject(i: ImageReference): Subject {
  return { name: i.repository, digest: { sha256: i.digest.slice('sha256:'.length) } };
}

/** Go's `strings.Split(d, ":")` into a one-entry digest map, as Chains builds subject digests (no lowercasing). */
function rawDigest(d: string): Record<string, string> {
  const [alg, hex] = d.split(':') as [string, string];
  return { [alg]: hex };
}

/** `*ARTIFACT_URI`/`*ARTIFACT_DIGEST` pairs (§2.3): any URI, digest valid per §2.5. */
export function artifactUriSubjects(results: RunResult[]): { subjects: Subject[]; findings: Finding[] } {
  const { pairs, findings } = pairBySuffix(results, ARTIFACT_URI, ARTIFACT_DIGEST);
  for (const f of unpairedFindings(pairs, ARTIFACT_URI, ARTIFACT_DIGEST)) findings.push(f);
  const subjects: Subject[] = [];
  for (const p of pairs) {
    if (!p.url || !p.digest) continue;
    const why = digestProblem(p.digest.value);
    if (why) {
      findings.push(
        finding(
          'InvalidDigest',
          `${p.url.result}+${p.digest.result}`,
          `${p.digest.result}: ${why}; ${p.url.result} "${p.url.value}" ignored`,
        ),
      );
      continue;
    }
    subjects.push({ name: p.url.value, digest: rawDigest(p.digest.value) });
  }
  return { subjects, findings };
}

/** The subjects of a run's results, the findings of every pass, and the images among them (to sign as images). */
export interface ExtractedSubjects {
  subjects: Subject[];
  findings: Finding[];
  images: ImageReference[];
}

/** A valid `*ARTIFACT_OUTPUTS` object as a subject: its uri verbatim, its digest as Chains splits it. */
function targetSubject(t: StructuredTarget): Subject {
  return { name: t.uri, digest: rawDigest(t.digest) };
}

/** Subjects for `in-toto`, `slsa/v1` and `slsa/v2alpha3` (§2.9 row 1), with the findings of every pass. */
export function subjectsV02WithFindings(results: RunResult[]): ExtractedSubjects {
  const images = extractOciImages(results);
  const uris = artifactUriSubjects(results);
  const outputs = structuredTargets(results, ARTIFACT_OUTPUTS);
  const subjects = subjectAccumulator()
    .add(images.images.map(imageSubject))
    .add(uris.subjects)
    .add(outputs.targets.map(targetSubject))
    .toArray();
  return { subjects, findings: [...images.findings, ...uris.findings, ...outputs.findings], images: images.images };
}

/**
 * Subjects for `in-toto`, `slsa/v1` and `slsa/v2alpha3` (§2.9 row 1): OCI passes A, B, C (normalised names),
 * then `*ARTIFACT_URI` pairs, then any valid `*ARTIFACT_OUTPUTS` object (uri verbatim), merged per §2.7.
 */
export function subjectsV02(results: RunResult[]): Subject[] {
  return subjectsV02WithFindings(results).subjects;
}

/** Chains' SubjectsFromBuildArtifact (v2alpha4): build-artifact outputs (raw uri), then OCI passes A, B, C. */
export function subjectsFromBuildArtifacts(results: RunResult[]): ExtractedSubjects {
  const built = buildArtifacts(results);
  const images = extractOciImages(results);
  const subjects = subjectAccumulator()
    .add(built.targets.map(targetSubject))
    .add(images.images.map(imageSubject))
    .toArray();
  return { subjects, findings: [...built.findings, ...images.findings], images: images.images };
}

/** v2alpha4 TaskRun subjects with findings: each step's StepAction results in order, then the TaskRun's results. */
export function subjectsV2alpha4WithFindings(taskRun: TaskRun): ExtractedSubjects {
  const subjects = subjectAccumulator();
  const findings: Finding[] = [];
  for (const step of taskRun.status?.steps ?? []) {
    const s = subjectsFromBuildArtifacts(step.results ?? []);
    subjects.add(s.subjects);
    for (const f of s.findings) findings.push(f);
  }
  const own = subjectsFromBuildArtifacts(taskRun.status?.results ?? []);
  // images: those of the TaskRun's own results (image signatures never come from StepAction results, §2.2)
  return {
    subjects: subjects.add(own.subjects).toArray(),
    findings: [...findings, ...own.findings],
    images: own.images,
  };
}

/**
 * Subjects for `slsa/v2alpha4` TaskRuns (§2.8, §2.9 row 2): StepAction results step by step, then the TaskRun's own.
 */
export function subjectsV2alpha4(taskRun: TaskRun): Subject[] {
  return subjectsV2alpha4WithFindings(taskRun).subjects;
}

/** Every StepAction result of the TaskRun (re-exported for callers that build byproducts). */
export { stepResults };

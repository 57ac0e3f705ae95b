// Subjects (what a run built) per format family (spec §2.3, §2.7, §2.8, §2.9).
import { stepResults } from '../tekton/accessors.js';
import type { RunResult, TaskRun } from '../tekton/types.js';
import type { Finding, ImageReference, Subject } from './types.js';
import { digestProblem } from './digest.js';
import { finding } from './findings.js';
import { extractOciImages } from './images.js';
import { pairBySuffix, unpairedFindings } from './pairs.js';
import { ARTIFACT_OUTPUTS, buildArtifacts, structuredTargets } from './structured.js';

export const ARTIFACT_URI = 'ARTIFACT_URI';
export const ARTIFACT_DIGEST = 'ARTIFACT_DIGEST';

function copy(s: Subject): Subject {
  return { name: s.name, digest: { ...s.digest } };
}

/** Go map lookup: a missing key reads as "". */
function lookup(m: Record<string, string>, k: string): string {
  return Object.hasOwn(m, k) ? m[k]! : '';
}

/** Chains' artifactEqual: same name and at least one identical `alg: hex` entry. */
export function sameArtifact(aName: string, a: Record<string, string>, bName: string, b: Record<string, string>): boolean {
  if (aName !== bName) return false;
  for (const alg in a) if (Object.hasOwn(a, alg) && lookup(b, alg) === a[alg]) return true;
  return false;
}

/**
 * The §2.7 merge shared by subjects and materials, as an accumulator: an item with the same key (name/uri) as a
 * kept item and a shared `alg: hex` merges into it (its digest entries are copied in), others are appended;
 * first-seen positions are kept. Items are copied on the way in, so callers' objects are never modified; the
 * key index keeps large runs (many steps, many results) linear.
 */
export class ArtifactAccumulator<T extends { digest: Record<string, string> }> {
  private readonly items: T[] = [];
  private readonly byKey = new Map<string, T[]>();

  constructor(
    private readonly keyOf: (t: T) => string,
    private readonly copy: (t: T) => T,
  ) {}

  /** Merges or appends each item, in order. */
  add(list: readonly T[]): this {
    for (const item of list) {
      const k = this.keyOf(item);
      const candidates = this.byKey.get(k);
      const match = candidates?.find((o) => sameArtifact(k, o.digest, k, item.digest));
      if (match) {
        Object.assign(match.digest, item.digest);
        continue;
      }
      const c = this.copy(item);
      this.items.push(c);
      if (candidates) candidates.push(c);
      else this.byKey.set(k, [c]);
    }
    return this;
  }

  /** The merged list (owned by the caller from now on). */
  toArray(): T[] {
    return this.items;
  }
}

/** A fresh accumulator for subjects. */
export function subjectAccumulator(): ArtifactAccumulator<Subject> {
  return new ArtifactAccumulator<Subject>((s) => s.name, copy);
}

/**
 * Chains' AppendSubjects (§2.7): each new subject merges into an existing one with the same name and a shared
 * `alg: hex` (its digest entries are copied over), else it is appended. Returns a new array; inputs are not modified.
 */
export function appendSubjects(existing: Subject[], add: Subject[]): Subject[] {
  return subjectAccumulator().add(existing).add(add).toArray();
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
  findings.push(...unpairedFindings(pairs, ARTIFACT_URI, ARTIFACT_DIGEST));
  const subjects: Subject[] = [];
  for (const p of pairs) {
    if (!p.url || !p.digest) continue;
    const why = digestProblem(p.digest.value);
    if (why) {
      findings.push(finding('InvalidDigest', `${p.url.result}+${p.digest.result}`, `${p.digest.result}: ${why}; ${p.url.result} "${p.url.value}" ignored`));
      continue;
    }
    subjects.push({ name: p.url.value, digest: rawDigest(p.digest.value) });
  }
  return { subjects, findings };
}

/** Subjects for `in-toto`, `slsa/v1` and `slsa/v2alpha3` (§2.9 row 1), with the findings of every pass. */
export function subjectsV02WithFindings(results: RunResult[]): { subjects: Subject[]; findings: Finding[]; images: ImageReference[] } {
  const images = extractOciImages(results);
  const uris = artifactUriSubjects(results);
  const outputs = structuredTargets(results, ARTIFACT_OUTPUTS);
  const subjects = subjectAccumulator()
    .add(images.images.map(imageSubject))
    .add(uris.subjects)
    .add(outputs.targets.map((t) => ({ name: t.uri, digest: rawDigest(t.digest) })))
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
export function subjectsFromBuildArtifacts(results: RunResult[]): { subjects: Subject[]; findings: Finding[]; images: ImageReference[] } {
  const built = buildArtifacts(results);
  const images = extractOciImages(results);
  const subjects = subjectAccumulator()
    .add(built.targets.map((t) => ({ name: t.uri, digest: rawDigest(t.digest) })))
    .add(images.images.map(imageSubject))
    .toArray();
  return { subjects, findings: [...built.findings, ...images.findings], images: images.images };
}

/** v2alpha4 TaskRun subjects with findings: each step's StepAction results in order, then the TaskRun's results. */
export function subjectsV2alpha4WithFindings(taskRun: TaskRun): { subjects: Subject[]; findings: Finding[]; images: ImageReference[] } {
  const subjects = subjectAccumulator();
  const findings: Finding[] = [];
  for (const step of taskRun.status?.steps ?? []) {
    const s = subjectsFromBuildArtifacts(step.results ?? []);
    subjects.add(s.subjects);
    findings.push(...s.findings);
  }
  const own = subjectsFromBuildArtifacts(taskRun.status?.results ?? []);
  // images: those of the TaskRun's own results (image signatures never come from StepAction results, §2.2)
  return { subjects: subjects.add(own.subjects).toArray(), findings: [...findings, ...own.findings], images: own.images };
}

/** Subjects for `slsa/v2alpha4` TaskRuns (§2.8, §2.9 row 2): StepAction results step by step, then the TaskRun's own. */
export function subjectsV2alpha4(taskRun: TaskRun): Subject[] {
  return subjectsV2alpha4WithFindings(taskRun).subjects;
}

/** Every StepAction result of the TaskRun (re-exported for callers that build byproducts). */
export { stepResults };

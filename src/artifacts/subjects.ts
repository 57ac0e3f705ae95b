// Subjects (what a run built) per format family (spec §2.3, §2.7, §2.8, §2.9).
import { stepResults } from '../tekton/accessors.js';
import type { RunResult, TaskRun } from '../tekton/types.js';
import type { Finding, Subject } from './types.js';
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
 * The shared §2.7 merge for subjects and materials: items with the same key (name/uri) and a shared `alg: hex`
 * merge (new digest entries copied in), others are appended; first-seen positions are kept. Indexed by key so
 * large runs (many steps, many results) stay linear.
 */
export function mergeArtifacts<T extends { digest: Record<string, string> }>(existing: T[], add: T[], keyOf: (t: T) => string, copy: (t: T) => T): T[] {
  const out = existing.map(copy);
  const byKey = new Map<string, T[]>();
  for (const o of out) {
    const k = keyOf(o);
    const list = byKey.get(k);
    if (list) list.push(o);
    else byKey.set(k, [o]);
  }
  for (const item of add) {
    const k = keyOf(item);
    const candidates = byKey.get(k);
    const match = candidates?.find((o) => sameArtifact(k, o.digest, k, item.digest));
    if (match) {
      Object.assign(match.digest, item.digest);
      continue;
    }
    const c = copy(item);
    out.push(c);
    if (candidates) candidates.push(c);
    else byKey.set(k, [c]);
  }
  return out;
}

/**
 * Chains' AppendSubjects (§2.7): each new subject merges into an existing one with the same name and a shared
 * `alg: hex` (its digest entries are copied over), else it is appended. Returns a new array; inputs are not modified.
 */
export function appendSubjects(existing: Subject[], add: Subject[]): Subject[] {
  return mergeArtifacts(existing, add, (s) => s.name, copy);
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
export function subjectsV02WithFindings(results: RunResult[]): { subjects: Subject[]; findings: Finding[] } {
  const images = extractOciImages(results);
  let subjects = appendSubjects([], images.images.map((i) => ({ name: i.repository, digest: { sha256: i.digest.slice('sha256:'.length) } })));
  const uris = artifactUriSubjects(results);
  subjects = appendSubjects(subjects, uris.subjects);
  const outputs = structuredTargets(results, ARTIFACT_OUTPUTS);
  subjects = appendSubjects(subjects, outputs.targets.map((t) => ({ name: t.uri, digest: rawDigest(t.digest) })));
  return { subjects, findings: [...images.findings, ...uris.findings, ...outputs.findings] };
}

/**
 * Subjects for `in-toto`, `slsa/v1` and `slsa/v2alpha3` (§2.9 row 1): OCI passes A, B, C (normalised names),
 * then `*ARTIFACT_URI` pairs, then any valid `*ARTIFACT_OUTPUTS` object (uri verbatim), merged per §2.7.
 */
export function subjectsV02(results: RunResult[]): Subject[] {
  return subjectsV02WithFindings(results).subjects;
}

/** Chains' SubjectsFromBuildArtifact (v2alpha4): build-artifact outputs (raw uri), then OCI passes A, B, C. */
export function subjectsFromBuildArtifacts(results: RunResult[]): { subjects: Subject[]; findings: Finding[] } {
  const built = buildArtifacts(results);
  let subjects = appendSubjects([], built.targets.map((t) => ({ name: t.uri, digest: rawDigest(t.digest) })));
  const images = extractOciImages(results);
  subjects = appendSubjects(subjects, images.images.map((i) => ({ name: i.repository, digest: { sha256: i.digest.slice('sha256:'.length) } })));
  return { subjects, findings: [...built.findings, ...images.findings] };
}

/** v2alpha4 TaskRun subjects with findings: each step's StepAction results in order, then the TaskRun's results. */
export function subjectsV2alpha4WithFindings(taskRun: TaskRun): { subjects: Subject[]; findings: Finding[] } {
  let subjects: Subject[] = [];
  const findings: Finding[] = [];
  for (const step of taskRun.status?.steps ?? []) {
    const s = subjectsFromBuildArtifacts(step.results ?? []);
    subjects = appendSubjects(subjects, s.subjects);
    findings.push(...s.findings);
  }
  const own = subjectsFromBuildArtifacts(taskRun.status?.results ?? []);
  return { subjects: appendSubjects(subjects, own.subjects), findings: [...findings, ...own.findings] };
}

/** Subjects for `slsa/v2alpha4` TaskRuns (§2.8, §2.9 row 2): StepAction results step by step, then the TaskRun's own. */
export function subjectsV2alpha4(taskRun: TaskRun): Subject[] {
  return subjectsV2alpha4WithFindings(taskRun).subjects;
}

/** Every StepAction result of the TaskRun (re-exported for callers that build byproducts). */
export { stepResults };

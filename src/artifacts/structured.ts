// Object results `*ARTIFACT_OUTPUTS` / `*ARTIFACT_INPUTS` (spec §2.4): `{uri, digest, isBuildArtifact}`.
// Two readings of `*ARTIFACT_OUTPUTS` exist upstream: any valid object ("structured output", v0.2/v2alpha3
// subjects) and objects with `isBuildArtifact: "true"` ("build artifact", v2alpha4 subjects and OCI pass C).
import { objectValue } from '../tekton/accessors.js';
import type { RunResult } from '../tekton/types.js';
import type { Finding } from './types.js';
import { digestProblem } from './digest.js';
import { describeValue, finding } from './findings.js';

export const ARTIFACT_INPUTS = 'ARTIFACT_INPUTS';
export const ARTIFACT_OUTPUTS = 'ARTIFACT_OUTPUTS';

/** A valid structured target: uri and digest exactly as written (the digest is valid per §2.5). */
export interface StructuredTarget {
  result: string;
  uri: string;
  digest: string;
}

/** Chains' isValidArtifactOutput: why the object is not a valid `{uri, digest}`, or undefined. */
function objectProblem(name: string, obj: Record<string, string>): Finding | undefined {
  const hintKey = (key: string) => {
    const other = Object.keys(obj).find((k) => k !== key && k.toLowerCase() === key.toLowerCase());
    return other ? ` (found "${other}"; keys are case-sensitive)` : '';
  };
  if (!obj.uri) return finding('InvalidResult', name, `${name} has no uri${hintKey('uri')}; ignored`);
  if (!obj.digest) return finding('InvalidResult', name, `${name} has no digest${hintKey('digest')}; ignored`);
  const why = digestProblem(obj.digest);
  if (why) return finding('InvalidDigest', name, `${name}: ${why}; ignored`);
  return undefined;
}

/** Inspects one `*ARTIFACT_OUTPUTS`/`*ARTIFACT_INPUTS` result: the target when valid, else the finding. */
export function inspectStructured(r: RunResult): { target?: StructuredTarget; finding?: Finding } {
  const obj = objectValue(r.value);
  if (!obj) {
    return {
      finding: finding(
        'InvalidResult',
        r.name,
        `${r.name} is ${describeValue(r.value)}, but it must be an object with uri and digest; ignored`,
      ),
    };
  }
  const problem = objectProblem(r.name, obj);
  if (problem) return { finding: problem };
  return { target: { result: r.name, uri: obj.uri!, digest: obj.digest! } };
}

/** Chains' ExtractStructuredTargetFromResults: valid objects of results whose name ends with the suffix. */
export function structuredTargets(
  results: RunResult[],
  suffix: typeof ARTIFACT_INPUTS | typeof ARTIFACT_OUTPUTS,
): { targets: StructuredTarget[]; findings: Finding[] } {
  const targets: StructuredTarget[] = [];
  const findings: Finding[] = [];
  for (const r of results) {
    if (!r.name.endsWith(suffix)) continue;
    const { target, finding: f } = inspectStructured(r);
    if (target) targets.push(target);
    if (f) findings.push(f);
  }
  return { targets, findings };
}

/**
 * Chains' IsBuildArtifact: `yes` for a `*ARTIFACT_OUTPUTS` object with `isBuildArtifact: "true"` and valid
 * uri/digest; `no` when it is not marked (or not an ARTIFACT_OUTPUTS result); `error` when the result ends in
 * ARTIFACT_OUTPUTS but is not an object, or is marked but invalid (upstream drops it from subjects and byproducts).
 */
export function buildArtifactStatus(r: RunResult): 'yes' | 'no' | 'error' {
  if (!r.name.endsWith(ARTIFACT_OUTPUTS)) return 'no';
  const obj = objectValue(r.value);
  if (!obj) return 'error';
  if (obj.isBuildArtifact !== 'true') return 'no';
  return objectProblem(r.name, obj) ? 'error' : 'yes';
}

/** Chains' ExtractBuildArtifactsFromResults, with findings for marked-but-invalid and near-miss markers. */
export function buildArtifacts(results: RunResult[]): { targets: StructuredTarget[]; findings: Finding[] } {
  const targets: StructuredTarget[] = [];
  const findings: Finding[] = [];
  for (const r of results) {
    if (!r.name.endsWith(ARTIFACT_OUTPUTS)) continue;
    const obj = objectValue(r.value);
    if (!obj) {
      findings.push(inspectStructured(r).finding!);
      continue;
    }
    if (obj.isBuildArtifact !== 'true') {
      const marker =
        obj.isBuildArtifact ?? Object.entries(obj).find(([k]) => k.toLowerCase() === 'isbuildartifact')?.[1];
      if (marker !== undefined && marker.trim().toLowerCase() === 'true') {
        findings.push(
          finding(
            'InvalidResult',
            r.name,
            `${r.name} has isBuildArtifact ${JSON.stringify(marker)}` +
              `${obj.isBuildArtifact === undefined ? ' under a differently-cased key' : ''}; ` +
              'only the exact key isBuildArtifact with the string "true" marks a build artifact',
          ),
        );
      }
      continue;
    }
    const { target, finding: f } = inspectStructured(r);
    if (target) targets.push(target);
    if (f) findings.push(f);
  }
  return { targets, findings };
}

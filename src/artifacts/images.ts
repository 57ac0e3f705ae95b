// OCI image extraction from results (Chains' ExtractOCIImagesFromResults, spec §2.2): three passes sharing one
// de-duplication set keyed by the normalised reference. Used for image signatures (TaskRun results only)
// and for in-toto subjects.
import type { RunResult } from '../tekton/types.js';
import type { Finding, ImageReference } from './types.js';
import { describeValue, finding } from './findings.js';
import { goTrimSpace } from './go-strings.js';
import { pairBySuffix, unpairedFindings } from './pairs.js';
import { parseImageReferenceDetailed } from '../reference/reference.js';
import { buildArtifacts } from './structured.js';
import { assertValidResults } from '../tekton/validate.js';

export const IMAGE_URL = 'IMAGE_URL';
export const IMAGE_DIGEST = 'IMAGE_DIGEST';
export const IMAGES = 'IMAGES';

/** The `IMAGES` separators: commas (historic) and newlines. */
function splitImages(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map(goTrimSpace)
    .filter((s) => s !== '');
}

/**
 * Finds the images a run's results name, in a deterministic order: pass A (`*IMAGE_URL`/`*IMAGE_DIGEST` pairs,
 * by position of the URL result), pass B (`IMAGES`, in written order), pass C (build-artifact
 * `*ARTIFACT_OUTPUTS` with an OCI uri). Each rejected candidate yields a finding; duplicates are silently merged.
 */
export function extractOciImages(
  results: RunResult[],
  label = 'the run',
): { images: ImageReference[]; findings: Finding[] } {
  // The controller calls this with a run's results straight from the API server: shapes and sizes first.
  assertValidResults(results, label);
  const images: ImageReference[] = [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (
    ref: string,
    source: string,
    onError: (reason: 'InvalidDigest' | 'InvalidReference', problem: string) => void,
  ) => {
    const parsed = parseImageReferenceDetailed(ref);
    if (!parsed.ok) {
      onError(parsed.reason, parsed.problem);
      return;
    }
    const key = `${parsed.value.repository}@${parsed.value.digest}`;
    if (seen.has(key)) return;
    seen.add(key);
    images.push({ repository: parsed.value.repository, digest: parsed.value.digest, source });
  };

  // Pass A
  const { pairs, findings: pairFindings } = pairBySuffix(results, IMAGE_URL, IMAGE_DIGEST);
  // loops, not push(...list): spreading a list of 100,000+ findings as arguments overflows the stack
  for (const f of pairFindings) findings.push(f);
  for (const f of unpairedFindings(pairs, IMAGE_URL, IMAGE_DIGEST)) findings.push(f);
  for (const p of pairs) {
    if (!p.url || !p.digest) continue;
    const source = `${p.url.result}+${p.digest.result}`;
    add(`${p.url.value}@${p.digest.value}`, source, (reason, problem) => {
      // A common slip: writing the full `repo@sha256:…` into IMAGE_URL, which makes the joined reference invalid.
      const hint = p.url!.value.includes('@')
        ? ` (${p.url!.result} must not contain a digest; put it only in ${p.digest!.result})`
        : '';
      findings.push(finding(reason, source, `${p.url!.result}/${p.digest!.result}: ${problem}${hint}; ignored`));
    });
  }

  // Pass B: only the result named exactly IMAGES
  for (const r of results) {
    if (r.name !== IMAGES) continue;
    if (typeof r.value !== 'string') {
      findings.push(
        finding(
          'InvalidResult',
          r.name,
          `IMAGES is ${describeValue(r.value)}, ` +
            'but it must be a string of comma- or newline-separated references; ignored',
        ),
      );
      continue;
    }
    for (const piece of splitImages(r.value)) {
      add(piece, IMAGES, (reason, problem) =>
        findings.push(finding(reason, IMAGES, `IMAGES entry "${piece}": ${problem}; ignored`)),
      );
    }
  }

  // Pass C: build artifacts whose uri@digest is an OCI reference. A build artifact that is not an image
  // (a jar, a purl …) is a legitimate subject elsewhere, so failing here is not a finding.
  const built = buildArtifacts(results);
  for (const f of built.findings) findings.push(f);
  for (const t of built.targets) add(`${t.uri}@${t.digest}`, t.result, () => undefined);

  return { images, findings };
}

// Near-miss hint names: results that look like a type hint but that Chains' exact, case-sensitive rules ignore
// (`IMAGE_URl`, `IMAGEDIGEST`, `image_url`, `IMAGE-URL`, `IMAGE_DIGESTS`, `IMAGE_URI`, `CHAINS_GIT_URL` …).
// These findings explain a silent miss; they never change what is extracted.
import type { RunResult } from '../tekton/types.js';
import type { Finding } from './types.js';
import { finding } from './findings.js';

interface Hint {
  /** how the hint must be written */
  name: string;
  /** `suffix`: the name must end with it; `exact`: the name must equal it */
  match: 'suffix' | 'exact';
  /** canonical spellings (upper case, no separators) that count as a near miss */
  variants: string[];
}

const HINTS: Hint[] = [
  { name: 'IMAGE_URL', match: 'suffix', variants: ['IMAGEURL', 'IMAGEURLS', 'IMAGEURI', 'IMAGEURIS'] },
  { name: 'IMAGE_DIGEST', match: 'suffix', variants: ['IMAGEDIGEST', 'IMAGEDIGESTS'] },
  { name: 'ARTIFACT_URI', match: 'suffix', variants: ['ARTIFACTURI', 'ARTIFACTURIS', 'ARTIFACTURL', 'ARTIFACTURLS'] },
  { name: 'ARTIFACT_DIGEST', match: 'suffix', variants: ['ARTIFACTDIGEST', 'ARTIFACTDIGESTS'] },
  { name: 'ARTIFACT_INPUTS', match: 'suffix', variants: ['ARTIFACTINPUTS', 'ARTIFACTINPUT'] },
  { name: 'ARTIFACT_OUTPUTS', match: 'suffix', variants: ['ARTIFACTOUTPUTS', 'ARTIFACTOUTPUT'] },
  { name: 'CHAINS-GIT_URL', match: 'exact', variants: ['CHAINSGITURL', 'CHAINSGITURI'] },
  { name: 'CHAINS-GIT_COMMIT', match: 'exact', variants: ['CHAINSGITCOMMIT'] },
  { name: 'IMAGES', match: 'exact', variants: ['IMAGES'] },
];

function matchesExactly(name: string): boolean {
  return HINTS.some((h) => (h.match === 'suffix' ? name.endsWith(h.name) : name === h.name));
}

/** Upper case, separators (anything but letters and digits) removed. */
function canonical(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** The hint a name nearly matches, or undefined when it matches one exactly or none at all. */
export function nearMissHint(name: string): string | undefined {
  if (matchesExactly(name)) return undefined;
  const c = canonical(name);
  // Fast path: every hint contains one of these words.
  if (!c.includes('IMAGE') && !c.includes('ARTIFACT') && !c.includes('CHAINS')) return undefined;
  for (const h of HINTS) {
    if (h.match === 'exact' ? h.variants.includes(c) : h.variants.some((v) => c.endsWith(v))) return h.name;
  }
  // A suffix hint written as the whole name but with extra text behind it is not a hint at all; an exact
  // hint (`IMAGES`, `CHAINS-GIT_*`) used as a suffix is a near miss: only the bare name counts.
  for (const h of HINTS) {
    if (h.match === 'exact' && h.name !== 'IMAGES' && h.variants.some((v) => c.endsWith(v))) return h.name;
  }
  return undefined;
}

/**
 * NearMissName findings for results (or params) whose names nearly match a type hint. `kind` words the message;
 * `only` limits the hints considered (params only carry the CHAINS-GIT_* hints).
 */
export function nearMissFindings(
  items: Array<Pick<RunResult, 'name'>>,
  kind: 'result' | 'param' = 'result',
  context = '',
  only?: ReadonlySet<string>,
): Finding[] {
  const out: Finding[] = [];
  for (const { name } of items) {
    const hint = nearMissHint(name);
    if (!hint || (only && !only.has(hint))) continue;
    const rule =
      HINTS.find((h) => h.name === hint)!.match === 'suffix'
        ? `must end with exactly "${hint}"`
        : `must be named exactly "${hint}"`;
    out.push(
      finding(
        'NearMissName',
        name,
        `${context ? `${context}: ` : ''}${kind} "${name}" looks like the type hint ${hint} but is ignored: ` +
          `hint names are case-sensitive and ${rule}`,
      ),
    );
  }
  return out;
}

// The marker-pairing mechanism behind `*IMAGE_URL`/`*IMAGE_DIGEST` and `*ARTIFACT_URI`/`*ARTIFACT_DIGEST`
// (Chains pkg/artifacts/structured.go): a result whose name ends with a suffix contributes its trimmed string
// value to the group named by the rest of the name (the marker: `""`, `foo-`, `SPAM_` …).
//
// Chains collects the groups in a Go map, so their order is random; we order groups by the position of their
// first URL/URI result (then, for groups without one, of their first digest result) — spec §9.3.
import type { RunResult } from '../tekton/types.js';
import type { Finding } from './types.js';
import { describeValue, finding } from './findings.js';
import { goTrimSpace } from './go-strings.js';

/** One side of a pair: the result it came from and its trimmed value. */
export interface PairMember {
  result: string;
  value: string;
}

/** A marker group; either side may be missing. */
export interface Pair {
  marker: string;
  url?: PairMember;
  digest?: PairMember;
}

/**
 * Groups results by marker. Empty and non-string values are ignored, like Chains, and reported as findings;
 * a later non-empty result with the same marker and suffix overwrites an earlier one (Go map semantics).
 */
export function pairBySuffix(
  results: RunResult[],
  urlSuffix: string,
  digestSuffix: string,
): { pairs: Pair[]; findings: Finding[] } {
  const groups = new Map<string, Pair & { urlAt: number; digestAt: number }>();
  const findings: Finding[] = [];
  results.forEach((r, i) => {
    for (const [suffix, side] of [
      [urlSuffix, 'url'],
      [digestSuffix, 'digest'],
    ] as const) {
      if (!r.name.endsWith(suffix)) continue;
      if (typeof r.value !== 'string') {
        findings.push(
          finding(
            'InvalidResult',
            r.name,
            `${r.name} is ${describeValue(r.value)}, but a ${suffix} hint must be a string; ignored`,
          ),
        );
        continue;
      }
      const value = goTrimSpace(r.value);
      if (value === '') {
        findings.push(finding('InvalidResult', r.name, `${r.name} is empty; ignored`));
        continue;
      }
      const marker = r.name.slice(0, r.name.length - suffix.length);
      let g = groups.get(marker);
      if (!g) {
        g = { marker, urlAt: Infinity, digestAt: Infinity };
        groups.set(marker, g);
      }
      g[side] = { result: r.name, value };
      if (side === 'url') g.urlAt = Math.min(g.urlAt, i);
      else g.digestAt = Math.min(g.digestAt, i);
    }
  });
  const ordered = [...groups.values()].sort((a, b) => {
    const ka = a.urlAt !== Infinity ? a.urlAt : a.digestAt;
    const kb = b.urlAt !== Infinity ? b.urlAt : b.digestAt;
    return ka - kb;
  });
  const pairs = ordered.map(({ marker, url, digest }) => ({
    marker,
    ...(url ? { url } : {}),
    ...(digest ? { digest } : {}),
  }));
  return { pairs, findings };
}

/** Findings for groups that lack one side (the group is ignored by Chains). */
export function unpairedFindings(pairs: Pair[], urlSuffix: string, digestSuffix: string): Finding[] {
  const out: Finding[] = [];
  for (const p of pairs) {
    if (p.url && !p.digest) {
      out.push(
        finding(
          'UnpairedUrl',
          p.url.result,
          `${p.url.result} "${p.url.value}" has no matching ${p.marker}${digestSuffix} result; ignored`,
        ),
      );
    } else if (p.digest && !p.url) {
      out.push(
        finding(
          'UnpairedDigest',
          p.digest.result,
          `${p.digest.result} "${p.digest.value}" has no matching ${p.marker}${urlSuffix} result; ignored`,
        ),
      );
    }
  }
  return out;
}

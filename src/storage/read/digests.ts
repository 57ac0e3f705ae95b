// The image and artifact digests that lead to a run's other stored signatures: those its results name (as type
// hinting reads them, src/artifacts) and those its stored provenance names as subjects.
import { subjectsV02 } from '../../artifacts/index.js';
import type { Run } from '../../tekton/types.js';

/** A subject as `name@sha256:hex`, with its hex. */
export interface NamedDigest {
  name: string;
  hex: string;
}

const HEX = /^[0-9a-f]{64}$/;

/** The sha256 subjects the run's own results name (a PipelineRun's children are not read). */
export function resultDigests(run: Run): NamedDigest[] {
  try {
    return subjectsV02(run.status?.results ?? [])
      .map((s) => ({ name: s.name, hex: s.digest.sha256 ?? '' }))
      .filter((d) => HEX.test(d.hex));
  } catch {
    // invalid results (the controller refused to sign them): there is nothing to find by them
    return [];
  }
}

/** The sha256 subjects of a signed in-toto statement (bytes); empty when it is not one. */
export function statementDigests(statement: Buffer): NamedDigest[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(statement.toString('utf8'));
  } catch {
    return [];
  }
  const subjects = (parsed as { subject?: unknown }).subject;
  if (!Array.isArray(subjects)) return [];
  const out: NamedDigest[] = [];
  for (const s of subjects as Array<{ name?: unknown; digest?: { sha256?: unknown } }>) {
    const hex = s?.digest?.sha256;
    if (typeof hex === 'string' && HEX.test(hex)) out.push({ name: typeof s.name === 'string' ? s.name : '', hex });
  }
  return out;
}

/** Unique by hex, first seen kept. */
export function uniqueDigests(...lists: NamedDigest[][]): NamedDigest[] {
  const seen = new Map<string, NamedDigest>();
  for (const list of lists) for (const d of list) if (!seen.has(d.hex)) seen.set(d.hex, d);
  return [...seen.values()];
}

/** The 12-hex short key of a digest. */
export const shortKeyOf = (hex: string): string => hex.slice(0, 12);

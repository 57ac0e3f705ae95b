// The interop matrix's evidence: every e2e test that runs a real verifier against something chainsmith signed records
// the cell it proves here (one JSON line per cell in $STACK_DIR/interop/results.jsonl). e2e/interop/matrix.ts renders
// the table of docs/compatibility.md from these lines, and e2e/interop/zz-matrix.e2e.ts (run last by e2e/run.sh)
// fails when the table in the docs says something this run did not show.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stackEnv } from './env.js';

export const PAYLOADS = ['simplesigning', 'SLSA v0.2', 'SLSA v1.0'] as const;
export const ENCODINGS = ['tags', 'referrers'] as const;
export const SIGNERS = ['key', 'KMS', 'keyless'] as const;
export const VERIFIERS = [
  'cosign v2',
  'cosign v3',
  'Kyverno ClusterPolicy',
  'Kyverno ImageValidatingPolicy',
  'chainsmith verify',
] as const;
/** The negative cases every verifier must deny. */
export const NEGATIVES = ['wrong key', 'wrong builder.id', 'unsigned image', 'tampered layer'] as const;

export type Payload = (typeof PAYLOADS)[number];
export type Encoding = (typeof ENCODINGS)[number];
export type SignerKind = (typeof SIGNERS)[number];
export type Verifier = (typeof VERIFIERS)[number];
export type Negative = (typeof NEGATIVES)[number];

/** One output of chainsmith: what was signed, how it is stored, and with what. */
export interface Output {
  payload: Payload;
  encoding: Encoding;
  signer: SignerKind;
}

/** `pass`/`fail` for a verifier that ran; `n/a` (with the reason in `note`) for a verifier that cannot read it. */
export type CellResult = 'pass' | 'fail' | 'n/a';

export interface CellRecord {
  kind: 'cell';
  output: Output;
  verifier: Verifier;
  result: CellResult;
  /** the test that shows it: `<file> › <test name>` */
  test: string;
  note?: string;
}

export interface NegativeRecord {
  kind: 'negative';
  case: Negative;
  verifier: Verifier;
  /** `denied` is what must happen */
  result: 'denied' | 'accepted';
  test: string;
  note?: string;
}

export type InteropRecord = CellRecord | NegativeRecord;

/** Where this stack's results go (a fresh stack starts with none). */
export function resultsFile(): string {
  return join(process.env.INTEROP_RESULTS_DIR ?? join(stackEnv().stackDir, 'interop'), 'results.jsonl');
}

function append(record: InteropRecord): void {
  const file = resultsFile();
  mkdirSync(join(file, '..'), { recursive: true });
  appendFileSync(file, JSON.stringify(record) + '\n');
}

/** Records the cell `output × verifier` (call it after the assertion that proves it, so a failed test records nothing
 * as `pass`). */
export function recordCell(output: Output, verifier: Verifier, result: CellResult, test: string, note?: string): void {
  append({ kind: 'cell', output, verifier, result, test, ...(note ? { note } : {}) });
}

/** Records a negative case for a verifier. */
export function recordNegative(
  negative: Negative,
  verifier: Verifier,
  result: 'denied' | 'accepted',
  test: string,
  note?: string,
): void {
  append({ kind: 'negative', case: negative, verifier, result, test, ...(note ? { note } : {}) });
}

/** Every record of this stack's runs (later records of the same cell win). */
export function readResults(file = resultsFile()): InteropRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as InteropRecord);
}

/** Forgets earlier results (e2e/run.sh does this at the start of a full run). */
export function clearResults(file = resultsFile()): void {
  rmSync(file, { force: true });
}

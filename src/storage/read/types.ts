// The reading seam: what one storage backend holds for one run, read back as it was stored, so that `verify-run` and
// `audit` check every backend with the same code (src/verify/run-entries.ts). A reader only finds and decodes; it
// never decides whether a signature is valid. Which stored statement belongs to the run is the verifier's rule,
// handed in as `ownsStatement` (a lower layer never imports verify/).
import type { StorageName } from '../../config/types.js';
import type { Run } from '../../tekton/types.js';

/** One stored signature: `payload` is what was signed, `signature` the DSSE envelope JSON or the raw signature. */
export interface StoredSignature {
  /** `taskrun-<uid>`, `pipelinerun-<uid>`, or the first 12 hex of an image digest */
  shortKey: string;
  payload: Buffer;
  signature: Buffer;
  /** PEM, when one was stored (keyless) */
  cert?: string;
  chain?: string;
  /** where it was read: an annotation, an object, a document, a record, a gitoid */
  where: string;
  /** the entry is there but incomplete (e.g. the signature annotation is missing): what is missing */
  problem?: string;
}

/** What a reader is asked. */
export interface ReadContext {
  /**
   * True when a signed statement (the bytes of an in-toto statement) is this run's provenance. Backends that are
   * searched rather than addressed (kafka, archivista, grafeas) keep only such attestations.
   */
  ownsStatement(statement: Buffer): boolean;
}

/** Reads back what one backend stored for a run. */
export interface StoredReader {
  readonly name: Exclude<StorageName, 'oci'>;
  /** where it reads, for reports (bucket, collection, topic, server; never a credential) */
  readonly location: string;
  /** Every stored signature of the run (empty: nothing stored); throws a ChainsmithError when it cannot read. */
  read(run: Run, ctx: ReadContext): Promise<StoredSignature[]>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** The backends a reader exists for (`oci` is read by `chainsmith verify IMAGE`). */
export const READABLE_BACKENDS = ['tekton', 'gcs', 'docdb', 'grafeas', 'kafka', 'archivista'] as const;
export type ReadableBackend = (typeof READABLE_BACKENDS)[number];

/** `<kind>-<uid>`: the short key of the run's own provenance. */
export function ownShortKey(run: Run): string {
  return `${run.kind.toLowerCase()}-${run.metadata.uid ?? ''}`;
}

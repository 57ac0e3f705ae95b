// A payload format turns a run (and what was extracted from it) into the bytes that get signed.
import type { ChainsConfig } from '../config/types.js';
import type { FormatInput } from '../artifacts/types.js';

export type { FormatInput };

/** A payload ready to sign: the exact bytes, and the in-toto predicate type when it is a statement. */
export interface Payload {
  /** the serialised statement or simplesigning JSON — these bytes are signed and stored */
  bytes: Buffer;
  /** `application/vnd.in-toto+json` for statements (DSSE-wrapped), `simplesigning` otherwise */
  kind: 'in-toto' | 'simplesigning';
  /** predicateType of an in-toto statement, e.g. `https://slsa.dev/provenance/v0.2` */
  predicateType?: string;
  /** subjects of an in-toto statement (OCI storage attaches to each) */
  subjects?: Array<{ name: string; digest: Record<string, string> }>;
}

/** One registered format. */
export interface PayloadFormat {
  readonly name: string;
  createPayload(input: FormatInput, config: ChainsConfig): Payload;
}

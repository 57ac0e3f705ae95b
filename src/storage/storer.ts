// The storage seam: a backend stores one signed payload for one object (a run or an image).
import type { Run } from '../tekton/types.js';
import type { Payload } from '../formats/types.js';
import type { SignedPayload } from '../signing/signer.js';
import type { ChainsConfig } from '../config/types.js';
import type { TlogEntry } from '../sigstore/rekor.js';

/** Everything a backend needs to store one signature. */
export interface StoreRequest {
  run: Run;
  payload: Payload;
  signed: SignedPayload;
  /** `taskrun-<uid>`, `pipelinerun-<uid>`, or the first 12 hex of an image digest (spec §1.6) */
  shortKey: string;
  /** `tekton.dev-v1-TaskRun-<uid>` or `repo@sha256:hex` */
  fullKey: string;
  config: ChainsConfig;
  /** the transparency-log entry of this signature, when it was uploaded (stored as the cosign bundle) */
  tlogEntry?: TlogEntry;
}

/** One storage backend (`tekton`, `oci`, ...). Must be idempotent: a retry stores again. */
export interface Storer {
  readonly name: string;
  /**
   * Stores the payload; throws a ChainsmithError with a reason on failure. May return annotations to add to the run.
   */
  store(req: StoreRequest): Promise<StoreResult>;
  /**
   * The backend's own chains-config keys this instance was built from, serialised: `buildStorers` keeps an instance
   * whose settings did not change, so an unrelated config change does not reconnect it.
   */
  readonly settings?: string;
  /** Releases clients and connections once stores in flight have finished; called when a config replaces it. */
  close?(): Promise<void>;
}

export interface StoreResult {
  /** annotations (all `chains.tekton.dev/` prefixed) to write on the run when it is marked */
  annotations?: Record<string, string>;
  /** things the backend deliberately did not store (e.g. non-OCI subjects in `oci`), for logs/Events */
  notes?: string[];
}

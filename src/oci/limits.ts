// Bounds on the work one registry answer can cause (issue 15). Every registry read is capped while it streams,
// every request has an idle and a total deadline, and one store or verify operation has a deadline of its own
// so several slow requests cannot add up without bound. The controller's OCI store and `chainsmith verify` both
// use these. docs/reliability.md lists them.
import { ChainsmithError } from '../errors.js';

/** Largest manifest or index we read: distribution's default maximum manifest size (4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest blob we read (signature payloads, DSSE envelopes, sigstore bundles). */
export const MAX_BLOB_BYTES = 16 * 1024 * 1024;
/** Error bodies (4xx/5xx) are read up to this size for their message; the rest is discarded. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Largest token-endpoint answer we read. */
export const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;
/** Most layers a manifest we read may list (cosign's own `maxLayers` for signature images). */
export const MAX_MANIFEST_LAYERS = 1000;
/** Most entries an image index or referrers index we read may list. */
export const MAX_INDEX_MANIFESTS = 1000;
/** A request fails when its connection sends or receives nothing for this long (connect, headers or body). */
export const REQUEST_IDLE_TIMEOUT_MS = 30_000;
/** A request fails when it has not completed, body included, after this long. */
export const REQUEST_TOTAL_TIMEOUT_MS = 60_000;
/** One store (all images of one payload) or one `verify` gives up after this long, retries and requests included. */
export const OPERATION_DEADLINE_MS = 120_000;

/** A point in time after which an operation's registry work stops; shared by every client of that operation. */
export class Deadline {
  private readonly at: number;

  constructor(
    readonly budgetMs: number = OPERATION_DEADLINE_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.at = now() + budgetMs;
  }

  /** Milliseconds left (0 when passed). */
  remaining(): number {
    return Math.max(0, this.at - this.now());
  }

  /** Throws a transient RegistryUnavailable naming `where` when the deadline has passed. */
  check(where: string): void {
    if (this.remaining() > 0) return;
    const seconds = Math.round(this.budgetMs / 1000);
    throw new ChainsmithError('RegistryUnavailable', `${where}: gave up after the operation deadline of ${seconds} s`, {
      transient: true,
    });
  }
}

// A failure with a stable, machine-readable reason. The controller turns the reason into
// a Kubernetes Event reason, a metric label and a log field (conventions.md: "Errors carry a stable reason").

/** Stable reasons used across chainsmith. Add new ones here, never inline strings elsewhere. */
export type Reason =
  | 'NoArtifacts'
  | 'InvalidResult'
  | 'InvalidDigest'
  | 'InvalidReference'
  | 'InvalidRun'
  | 'InvalidName'
  | 'InvalidConfig'
  | 'KeyNotFound'
  | 'KeyDecryptFailed'
  | 'KeyUnsupported'
  | 'SigningFailed'
  | 'PayloadFailed'
  | 'StorageFailed'
  | 'TransparencyFailed'
  | 'KeylessFailed'
  | 'RegistryUnauthorized'
  | 'RegistryForbidden'
  | 'RegistryNotFound'
  | 'RegistryUnavailable'
  | 'RegistryError'
  | 'KmsUnavailable'
  | 'KmsPermissionDenied'
  | 'KmsKeyNotFound'
  | 'KmsKeyUnsupported'
  | 'KmsError'
  | 'ChildRunMissing'
  | 'ApiConflict'
  | 'ApiError'
  | 'PolicyConflict'
  | 'PolicyRefused';

/** An error that carries a stable reason and whether retrying may help. */
export class ChainsmithError extends Error {
  readonly reason: Reason;
  /** true when the same operation may succeed later (network, 5xx, 429, conflicts). */
  readonly transient: boolean;

  constructor(reason: Reason, message: string, options: { transient?: boolean; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ChainsmithError';
    this.reason = reason;
    this.transient = options.transient ?? false;
  }
}

/** The reason of any thrown value (ChainsmithError's own, else the fallback). */
export function reasonOf(err: unknown, fallback: Reason): Reason {
  return err instanceof ChainsmithError ? err.reason : fallback;
}

/** A one-line message for any thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

// The `--from BACKEND` flag of `verify-run` and `audit`: which storage backend to read signatures back from, the
// cluster's chains-config that says where that backend is, and the errors a user sees when it says nothing.
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError, messageOf } from '../errors.js';
import { redactCredentials } from '../storage/backend-errors.js';
import { openReader, READABLE_BACKENDS, type ReadableBackend, type StoredReader } from '../storage/read/index.js';
import { escapeTerminal as e } from '../text/terminal.js';
import { CliError } from './errors.js';

export const FROM_CHOICES = [...READABLE_BACKENDS, 'all'] as const;
export type FromChoice = (typeof FROM_CHOICES)[number];

/** The --from value, checked (exit 2 on an unknown backend). */
export function parseFrom(value: string | undefined, allowAll: true): FromChoice;
export function parseFrom(value: string | undefined, allowAll: false): ReadableBackend;
export function parseFrom(value: string | undefined, allowAll: boolean): FromChoice {
  const v = (value ?? 'tekton').trim().toLowerCase();
  const choices: readonly string[] = allowAll ? FROM_CHOICES : READABLE_BACKENDS;
  if (!choices.includes(v))
    throw new CliError(
      `--from "${e(value ?? '')}" is not a backend chainsmith reads back from; use one of ${choices.join(', ')}` +
        (v === 'oci' ? ' (signatures in a registry are read by `chainsmith verify IMAGE`)' : ''),
    );
  return v as FromChoice;
}

/** The system namespace of --system-namespace, else $SYSTEM_NAMESPACE, else tekton-chains (as the controller). */
export function systemNamespaceOf(flag: string | undefined): string {
  return flag ?? process.env.SYSTEM_NAMESPACE ?? 'tekton-chains';
}

/**
 * The reader of `backend` under the cluster's chains-config; exit 1 with what chains-config lacks when it does not
 * say where the backend is (`configNote`: why the defaults are in use, when they are).
 */
export function readerFor(
  backend: ReadableBackend,
  config: ChainsConfig,
  systemNamespace: string,
  configNote?: string,
): StoredReader {
  try {
    return openReader(backend, config);
  } catch (err) {
    const why = err instanceof ChainsmithError ? err.message : messageOf(err);
    throw new CliError(
      `${backend} is not configured in chains-config (namespace ${e(systemNamespace)}): ${e(redactCredentials(why))}` +
        (configNote ? ` (${e(configNote)})` : ''),
      1,
    );
  }
}

/** The one-line reason a reader could not read: the server and what it said, never a credential. */
export function readFailure(reader: StoredReader, err: unknown): string {
  return `cannot read from ${reader.name} (${e(reader.location)}): ${e(redactCredentials(messageOf(err)))}`;
}

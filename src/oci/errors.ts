// Registry failures as ChainsmithErrors whose message names registry, repository, operation and HTTP status.
import { ChainsmithError, type Reason } from '../errors.js';
import { escapeTerminal } from '../text/terminal.js';
import type { HttpResponse } from './transport.js';

/** Where a failure happened, for messages. */
export interface RegistryOperation {
  registry: string;
  repository: string;
  /** e.g. `PUT manifest sha256-abc.sig` */
  what: string;
  /** where the credential sent came from (never the credential), named when the registry refuses it */
  credentialSource?: string;
}

function where(op: RegistryOperation): string {
  return `registry ${op.registry}, repository ${op.repository || '(none)'}: ${op.what}`;
}

// distribution returns `{"errors":[{"code":"…","message":"…"}]}`; the first code/message helps the operator.
function registryDetail(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    const e = parsed.errors?.[0];
    // The registry's words reach Events, logs and terminals: control characters are escaped.
    const words = [e?.code, e?.message].filter((x) => typeof x === 'string' && x !== '');
    if (e) return escapeTerminal(` (${words.join(': ')})`.slice(0, 300));
  } catch {
    // not JSON: no detail
  }
  return '';
}

/** The reason for an HTTP status. */
export function reasonForStatus(status: number): Reason {
  if (status === 401) return 'RegistryUnauthorized';
  if (status === 403) return 'RegistryForbidden';
  if (status === 404) return 'RegistryNotFound';
  if (status === 429 || status === 408 || status >= 500) return 'RegistryUnavailable';
  return 'RegistryError';
}

/** An error for an unexpected HTTP response. */
export function statusError(op: RegistryOperation, res: HttpResponse, attempts = 1): ChainsmithError {
  const reason = reasonForStatus(res.status);
  const after = attempts > 1 ? ` after ${attempts} attempts` : '';
  const status = `HTTP ${res.status} ${escapeTerminal(res.statusText.slice(0, 100))}`.trimEnd();
  const refused = (res.status === 401 || res.status === 403) && op.credentialSource !== undefined;
  const credentials = refused ? `; credentials: ${op.credentialSource}` : '';
  return new ChainsmithError(reason, `${where(op)}: ${status}` + registryDetail(res.body) + after + credentials, {
    transient: reason === 'RegistryUnavailable',
  });
}

/** An error for a request that never got a response (connection refused, DNS, TLS, timeout). */
export function networkError(op: RegistryOperation, err: unknown, attempts: number): ChainsmithError {
  const code = (err as { code?: string } | undefined)?.code;
  const msg = err instanceof Error ? err.message : String(err);
  const after = attempts > 1 ? ` after ${attempts} attempts` : '';
  return new ChainsmithError(
    'RegistryUnavailable',
    `${where(op)}: unreachable (${code ? `${code}: ` : ''}${msg})${after}`,
    {
      transient: true,
      cause: err,
    },
  );
}

/** An error for a response that arrived but makes no sense (bad digest, bad JSON). */
export function protocolError(op: RegistryOperation, detail: string): ChainsmithError {
  return new ChainsmithError('RegistryError', `${where(op)}: ${detail}`);
}

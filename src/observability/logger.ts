// JSON logs (winston), one line per event, with the run's namespace/name/uid as fields so logs can be
// filtered per run. Nothing that reaches a logger may carry key material, passwords or tokens.
import winston from 'winston';
import { escapeJsonText } from '../text/terminal.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** where lines go; defaults to stdout */
  stream?: NodeJS.WritableStream;
  /** fields on every line, e.g. `{ component: 'controller' }` */
  defaultMeta?: Record<string, unknown>;
}

/** Creates the process logger: JSON lines with `timestamp`, `level`, `message` and structured fields. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const transport = opts.stream
    ? new winston.transports.Stream({ stream: opts.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: opts.level ?? 'info',
    format: winston.format.combine(
      winston.format.timestamp(),
      redactSecrets(),
      winston.format.json(),
      escapeInvisibles(),
    ),
    defaultMeta: opts.defaultMeta,
    transports: [transport],
  });
}

const SECRET_KEYS = /password|passphrase|token|secret|private|authorization/i;
/** How deep nested log fields are walked for secrets; deeper values are replaced, not logged unchecked. */
export const MAX_LOG_FIELD_DEPTH = 8;

// Secrets that can ride inside a message (an error from an API server, a registry, a plugin's stderr, a stack):
// credentials in HTTP auth schemes, JWTs (ServiceAccount and OIDC tokens), PEM private keys, `key: value` and
// `key=value` pairs with a secret-looking key (cosign.password, token, …), and user:password@ in URLs.
// Each pattern starts only where its prefix class ends (lookbehind, not \b), so a hostile message cannot make
// them backtrack quadratically.
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [
    /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    '[redacted $1private key]',
  ],
  [/(?<![A-Za-z0-9])(Bearer|Basic|Negotiate)(\s+)[A-Za-z0-9._~+/=-]+/gi, '$1$2[redacted]'],
  [/(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted JWT]'],
  [
    new RegExp(
      `(password|passphrase|passwd|secret|token|api[-_]?key|authorization)(["']?\\s*[:=]\\s*["']?)` +
        `(?!\\[redacted|(?:Bearer|Basic|Negotiate)\\s)[^\\s"',;&]+`,
      'gi',
    ),
    '$1$2[redacted]',
  ],
  [/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, '$1[redacted]@'],
];

/** Removes obvious secrets from free text (log messages and string fields). */
export function redactText(s: string): string {
  let out = s;
  for (const [re, to] of SECRET_PATTERNS) out = out.replace(re, to);
  return out;
}

function redactValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return redactText(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_LOG_FIELD_DEPTH) return '[nested too deep]';
  if (v instanceof Error) return redactText(v.message);
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  // a copy: the caller's object is not changed by being logged
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redactValue(x, depth + 1);
  return out;
}

/**
 * Drops fields whose names suggest secrets, at any depth, and secret-looking text inside messages — a last
 * line of defence, not a licence to log them.
 */
const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    info[key] = SECRET_KEYS.test(key) ? '[redacted]' : redactValue(info[key], 0);
  }
  return info;
});

const MESSAGE = Symbol.for('message');
// JSON escapes only C0 controls: DEL, C1 controls (e.g. U+009B, a one-byte CSI), bidi overrides and line
// separators would reach a terminal running `kubectl logs` raw; escapeJsonText keeps the line the same JSON value.
const escapeInvisibles = winston.format((info) => {
  const line = (info as unknown as Record<symbol, unknown>)[MESSAGE];
  if (typeof line === 'string') (info as unknown as Record<symbol, unknown>)[MESSAGE] = escapeJsonText(line);
  return info;
});

/** The log fields that identify a run. */
export function runFields(run: {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
}): Record<string, string> {
  return {
    kind: run.kind ?? '',
    namespace: run.namespace ?? '',
    name: run.name ?? '',
    uid: run.uid ?? '',
  };
}

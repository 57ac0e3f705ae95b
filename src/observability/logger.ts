// JSON logs (winston), one line per event, with the run's namespace/name/uid as fields so logs can be
// filtered per run. Nothing that reaches a logger may carry key material, passwords or tokens.
import winston from 'winston';

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
    format: winston.format.combine(winston.format.timestamp(), redactSecrets(), winston.format.json()),
    defaultMeta: opts.defaultMeta,
    transports: [transport],
  });
}

const SECRET_KEYS = /password|passphrase|token|secret|private|authorization/i;

/** Drops fields whose names suggest secrets — a last line of defence, not a licence to log them. */
const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
  }
  return info;
});

/** The log fields that identify a run. */
export function runFields(run: { kind?: string; namespace?: string; name?: string; uid?: string }): Record<string, string> {
  return {
    kind: run.kind ?? '',
    namespace: run.namespace ?? '',
    name: run.name ?? '',
    uid: run.uid ?? '',
  };
}

// Errors a command reports as one line on stderr with an exit code, never a stack trace.

/** Bad input (unreadable file, wrong kind, invalid config): exit code 2 by convention. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

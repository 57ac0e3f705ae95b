// Docker credential helpers (`credHelpers` / `credsStore` of the controller's docker config): the program
// `docker-credential-<name>` on PATH, run as `get` with the server on stdin, answering
// `{"ServerURL","Username","Secret"}` on stdout (the docker-credential-helpers protocol).
import { execFile } from 'node:child_process';
import { ChainsmithError } from '../errors.js';
import { escapeTerminal } from '../text/terminal.js';
import type { CredentialHelperGet } from './keychain.js';

/** What a helper may print before it is cut off, and how long it may take. */
const MAX_OUTPUT_BYTES = 64 * 1024;
const TIMEOUT_MS = 30_000;

// docker-credential-helpers' "not found" message (credentials.errCredentialsNotFound)
const NOT_FOUND = /credentials not found in native keychain/i;

/** `docker-credential-<helper> get` for `serverUrl`; undefined when the helper has nothing for it. */
export const runCredentialHelper: CredentialHelperGet = (helper, serverUrl) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper))
    return Promise.reject(
      new ChainsmithError('InvalidConfig', `credential helper name ${JSON.stringify(helper)} is not a program name`),
    );
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      ['get'],
      { timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const said = `${stdout}${stderr}`;
          if (NOT_FOUND.test(said)) return resolve(undefined);
          const code = (err as NodeJS.ErrnoException).code;
          // only the helper's first line, which is its message; never its output in general (it may hold a secret)
          const detail =
            code === 'ENOENT'
              ? `${program} is not on PATH`
              : err.killed
                ? `${program} did not answer within ${TIMEOUT_MS / 1000} s`
                : `${program} failed: ${escapeTerminal(firstLine(stderr) || `exit ${String(code)}`).slice(0, 200)}`;
          return reject(
            new ChainsmithError('RegistryUnauthorized', `credential helper: ${detail}`, { transient: false }),
          );
        }
        try {
          const out = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
          if (typeof out.Secret !== 'string' || out.Secret === '') return resolve(undefined);
          resolve({ username: typeof out.Username === 'string' ? out.Username : '', secret: out.Secret });
        } catch {
          reject(new ChainsmithError('RegistryUnauthorized', `credential helper: ${program} printed no JSON answer`));
        }
      },
    );
    // a helper that exits without reading stdin must not crash the process with EPIPE: its exit says what went wrong
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(serverUrl);
  });
};

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

// Reading the small files a kubeconfig names (the kubeconfig itself, CA and client certificates, token files):
// regular files only, with a size cap, so a FIFO cannot block the CLI forever and /dev/zero or a huge file
// cannot exhaust memory (issue 15). Opened non-blocking: opening a FIFO for reading would otherwise wait for
// a writer before fstat could tell what it is.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { escapeTerminal } from '../text/terminal.js';

/** Largest kubeconfig file read (a merged config with hundreds of contexts and embedded CAs is a few MiB). */
export const MAX_KUBECONFIG_BYTES = 8 * 1024 * 1024;
/** Largest file a kubeconfig or the ServiceAccount mount names: CA bundle, client certificate/key, token file. */
export const MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024;

const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;
const CHUNK = 64 * 1024;

/** A file that cannot be read as asked: missing, not a regular file, or too large. `code` is the errno, if any. */
export class FileReadError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

/** Reads a regular file of at most `max` bytes; `what` names it in errors ("kubeconfig", "client-key" …). */
export function readBoundedFileSync(path: string, max: number, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (err) {
    throw ioError(err, what, path);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(what, path);
    if (st.size > max) throw tooLarge(what, path, max);
    // the size can change between fstat and read (and some files report 0): read until EOF, at most max + 1
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(CHUNK);
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > max) throw tooLarge(what, path, max);
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    throw err instanceof FileReadError ? err : ioError(err, what, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * The form the controller awaits when it re-reads a token file. The files are small (MAX_CREDENTIAL_FILE_BYTES) and
 * opened non-blocking, so the synchronous read is brief, and one implementation keeps the checks in one place.
 */
export async function readBoundedFile(path: string, max: number, what: string): Promise<Buffer> {
  return readBoundedFileSync(path, max, what);
}

function notRegular(what: string, path: string): FileReadError {
  return new FileReadError(`${what} ${escapeTerminal(path)} is not a regular file (a directory, FIFO or device)`);
}

function tooLarge(what: string, path: string, max: number): FileReadError {
  return new FileReadError(`${what} ${escapeTerminal(path)} is larger than ${max} bytes`);
}

// Node's message already names the path; keep only its first line (never file content: none was read)
function ioError(err: unknown, what: string, path: string): FileReadError {
  const e = err as NodeJS.ErrnoException;
  const why =
    e.code === 'ENOENT'
      ? 'does not exist'
      : e.code === 'EACCES'
        ? 'is not readable (permission denied)'
        : escapeTerminal(String(e.message).split('\n')[0]!);
  return new FileReadError(`cannot read ${what} ${escapeTerminal(path)}: ${why}`, e.code);
}

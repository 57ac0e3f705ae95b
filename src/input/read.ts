// Bounded reading of untrusted input files (run files, chains-config files, keys …) and of stdin.
// A FIFO, socket, device or directory is refused before anything blocks on it, and no more than
// MAX_INPUT_BYTES are ever read, so `/dev/urandom`, a growing file or an endless pipe cannot take memory.
// A low layer: it imports only errors.ts and text/, so every other module can use it.
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { ChainsmithError, type Reason } from '../errors.js';
import { escapeTerminal } from '../text/terminal.js';

/** Largest input chainsmith reads from a file or stdin: 16 MiB, ten times the API server's 1.5 MiB object limit. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

const CHUNK_BYTES = 64 * 1024;

export interface ReadInputOptions {
  /** the reason of the ChainsmithError thrown on failure (InvalidRun for run files, InvalidConfig for configs …) */
  reason: Reason;
  /** the cap; defaults to MAX_INPUT_BYTES */
  maxBytes?: number;
  /** what `-` reads; defaults to process.stdin (tests pass their own stream) */
  stdin?: AsyncIterable<Buffer | string> & { destroy?: () => void };
}

/** Why a file is not something chainsmith reads, or undefined for a regular file. */
function specialKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'it is a directory';
  if (st.isFIFO()) return 'it is a FIFO (named pipe), not a regular file';
  if (st.isSocket()) return 'it is a socket, not a regular file';
  if (st.isCharacterDevice()) return 'it is a character device, not a regular file';
  if (st.isBlockDevice()) return 'it is a block device, not a regular file';
  return 'it is not a regular file';
}

function describeErrno(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** How a path is named in messages: escaped, since file names may hold control characters. */
export function displayPath(pathOrDash: string): string {
  return pathOrDash === '-' ? 'stdin' : escapeTerminal(pathOrDash);
}

function tooLarge(name: string, maxBytes: number, reason: Reason): ChainsmithError {
  const limit = formatBytes(maxBytes);
  return new ChainsmithError(reason, `cannot read ${name}: it is larger than ${limit} (the input limit)`);
}

/** `16 MiB`, `1.5 MiB`, `512 KiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Number((n / (1024 * 1024)).toFixed(1))} MiB`;
  if (n >= 1024) return `${Number((n / 1024).toFixed(1))} KiB`;
  return `${n} bytes`;
}

async function readCapped(fh: FileHandle, name: string, maxBytes: number, reason: Reason): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    total += bytesRead;
    // a file that grows while it is read stops here too
    if (total > maxBytes) throw tooLarge(name, maxBytes, reason);
    chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
  }
  return Buffer.concat(chunks, total);
}

type InputStream = NonNullable<ReadInputOptions['stdin']>;

async function readStream(stream: InputStream, maxBytes: number, reason: Reason): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += b.length;
      if (total > maxBytes) {
        // stop reading: an endless producer (`/dev/urandom`, `yes`) must not keep the process alive
        stream.destroy?.();
        throw tooLarge('stdin', maxBytes, reason);
      }
      chunks.push(b);
    }
  } catch (err) {
    if (err instanceof ChainsmithError) throw err;
    throw new ChainsmithError(reason, `cannot read stdin: ${describeErrno(err)}`, { cause: err });
  }
  return Buffer.concat(chunks, total);
}

/**
 * Reads a file (or stdin for `-`) as bytes, at most `maxBytes` (MAX_INPUT_BYTES). Refuses directories, FIFOs,
 * sockets and devices without blocking on them. Throws ChainsmithError(opts.reason) with a one-line message
 * naming the file: `cannot read <file>: <why>`.
 */
export async function readInputBytes(pathOrDash: string, opts: ReadInputOptions): Promise<Buffer> {
  const maxBytes = opts.maxBytes ?? MAX_INPUT_BYTES;
  const { reason } = opts;
  if (pathOrDash === '-') return readStream(opts.stdin ?? (process.stdin as InputStream), maxBytes, reason);
  const name = displayPath(pathOrDash);
  const fail = (why: string, cause?: unknown) =>
    new ChainsmithError(reason, `cannot read ${name}: ${why}`, cause ? { cause } : {});
  let st: Stats;
  try {
    st = await stat(pathOrDash);
  } catch (err) {
    throw fail(describeErrno(err), err);
  }
  // Checked before open: opening a FIFO for reading blocks until a writer appears.
  const special = specialKind(st);
  if (special) throw fail(special);
  if (st.size > maxBytes) throw tooLarge(name, maxBytes, reason);
  let fh: FileHandle;
  try {
    // O_NONBLOCK: should the path be swapped for a FIFO after the stat above, open still returns at once.
    fh = await open(pathOrDash, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw fail(describeErrno(err), err);
  }
  try {
    const again = specialKind(await fh.stat());
    if (again) throw fail(again);
    return await readCapped(fh, name, maxBytes, reason);
  } catch (err) {
    if (err instanceof ChainsmithError) throw err;
    throw fail(describeErrno(err), err);
  } finally {
    await fh.close();
  }
}

/** readInputBytes decoded as UTF-8 (invalid sequences become U+FFFD, as `readFile(path, 'utf8')` does). */
export async function readInputText(pathOrDash: string, opts: ReadInputOptions): Promise<string> {
  return (await readInputBytes(pathOrDash, opts)).toString('utf8');
}

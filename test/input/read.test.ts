// Reading untrusted input files: special files are refused without blocking, sizes are capped (files and stdin),
// and every failure is one line naming the file, through the commands that read files (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainsmithError } from '../../src/errors.js';
import { MAX_INPUT_BYTES, readInputBytes } from '../../src/input/read.js';
import { runCli } from '../artifacts/cli-capture.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chainsmith-input-'));

/** exit 2, one line on stderr that names the file and matches `why`, nothing on stdout */
function refused(r: { code: number; stdout: string; stderr: string }, file: string, why: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.includes(file), `names ${file}: ${lines[0]}`);
  assert.match(lines[0]!, why);
}

test('a FIFO is refused at once by provenance, artifacts, config check (it blocked)', { timeout: 20_000 }, async () => {
  const fifo = join(dir, 'run.fifo');
  execFileSync('mkfifo', [fifo]);
  refused(await runCli(['provenance', fifo]), fifo, /FIFO/);
  refused(await runCli(['artifacts', fifo]), fifo, /FIFO/);
  refused(await runCli(['config', 'check', fifo]), fifo, /FIFO/);
  refused(await runCli(['artifacts', '--config', fifo, fifo]), fifo, /FIFO/);
});

test('sockets, devices and directories are refused, naming what they are', { timeout: 20_000 }, async () => {
  const sock = join(dir, 'run.sock');
  const server = createServer().listen(sock);
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    refused(await runCli(['provenance', sock]), sock, /socket/);
  } finally {
    server.close();
  }
  refused(await runCli(['provenance', '/dev/zero']), '/dev/zero', /character device/);
  refused(await runCli(['config', 'check', '/dev/urandom']), '/dev/urandom', /character device/);
  refused(await runCli(['artifacts', dir]), dir, /directory/);
});

test('a file larger than 16 MiB is refused before it is read', async () => {
  const big = join(dir, 'big.json');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, MAX_INPUT_BYTES + 1); // sparse: costs no disk
  closeSync(fd);
  refused(await runCli(['provenance', big]), big, /larger than 16 MiB/);
  refused(await runCli(['config', 'check', big]), big, /larger than 16 MiB/);
  const small = join(dir, 'small.yaml');
  writeFileSync(small, 'a: b\n');
  const bytes = await readInputBytes(small, { reason: 'InvalidRun', maxBytes: 5 });
  assert.equal(bytes.toString(), 'a: b\n', 'exactly the limit is accepted');
  await assert.rejects(readInputBytes(small, { reason: 'InvalidRun', maxBytes: 4 }), /larger than 4 bytes/);
});

test('stdin is capped too: an endless producer is cut off at the limit and its stream destroyed', async () => {
  let destroyed = false;
  let produced = 0;
  const chunk = Buffer.alloc(1024 * 1024);
  const endless = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        produced += chunk.length;
        yield chunk;
      }
    },
    destroy() {
      destroyed = true;
    },
  };
  await assert.rejects(readInputBytes('-', { reason: 'InvalidConfig', stdin: endless }), (e: unknown) => {
    assert.ok(e instanceof ChainsmithError);
    assert.equal(e.reason, 'InvalidConfig');
    assert.match(e.message, /^cannot read stdin: it is larger than 16 MiB/);
    return true;
  });
  assert.ok(destroyed, 'the stream is destroyed');
  assert.ok(produced <= MAX_INPUT_BYTES + chunk.length, `read ${produced} bytes`);
});

test('`chainsmith provenance - < /dev/urandom` stops at 16 MiB with exit 2', { timeout: 60_000 }, async () => {
  const stdin = openSync('/dev/urandom', 'r');
  try {
    const args = ['--import', 'tsx', MAIN, 'provenance', '-'];
    const child = spawn(process.execPath, args, { stdio: [stdin, 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^chainsmith provenance: cannot read stdin: it is larger than 16 MiB/);
  } finally {
    closeSync(stdin);
  }
});

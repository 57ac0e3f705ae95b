// `payload` and `signature` print bytes that anyone who can edit the run wrote. On a terminal, control characters
// are shown escaped; redirected, the exact stored bytes come out (what `cosign verify-blob` needs).
// A loopback HTTP server stands in for the API server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../artifacts/cli-capture.js';

const EVIL = '{"note":"\u001b[2J\u001b[1;1HVERIFIED\u009b31m\u202e"}';
const run = {
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: {
    name: 'build-1',
    namespace: 'ci',
    uid: 'u-1',
    annotations: {
      'chains.tekton.dev/payload-taskrun-u-1': Buffer.from(EVIL).toString('base64'),
      'chains.tekton.dev/signature-taskrun-u-1': Buffer.from(`sig\u001b]0;title\u0007`).toString('base64'),
    },
  },
  spec: {},
};
const server = createServer((req, res) => {
  const found = req.url === '/apis/tekton.dev/v1/namespaces/ci/taskruns/build-1';
  res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(found ? run : { kind: 'Status', code: 404, message: 'not found' }));
});
let kubeconfig = '';

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'payload-out-')), 'config');
  writeFileSync(
    kubeconfig,
    `clusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}"}\n` +
      `contexts:\n- name: x\n  context: {cluster: c, user: u}\n` +
      `current-context: x\nusers:\n- name: u\n  user: {token: t}\n`,
  );
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Runs the command with stdout looking like a terminal (or not). */
async function withTty<T>(tty: boolean, fn: () => Promise<T>): Promise<T> {
  const before = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
  Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true });
  try {
    return await fn();
  } finally {
    if (before) Object.defineProperty(process.stdout, 'isTTY', before);
    else delete (process.stdout as { isTTY?: boolean }).isTTY;
  }
}

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

test('on a terminal, payload and signature show control characters escaped', async () => {
  for (const command of ['payload', 'signature']) {
    const r = await withTty(true, () => runCli([command, 'ci/build-1', '--kubeconfig', kubeconfig]));
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, RAW, command);
    assert.match(r.stdout, /\\x1b/, `${command}: shown as an escape`);
  }
});

test('redirected, payload prints the stored bytes exactly', async () => {
  let bytes: Buffer | undefined;
  const write = process.stdout.write.bind(process.stdout);
  // runCli captures strings; the payload is written as a Buffer (the test runner also reports in binary chunks)
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string' && Buffer.from(chunk).toString().startsWith('{"note"')) {
      bytes = Buffer.from(chunk);
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    const r = await withTty(false, () => runCli(['payload', 'ci/build-1', '--kubeconfig', kubeconfig]));
    assert.equal(r.code, 0, r.stderr);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(bytes?.toString(), EVIL);
});

test('--context picks the kubeconfig context (here: not the current, dead one); an unknown context is exit 2', async () => {
  const port = (server.address() as { port: number }).port;
  const file = join(mkdtempSync(join(tmpdir(), 'payload-ctx-')), 'config');
  writeFileSync(
    file,
    `clusters:\n- name: dead\n  cluster: {server: "http://127.0.0.1:1"}\n` +
      `- name: live\n  cluster: {server: "http://127.0.0.1:${port}"}\n` +
      `contexts:\n- name: old\n  context: {cluster: dead, user: u}\n- name: live\n  context: {cluster: live, user: u}\n` +
      `current-context: old\nusers:\n- name: u\n  user: {token: t}\n`,
  );
  const live = await withTty(true, () => runCli(['payload', 'ci/build-1', '--kubeconfig', file, '--context', 'live']));
  assert.equal(live.code, 0, live.stderr);
  const current = await withTty(true, () => runCli(['payload', 'ci/build-1', '--kubeconfig', file]));
  assert.notEqual(current.code, 0, 'the current context points at a dead server');
  const unknown = await withTty(true, () =>
    runCli(['payload', 'ci/build-1', '--kubeconfig', file, '--context', 'nope']),
  );
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no context "nope" \(contexts: old, live\)/);
});

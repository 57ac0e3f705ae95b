// A Rekor behind a private CA (docs/configuration.md `transparency.url`): the client trusts Node's roots plus
// NODE_EXTRA_CA_CERTS, read at process start, so each case runs the real RekorClient in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function uploadFrom(url: string, env: Record<string, string>): Promise<string> {
  const script = `
    import { RekorClient } from './src/sigstore/rekor.ts';
    const entry = { apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: {}, signature: {} } };
    try { await new RekorClient({ url: ${JSON.stringify(url)} }).upload(entry); console.log('uploaded'); }
    catch (err) { console.log(err.message); }`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
  });
  return stdout.trim();
}

test('a Rekor with a private CA is trusted through NODE_EXTRA_CA_CERTS, and refused without it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rekor-ca-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=private rekor', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem'),
    ], { stdio: 'ignore' }); // prettier-ignore
    const server = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.pem')) },
      (req, res) => {
        req.resume();
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":400,"message":"reached the log"}');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.match(
        await uploadFrom(url, { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }),
        /creating the entry: HTTP 400: reached the log/,
      );
      assert.match(await uploadFrom(url, {}), /POST failed: .*self[- ]signed certificate/i);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

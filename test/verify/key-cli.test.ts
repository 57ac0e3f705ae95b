// `verify` and `verify-run` as a user runs them: a weak key or an expired certificate is refused up front
// (exit 2, one line naming the file and the rule), before any registry or cluster is contacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chainsmith-key-cli-'));
const DAY = 86_400_000;
const now = new Date();

/** A self-signed RSA-2048 certificate that expired yesterday. */
function expiredCertificate(): string {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(now.getTime() - 10 * DAY);
  cert.validity.notAfter = new Date(now.getTime() - DAY);
  cert.setSubject([{ name: 'commonName', value: 'expired' }]);
  cert.setIssuer([{ name: 'commonName', value: 'expired' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

function chainsmith(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args],
      { cwd: root, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

test('verify and verify-run refuse an RSA-1024 key and an expired certificate: exit 2, one line, before any I/O', async () => {
  const weak = join(dir, 'rsa1024.pub');
  writeFileSync(
    weak,
    generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const expired = join(dir, 'expired.pem');
  writeFileSync(expired, expiredCertificate());
  // nothing listens on port 1: had the key been accepted, the command would fail later, differently
  const image = `127.0.0.1:1/app@sha256:${'a'.repeat(64)}`;
  for (const [args, file, rule] of [
    [['verify', '--key', weak, image], weak, /RSA key of 1024 bits is too small \(minimum 2048\)/],
    [['verify', '--key', expired, image], expired, /certificate expired at /],
    [
      ['verify-run', '--key', weak, '--kubeconfig', join(dir, 'none'), 'ns/run'],
      weak,
      /RSA key of 1024 bits is too small/,
    ],
  ] as const) {
    const r = await chainsmith(...args);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]!.includes(file), lines[0]);
    assert.match(lines[0]!, rule);
    assert.doesNotMatch(r.stderr, /BEGIN|at .*\.ts:\d+/);
  }
});

test('verify refuses an unreadable or weak --rekor-public-key with exit 2, before any I/O', async () => {
  const good = join(dir, 'good.pub');
  writeFileSync(
    good,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const weak = join(dir, 'rekor-rsa1024.pub');
  writeFileSync(
    weak,
    generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const image = `127.0.0.1:1/app@sha256:${'a'.repeat(64)}`;
  const missing = join(dir, 'no-such-rekor.pub');
  for (const [args, rule] of [
    [['verify', '--key', good, '--rekor-public-key', missing, image], /^chainsmith.*Rekor public key: .*no-such-rekor/],
    [['verify', '--key', good, '--rekor-public-key', weak, image], /Rekor public key: .*1024 bits is too small/],
  ] as const) {
    const r = await chainsmith(...args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, rule);
  }
});

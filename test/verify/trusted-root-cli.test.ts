// `verify --trusted-root FILE` as a user meets it: a file that cannot be read or is not a sigstore trusted root is
// bad input (exit 2, one line) before any registry is contacted; a trusted root satisfies keyless verification's
// need for a transparency log and gives the Fulcio roots. The root is the stack's, from the real fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chainsmith-trusted-root-cli-'));

function verify(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'verify', ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, SIGSTORE_ROOT_FILE: '', SIGSTORE_REKOR_PUBLIC_KEY: '', SIGSTORE_TRUSTED_ROOT: '' },
      },
      (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
    );
  });
}

test('a bad --trusted-root is bad input (exit 2), named in one line; a good one is accepted', async () => {
  const fixture = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'rekor-v2', 'bundles.json'), 'utf8')) as {
    trustedRoot: unknown;
  };
  const good = join(dir, 'trusted_root.json');
  writeFileSync(good, JSON.stringify(fixture.trustedRoot));
  const notJson = join(dir, 'not-json.json');
  writeFileSync(notJson, 'not json');
  const otherJson = join(dir, 'other.json');
  writeFileSync(otherJson, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }));
  const key = join(dir, 'cosign.pub');
  writeFileSync(
    key,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  // nothing listens on port 1: had the flags been accepted, the command would fail later, with exit 1
  const image = `127.0.0.1:1/app@sha256:${'a'.repeat(64)}`;
  const keyless = [
    '--certificate-identity',
    'https://kubernetes.io/namespaces/ci/serviceaccounts/builder',
    '--certificate-oidc-issuer',
    'https://127.0.0.1:6443',
  ];
  const cases: Array<[string[], RegExp]> = [
    [
      ['--key', key, '--trusted-root', join(dir, 'missing.json'), image],
      /--trusted-root: trusted root: .*missing\.json/,
    ],
    [['--key', key, '--trusted-root', notJson, image], /not-json\.json: not a trusted root: not JSON/],
    [['--key', key, '--trusted-root', otherJson, image], /other\.json: not a sigstore trusted root/],
    [['--key', key, '--trusted-root', '', image], /--trusted-root must not be empty/],
  ];
  for (const [args, message] of cases) {
    const r = await verify(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  for (const args of [
    ['--key', key, '--trusted-root', good, image],
    // keyless: no --rekor-public-key and no --fulcio-root needed, the trusted root has both
    [...keyless, '--trusted-root', good, image],
  ]) {
    const ok = await verify(args);
    assert.equal(ok.code, 1, `${args.join(' ')}: ${ok.stderr}`);
    assert.match(ok.stderr, /cannot read .* from its registry/);
  }
});

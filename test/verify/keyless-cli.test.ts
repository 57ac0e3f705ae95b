// `verify`'s keyless flags as a user meets them: cosign's names, one identity and one issuer flag, no --key/--kms
// beside them, the Fulcio roots and the transparency log required — each mistake is exit 2 with one line, before
// any registry is contacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testFulcio } from './fulcio-fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chainsmith-keyless-cli-'));
const FULCIO = testFulcio(new Date());

function verify(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'verify', ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, SIGSTORE_ROOT_FILE: '', SIGSTORE_REKOR_PUBLIC_KEY: '', ...env },
      },
      (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
    );
  });
}

test('keyless flag mistakes are bad input (exit 2), named in one line, before any I/O', async () => {
  const roots = join(dir, 'fulcio-root.pem');
  writeFileSync(roots, FULCIO.intermediate.pem + FULCIO.root.pem);
  const onlyIntermediate = join(dir, 'intermediate.pem');
  writeFileSync(onlyIntermediate, FULCIO.intermediate.pem);
  const rekor = join(dir, 'rekor.pub');
  writeFileSync(
    rekor,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const id = ['--certificate-identity', 'https://kubernetes.io/namespaces/ci/serviceaccounts/builder'];
  const iss = ['--certificate-oidc-issuer', 'https://127.0.0.1:6443'];
  // nothing listens on port 1: had the flags been accepted, the command would fail later, with exit 1
  const image = `127.0.0.1:1/app@sha256:${'a'.repeat(64)}`;
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [
      [...id, ...iss, '--key', rekor, image],
      /--certificate-identity is keyless verification: give it without --key\/--kms/,
    ],
    [
      [...iss, '--fulcio-root', roots, image],
      /exactly one of --certificate-identity and --certificate-identity-regexp/,
    ],
    [[...id, '--certificate-identity-regexp', '.*', ...iss, image], /exactly one of --certificate-identity and/],
    [[...id, image], /exactly one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp/],
    [
      [...id, '--certificate-oidc-issuer-regexp', '(', image],
      /--certificate-oidc-issuer-regexp: not a regular expression/,
    ],
    [[...id, ...iss, '--fulcio-root', roots, image], /keyless verification needs the transparency log/],
    [
      [...id, ...iss, '--rekor-public-key', rekor, image],
      /needs the Fulcio roots: give --fulcio-root FILE \(or \$SIGSTORE_ROOT_FILE\)/,
    ],
    [
      [...id, ...iss, '--rekor-public-key', rekor, '--fulcio-root', onlyIntermediate, image],
      /intermediate\.pem: no self-signed root/,
    ],
    [
      [...id, ...iss, '--rekor-public-key', rekor, '--fulcio-root', join(dir, 'missing.pem'), image],
      /Fulcio root: .*missing\.pem/,
    ],
  ];
  for (const [args, message, env] of cases) {
    const r = await verify(args, env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  // accepted flags (roots from $SIGSTORE_ROOT_FILE): the registry is then asked, and cannot be reached (exit 1)
  const ok = await verify([...id, ...iss, '--insecure-ignore-tlog', image], { SIGSTORE_ROOT_FILE: roots });
  assert.equal(ok.code, 1, ok.stderr);
  assert.match(ok.stderr, /cannot read .* from its registry/);
});

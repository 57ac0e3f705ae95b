// `chainsmith verify` keylessly, against what the real cosign v2 signs keylessly on the stack: an image signed
// (`cosign sign`) and attested (`cosign attest`, SLSA v0.2) with a ServiceAccount token through the stack's Fulcio,
// both logged in the stack's Rekor (cosign's `dev.sigstore.cosign/bundle` on the layers). The identity, the issuer,
// the Fulcio root and the Rekor key are pinned as a user pins them; a wrong identity, a wrong issuer or another root
// fails, naming the broken link; by the time the test checks, nothing depends on the certificate still being valid.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosign, runTool, type ToolOutcome } from './lib/cosign.js';
import { fulcioEnv, rekorEnv, stackEnv } from './lib/env.js';
import { createNamespace } from './lib/kube.js';
import { createServiceAccount, serviceAccountIdentity, serviceAccountToken } from './lib/identity.js';
import { pushRandomImage, type PushedImage } from './lib/registry.js';

const BUILDER = 'https://chainsmith.dev/builders/keyless-e2e';
const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

let ns: string;
let dir: string;
let image: PushedImage;

/** `chainsmith verify ARGS` with the stack's roots in the environment only when asked. */
function chainsmith(args: string[], env: Record<string, string> = {}): Promise<ToolOutcome> {
  const clean = { SIGSTORE_ROOT_FILE: '', SIGSTORE_REKOR_PUBLIC_KEY: '', ...env };
  return runTool(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'verify', ...args], clean);
}

/** The keyless flags of a user pinning `identity` and `issuer` against the stack's roots. */
function pinned(identity: string[], issuer: string[], root = fulcioEnv().root): string[] {
  return [...identity, ...issuer, '--fulcio-root', root, '--rekor-public-key', rekorEnv().publicKey];
}

before(async () => {
  const fulcio = fulcioEnv(); // fails the file at once with the add-on's reason when Fulcio is down
  const rekor = rekorEnv();
  ns = await createNamespace('keyless-verify');
  await createServiceAccount(ns, 'builder');
  dir = await mkdtemp(join(tmpdir(), 'chainsmith-keyless-verify-'));
  scratch.push(dir);
  image = await pushRandomImage(`${stackEnv().registry}/e2e/keyless-verify`);
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, await serviceAccountToken(ns, 'builder', 'sigstore'), { mode: 0o600 });
  const predicate = join(dir, 'predicate.json');
  await writeFile(
    predicate,
    JSON.stringify({ builder: { id: BUILDER }, buildType: 'https://tekton.dev/attestations/chains@v2' }),
  );
  // Local roots only (no TUF); no CT log, hence --insecure-skip-verify on signing.
  const env = { HOME: dir, SIGSTORE_ROOT_FILE: fulcio.root, SIGSTORE_REKOR_PUBLIC_KEY: rekor.publicKey };
  const common = ['--identity-token', tokenFile, '--fulcio-url', fulcio.url, '--rekor-url', rekor.url];
  const flags = [...common, '--insecure-skip-verify', '--allow-http-registry', '-y'];
  const signed = await cosign(['sign', ...flags, image.ref], env);
  assert.equal(signed.code, 0, signed.out);
  // prettier-ignore
  const attested = await cosign(['attest', ...flags, '--type', 'slsaprovenance', '--predicate', predicate, image.ref], env);
  assert.equal(attested.code, 0, attested.out);
});

test('a keyless signature and attestation by the pinned ServiceAccount and issuer verify, through Fulcio and Rekor', async () => {
  const identity = serviceAccountIdentity(ns, 'builder');
  const { issuer } = fulcioEnv();
  // prettier-ignore
  const args = [...pinned(['--certificate-identity', identity], ['--certificate-oidc-issuer', issuer]),
    '--predicate-type', 'slsaprovenance', '--builder-id', BUILDER];
  const ok = await chainsmith([...args, image.ref]);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /^VERIFIED/);
  assert.match(ok.out, /PASS {2}certificate: issued by the Fulcio root .* signed at .*, inside its validity/);
  assert.match(
    ok.out,
    new RegExp(`signer ${identity.replace(/[.]/g, '\\.')} \\(issuer ${issuer.replace(/[.]/g, '\\.')}\\)`),
  );

  const json = await chainsmith([...args, '--json', image.ref]);
  assert.equal(json.code, 0, json.out);
  const report = JSON.parse(json.out) as {
    verified: boolean;
    signatures: Array<{
      authentic: boolean;
      signer?: { identity: string; issuer: string };
      checks: { name: string }[];
    }>;
    attestations: Array<{ authentic: boolean; signer?: { identity: string; issuer: string } }>;
  };
  assert.equal(report.verified, true);
  assert.equal(report.signatures.length, 1);
  assert.deepEqual(report.signatures[0]!.signer, { identity, issuer });
  assert.deepEqual(
    report.signatures[0]!.checks.map((c) => c.name),
    ['tlog', 'certificate', 'signature', 'digest', 'reference'],
  );
  assert.equal(report.attestations.length, 1);
  assert.equal(report.attestations[0]!.authentic, true);
  assert.deepEqual(report.attestations[0]!.signer, { identity, issuer });

  // the regexp variants, and the roots from the environment as cosign reads them
  const re = await chainsmith(
    [
      '--certificate-identity-regexp',
      `^https://kubernetes\\.io/namespaces/${ns}/`,
      '--certificate-oidc-issuer-regexp',
      '^https://127\\.0\\.0\\.1:',
      image.ref,
    ],
    { SIGSTORE_ROOT_FILE: fulcioEnv().root, SIGSTORE_REKOR_PUBLIC_KEY: rekorEnv().publicKey },
  );
  assert.equal(re.code, 0, re.out);
});

test('another identity, another issuer or another root fails, naming the broken link', async () => {
  const identity = serviceAccountIdentity(ns, 'builder');
  const { issuer } = fulcioEnv();
  const other = serviceAccountIdentity(ns, 'someone-else');
  const wrongIdentity = await chainsmith([
    ...pinned(['--certificate-identity', other], ['--certificate-oidc-issuer', issuer]),
    image.ref,
  ]);
  assert.equal(wrongIdentity.code, 1, wrongIdentity.out);
  assert.match(wrongIdentity.out, /first broken link: signature: .*certificate: identity https:\/\/\S+ does not match/);
  assert.ok(wrongIdentity.out.includes(`identity ${identity} does not match ${other}`), wrongIdentity.out);

  const wrongIssuer = await chainsmith([
    ...pinned(['--certificate-identity', identity], ['--certificate-oidc-issuer', 'https://kubernetes.default.svc']),
    image.ref,
  ]);
  assert.equal(wrongIssuer.code, 1, wrongIssuer.out);
  assert.ok(
    wrongIssuer.out.includes(`certificate: issuer ${issuer} does not match https://kubernetes.default.svc`),
    wrongIssuer.out,
  );

  const otherRoot = join(dir, 'other-root.pem');
  await writeFile(otherRoot, await readFile(join(stackEnv().stackDir, 'pki', 'ca.crt')));
  const untrusted = await chainsmith([
    ...pinned(['--certificate-identity', identity], ['--certificate-oidc-issuer', issuer], otherRoot),
    image.ref,
  ]);
  assert.equal(untrusted.code, 1, untrusted.out);
  assert.match(untrusted.out, /certificate: not issued by the Fulcio root/);

  // the attestation link names it too
  const att = await chainsmith([
    ...pinned(['--certificate-identity', other], ['--certificate-oidc-issuer', issuer]),
    '--require-attestation',
    '--json',
    image.ref,
  ]);
  assert.equal(att.code, 1, att.out);
  const report = JSON.parse(att.out) as { links: Array<{ name: string; status: string; detail: string }> };
  const link = report.links.find((l) => l.name === 'attestation')!;
  assert.equal(link.status, 'failed');
  assert.match(link.detail, /certificate: identity .* does not match/);
});

test('keyless without a Rekor key or Fulcio roots, or mixed with --key, is bad input', async () => {
  const identity = serviceAccountIdentity(ns, 'builder');
  const { issuer, root } = fulcioEnv();
  const flags = ['--certificate-identity', identity, '--certificate-oidc-issuer', issuer];
  const noLog = await chainsmith([...flags, '--fulcio-root', root, image.ref]);
  assert.equal(noLog.code, 2, noLog.out);
  assert.match(noLog.out, /keyless verification needs the transparency log/);
  const noRoot = await chainsmith([...flags, '--rekor-public-key', rekorEnv().publicKey, image.ref]);
  assert.equal(noRoot.code, 2, noRoot.out);
  assert.match(noRoot.out, /needs the Fulcio roots/);
  const mixed = await chainsmith([...flags, '--key', root, image.ref]);
  assert.equal(mixed.code, 2, mixed.out);
  assert.match(mixed.out, /without --key\/--kms/);
  const noIssuer = await chainsmith(['--certificate-identity', identity, '--fulcio-root', root, image.ref]);
  assert.equal(noIssuer.code, 2, noIssuer.out);
  assert.match(noIssuer.out, /exactly one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp/);
});

// Keyless signing on the real stack (issue 18): the controller, with no signing-secrets at all, exchanges a
// ServiceAccount token (audience `sigstore`, from the TokenRequest API, written where a projected token volume
// would be) at the stack's Fulcio for a certificate, signs, and logs each signature in the stack's Rekor. cosign
// verifies image signature and attestation for that identity and issuer (Fulcio root and Rekor key from the
// stack, `--insecure-ignore-sct`: the stack has no CT log); another identity fails. The token file is rotated
// under the running controller; a token for another audience signs nothing and says why, until a good one is
// written to the same file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../src/tekton/types.js';
import {
  childReference,
  completePipelineRun,
  completeTaskRun,
  createChildTaskRun,
  createNamespace,
  createPipelineRun,
  createTaskRun,
  eventsOf,
  getPipelineRun,
  getTaskRun,
  stackEnv,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import { pushRandomImage, type PushedImage } from './lib/registry.js';
import { runTool } from './lib/cosign.js';
import { fulcioEnv, rekorEnv } from './lib/env.js';
import { createServiceAccount, serviceAccountIdentity, serviceAccountToken } from './lib/identity.js';
import { startSigningController, writeChainsConfig } from './lib/scenario.js';
import { cosignKeyless } from './lib/signing-policies.js';

const SA = 'chainsmith-controller';

interface Setup {
  ns: string;
  systemNs: string;
  dir: string;
  tokenFile: string;
  controller: ControllerProcess;
}

/** A watched namespace, the controller's namespace with its ServiceAccount, a token file, keyless chains-config. */
async function setup(prefix: string, audience: string, extra: Record<string, string> = {}): Promise<Setup> {
  const fulcio = fulcioEnv();
  const ns = await createNamespace(prefix);
  const systemNs = await createNamespace(`${prefix}-sys`);
  await createServiceAccount(systemNs, SA);
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-keyless-'));
  const tokenFile = join(dir, 'oidc-token');
  await writeFile(tokenFile, await serviceAccountToken(systemNs, SA, audience), { mode: 0o600 });
  await writeChainsConfig(systemNs, {
    'artifacts.taskrun.format': 'in-toto',
    'artifacts.taskrun.storage': 'tekton,oci',
    'artifacts.pipelinerun.storage': 'tekton',
    'artifacts.oci.storage': 'oci',
    'signers.x509.fulcio.enabled': 'true',
    'signers.x509.fulcio.address': fulcio.url,
    'signers.x509.fulcio.issuer': fulcio.issuer,
    'signers.x509.identity.token.file': tokenFile,
    'transparency.enabled': 'true',
    'transparency.url': rekorEnv().url,
    ...extra,
  });
  // `dir` holds no cosign.key / x509.pem: keyless needs no key material
  const controller = await startSigningController(ns, systemNs, join(dir, 'no-signing-secrets'));
  return { ns, systemNs, dir, tokenFile, controller };
}

async function teardown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.controller.stop();
  await rm(s.dir, { recursive: true, force: true });
}

async function imageTaskRun(ns: string, image: { repository: string; digest: string }): Promise<string> {
  const tr = await createTaskRun(ns);
  await completeTaskRun(ns, tr.metadata.name!, {
    results: [
      { name: 'IMAGE_URL', type: 'string', value: image.repository },
      { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
    ],
  });
  return tr.metadata.name!;
}

async function waitSigned(s: Setup, get: () => Promise<Run>): Promise<Run> {
  return waitFor(
    async () => {
      const r = await get();
      const signed = r.metadata.annotations?.['chains.tekton.dev/signed'];
      if (signed === 'failed') throw new Error(`run marked failed:\n${s.controller.logs().slice(-3000)}`);
      return signed === 'true' ? r : undefined;
    },
    { timeoutMs: 90_000, description: 'chains.tekton.dev/signed=true' },
  );
}

/** The certificate chainsmith stored for the run's attestation (`chains.tekton.dev/cert-taskrun-<uid>`). */
function storedCertificate(run: Run): X509Certificate {
  const a = run.metadata.annotations ?? {};
  const key = `chains.tekton.dev/cert-${run.kind.toLowerCase()}-${run.metadata.uid}`;
  assert.ok(a[key], `${key} is set`);
  return new X509Certificate(Buffer.from(a[key], 'base64'));
}

describe('keyless: Fulcio certificates for the controller’s ServiceAccount, no key material', () => {
  let s: Setup;
  let image: PushedImage;
  before(async () => {
    s = await setup('keyless', 'sigstore');
  });
  after(() => teardown(s));

  test('a TaskRun with an image is signed; cosign verifies both signatures for the identity, not for another', async () => {
    image = await pushRandomImage(`${stackEnv().registry}/keyless-e2e/app`);
    const name = await imageTaskRun(s.ns, image);
    const tr = await waitSigned(s, () => getTaskRun(s.ns, name));
    const identity = serviceAccountIdentity(s.systemNs, SA);
    const cert = storedCertificate(tr);
    assert.equal(cert.subjectAltName, `URI:${identity}`);
    assert.match(tr.metadata.annotations?.['chains.tekton.dev/transparency'] ?? '', /logIndex=\d+$/);
    const chain = tr.metadata.annotations?.[`chains.tekton.dev/chain-taskrun-${tr.metadata.uid}`] ?? '';
    assert.match(Buffer.from(chain, 'base64').toString(), /BEGIN CERTIFICATE/, 'the chain is stored too');

    const sig = await cosignKeyless(['verify', image.ref], identity);
    assert.equal(sig.code, 0, `cosign verify:\n${sig.out}`);
    assert.match(sig.out, /The code-signing certificate was verified using trusted certificate authority/);
    assert.match(sig.out, /Existence of the claims in the transparency log was verified/);
    const att = await cosignKeyless(
      ['verify-attestation', '--type', 'slsaprovenance', '--policy', 'docs/policies/builder.cue', image.ref],
      identity,
    );
    assert.equal(att.code, 0, `cosign verify-attestation:\n${att.out}`);
    const wrong = await cosignKeyless(['verify', image.ref], serviceAccountIdentity(s.systemNs, 'someone-else'));
    assert.notEqual(wrong.code, 0, wrong.out);
    assert.match(wrong.out, /none of the expected identities matched/);
    // chainsmith verify with the same pins, and audit's signing identity
    const fulcio = fulcioEnv();
    const verify = (id: string) =>
      runTool(process.execPath, [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'verify',
        '--certificate-identity',
        id,
        '--certificate-oidc-issuer',
        fulcio.issuer,
        '--fulcio-root',
        fulcio.root,
        '--rekor-public-key',
        rekorEnv().publicKey,
        '--require-attestation',
        image.ref,
      ]);
    const ours = await verify(identity);
    assert.equal(ours.code, 0, `chainsmith verify:\n${ours.out}`);
    const theirs = await verify(serviceAccountIdentity(s.systemNs, 'someone-else'));
    assert.equal(theirs.code, 1, theirs.out);
    assert.match(theirs.out, /certificate: identity .* does not match/);
    // the token never reaches the controller's output
    assert.doesNotMatch(s.controller.logs(), /eyJ[\w-]+\.eyJ[\w-]+\./);
  });

  test('each signed object has its own certificate (and key) by default', async () => {
    const names = [
      await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/keyless-e2e/a`)),
      await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/keyless-e2e/b`)),
    ];
    const [a, b] = await Promise.all(names.map((n) => waitSigned(s, () => getTaskRun(s.ns, n))));
    assert.notEqual(storedCertificate(a!).serialNumber, storedCertificate(b!).serialNumber);
  });

  test('a PipelineRun is signed keylessly too', async () => {
    const pr = await createPipelineRun(s.ns);
    const child = await createChildTaskRun(pr, 'build');
    await completeTaskRun(s.ns, child.metadata.name!);
    await completePipelineRun(s.ns, pr.metadata.name!, { childReferences: [childReference(child)] });
    const signed = await waitSigned(s, () => getPipelineRun(s.ns, pr.metadata.name!));
    assert.equal(storedCertificate(signed).subjectAltName, `URI:${serviceAccountIdentity(s.systemNs, SA)}`);
  });

  test('the token file is rotated under the running controller: the next run uses the new token', async () => {
    // a token of another ServiceAccount shows in the certificate, so it proves the file was read again
    await createServiceAccount(s.systemNs, 'rotated');
    await writeFile(s.tokenFile, await serviceAccountToken(s.systemNs, 'rotated', 'sigstore', 3600), { mode: 0o600 });
    const name = await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/keyless-e2e/rotated`));
    const tr = await waitSigned(s, () => getTaskRun(s.ns, name));
    assert.equal(storedCertificate(tr).subjectAltName, `URI:${serviceAccountIdentity(s.systemNs, 'rotated')}`);
  });
});

describe('keyless with a token for another audience', () => {
  let s: Setup;
  before(async () => {
    s = await setup('keyless-aud', 'not-sigstore');
  });
  after(() => teardown(s));

  test('nothing is signed and a KeylessFailed Event gives Fulcio’s reason; a good token in the same file fixes it', async () => {
    const name = await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/keyless-e2e/aud`));
    const event = await waitFor(
      async () => (await eventsOf(s.ns, { name })).find((e) => e.reason === 'KeylessFailed'),
      { timeoutMs: 60_000, description: 'a KeylessFailed Event' },
    );
    assert.match(event.message ?? '', /fulcio http:\/\/127\.0\.0\.1:\d+: HTTP 400: .*identity token/);
    assert.match(event.message ?? '', /aud not-sigstore/, 'the Event says which token was refused');
    assert.doesNotMatch(event.message ?? '', /eyJ[\w-]+\./, 'but never the token');
    assert.notEqual((await getTaskRun(s.ns, name)).metadata.annotations?.['chains.tekton.dev/signed'], 'true');

    await writeFile(s.tokenFile, await serviceAccountToken(s.systemNs, SA, 'sigstore'), { mode: 0o600 });
    const next = await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/keyless-e2e/aud-fixed`));
    await waitSigned(s, () => getTaskRun(s.ns, next));
  });
});

describe('keyless with chainsmith.keyless.reuse-certificate', () => {
  let s: Setup;
  before(async () => {
    s = await setup('keyless-reuse', 'sigstore', { 'chainsmith.keyless.reuse-certificate': 'true' });
  });
  after(() => teardown(s));

  test('runs signed within the certificate’s lifetime share it, and cosign still verifies each', async () => {
    const images = [
      await pushRandomImage(`${stackEnv().registry}/keyless-e2e/reuse-a`),
      await pushRandomImage(`${stackEnv().registry}/keyless-e2e/reuse-b`),
    ];
    const names = [await imageTaskRun(s.ns, images[0]!), await imageTaskRun(s.ns, images[1]!)];
    const runs = await Promise.all(names.map((n) => waitSigned(s, () => getTaskRun(s.ns, n))));
    assert.equal(storedCertificate(runs[0]!).serialNumber, storedCertificate(runs[1]!).serialNumber);
    for (const image of images) {
      const ok = await cosignKeyless(['verify', image.ref], serviceAccountIdentity(s.systemNs, SA));
      assert.equal(ok.code, 0, ok.out);
    }
  });
});

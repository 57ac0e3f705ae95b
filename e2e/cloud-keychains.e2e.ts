// The cloud keychains through the real controller (issue 21). The cloud token endpoints are loopback stand-ins
// (test/oci/cloud-standins/: no cloud can be reached here), driven by the real SDKs inside the controller process;
// the registries are real (Debian's docker-registry) behind their real auth — htpasswd for the ECR-like and
// Google-like ones, token auth with the ACR token service's JWTs for the ACR-like one (e2e/lib/cloud-registries.ts).
// A run whose image lives on each cloud's registry host is signed with no docker-config Secret anywhere: the
// signature and the attestation land next to the image, `chainsmith verify` (the CLI's keychains, same stand-ins)
// accepts them, and each cloud token is minted once and reused. A wrong or expired token gives a StorageFailed Event
// naming the registry and the credential source, never the token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCloudRegistries, type CloudRegistries } from './lib/cloud-registries.js';
import { REPO_ROOT } from './lib/env.js';
import { createNamespace, eventsOf, getTaskRun, waitFor, type ControllerProcess } from './lib/index.js';
import {
  chainsmithCli,
  completeImageTaskRun,
  startSigningController,
  writeChainsConfig,
  x509SecretsDir,
} from './lib/scenario.js';

const run = promisify(execFile);
type Cloud = 'ecr' | 'google' | 'acr';
const SOURCES: Record<Cloud, RegExp> = {
  ecr: /credentials: ECR keychain \(AWS SDK default credentials, GetAuthorizationToken\) in us-east-1/,
  google: /credentials: Google keychain \(application default credentials\)/,
  acr: /credentials: ACR keychain \(Azure identity, exchanged at the registry\)/,
};

let clouds: CloudRegistries;

/** Pushes a small image to `repository` on a cloud registry with the SDK's credential (e2e/lib/cloud-token-probe.ts). */
async function pushImage(cloud: Cloud, registry: string, repository: string): Promise<string> {
  const args = ['--import', 'tsx', 'e2e/lib/cloud-token-probe.ts', cloud, registry, repository, 'push'];
  const { stdout } = await run(process.execPath, args, { cwd: REPO_ROOT, env: clouds.childEnv(), timeout: 60_000 });
  const probe = JSON.parse(stdout.trim().split('\n').pop()!) as { push?: { manifest?: number; digest?: string } };
  assert.equal(probe.push?.manifest, 201, `pushing the test image to ${registry}: ${stdout}`);
  return probe.push!.digest!;
}

interface Setup {
  ns: string;
  controller: ControllerProcess;
  secrets: string;
}

/** A namespace and a controller signing its TaskRuns (in-toto) into `oci`, with no registry Secret anywhere. */
async function signer(prefix: string): Promise<Setup> {
  const ns = await createNamespace(prefix);
  const systemNs = await createNamespace(`${prefix}-sys`);
  await writeChainsConfig(systemNs, {
    'artifacts.taskrun.format': 'in-toto',
    'artifacts.taskrun.storage': 'oci',
    'artifacts.oci.storage': 'oci',
  });
  const secrets = await x509SecretsDir(`chainsmith-${prefix}-`);
  // DOCKER_CONFIG: an empty dir, so nothing but the cloud keychains can answer
  const env = { ...clouds.controllerEnv, DOCKER_CONFIG: join(secrets, 'no-docker-config') };
  return { ns, secrets, controller: await startSigningController(ns, systemNs, secrets, { env }) };
}

async function signedRun(s: Setup, image: { repository: string; digest: string }): Promise<void> {
  const name = await completeImageTaskRun(s.ns, image);
  await waitFor(
    async () => (await getTaskRun(s.ns, name)).metadata.annotations?.['chains.tekton.dev/signed'] === 'true',
    { timeoutMs: 90_000, description: `${s.ns}/${name} signed` },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\ncontroller log:\n${s.controller.logs().slice(-4000)}`);
  });
}

describe('cloud keychains: ECR, Google and ACR credentials minted by their SDKs, checked by real registries', () => {
  let s: Setup;
  before(async () => {
    clouds = await startCloudRegistries();
    s = await signer('cloud-keychains');
  });
  after(async () => {
    await s?.controller.stop();
    await clouds?.stop();
  });

  for (const cloud of ['ecr', 'google', 'acr'] as const) {
    test(`${cloud}: a run's image on its registry is signed, verified, and the token is reused`, async () => {
      const registry = clouds[cloud].registry;
      const repository = `${registry}/team/app-${cloud}`;
      const tokens = () =>
        cloud === 'ecr'
          ? clouds.ecr.standIn.tokenCalls()
          : cloud === 'google'
            ? clouds.google.standIn.tokenCalls()
            : clouds.acr.tokenService.exchangeCalls();

      const first = await pushImage(cloud, registry, `team/app-${cloud}`);
      await signedRun(s, { repository, digest: first });
      const second = await pushImage(cloud, registry, `team/app-${cloud}`);
      const before = tokens();
      await signedRun(s, { repository, digest: second });
      assert.equal(tokens(), before, 'the second run reuses the cached cloud credential');

      // `chainsmith verify` finds the same cloud credential through its own keychains
      const out = await chainsmithCli(
        ['verify', '--key', join(s.secrets, 'cosign.pub'), '--require-attestation', `${repository}@${first}`],
        clouds.controllerEnv,
      );
      assert.equal(out.code, 0, out.stdout + out.stderr);
    });
  }
});

describe('cloud keychains: a refused token gives a StorageFailed Event naming the registry and the source', () => {
  let s: Setup;
  before(async () => {
    clouds = await startCloudRegistries();
  });
  after(async () => {
    await s?.controller.stop();
    await clouds?.stop();
  });

  test('wrong ECR password, wrong Google token, expired ACR access token', async () => {
    // images pushed while the stand-ins still hand out what the registries accept
    const images: Record<Cloud, { repository: string; digest: string }> = {
      ecr: { repository: '', digest: '' },
      google: { repository: '', digest: '' },
      acr: { repository: '', digest: '' },
    };
    for (const cloud of ['ecr', 'google', 'acr'] as const) {
      const registry = clouds[cloud].registry;
      images[cloud] = {
        repository: `${registry}/team/refused`,
        digest: await pushImage(cloud, registry, 'team/refused'),
      };
    }
    const wrongPassword = 'not-the-password-the-registry-knows';
    const wrongToken = 'ya29.not-the-token-the-registry-knows';
    clouds.ecr.standIn.setPassword(wrongPassword);
    clouds.google.standIn.setToken(wrongToken);
    clouds.acr.tokenService.setAccessTokenSeconds(-120);

    // a fresh controller: nothing cached from before the change
    s = await signer('cloud-refused');
    for (const cloud of ['ecr', 'google', 'acr'] as const) {
      const name = await completeImageTaskRun(s.ns, images[cloud]);
      const event = await waitFor(
        async () => (await eventsOf(s.ns, { name })).find((e) => e.reason === 'StorageFailed'),
        { timeoutMs: 60_000, description: `a StorageFailed Event on ${name} (${cloud})` },
      );
      const message = event.message ?? '';
      assert.match(message, new RegExp(`registry ${clouds[cloud].registry.replace(/\./g, '\\.')}`));
      assert.match(message, /HTTP 401/);
      assert.match(message, SOURCES[cloud]);
      for (const secret of [wrongPassword, wrongToken]) assert.doesNotMatch(message, new RegExp(secret));
      const annotations = (await getTaskRun(s.ns, name)).metadata.annotations ?? {};
      assert.notEqual(annotations['chains.tekton.dev/signed'], 'true');
    }
    assert.doesNotMatch(s.controller.logs(), new RegExp(`${wrongPassword}|${wrongToken}`), 'no token in the log');
  });
});

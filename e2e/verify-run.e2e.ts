// `chainsmith verify-run` on runs the real controller signed with the `tekton` storage backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TASKRUNS } from '../src/kube/client.js';
import {
  completeTaskRun,
  createNamespace,
  createTaskRun,
  getTaskRun,
  kube,
  stackEnv,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import { chainsmithCli, startSigningController, writeChainsConfig, x509SecretsDir } from './lib/scenario.js';
import type { RunVerifyReport } from '../src/verify/run-annotations.js';

const DIGEST = `sha256:${'5e'.repeat(32)}`;

const verifyRun = (args: string[]) => chainsmithCli(['verify-run', ...args]);

describe('verify-run on controller-signed runs', () => {
  let ns: string;
  let keys: string;
  let otherKeys: string;
  let controller: ControllerProcess;
  let name: string;
  const image = `${stackEnv().registry}/verify-run/app`;

  before(async () => {
    ns = await createNamespace('verify-run');
    const systemNs = await createNamespace('verify-run-sys');
    keys = await x509SecretsDir('chainsmith-verify-run-');
    otherKeys = await x509SecretsDir('chainsmith-verify-run-');
    await writeChainsConfig(systemNs, { 'artifacts.oci.storage': 'tekton' });
    controller = await startSigningController(ns, systemNs, keys);
    const tr = await createTaskRun(ns);
    name = tr.metadata.name!;
    await completeTaskRun(ns, name, {
      results: [
        { name: 'IMAGE_URL', type: 'string', value: image },
        { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST },
      ],
    });
    await waitFor(
      async () =>
        (await getTaskRun(ns, name)).metadata.annotations?.['chains.tekton.dev/signed'] === 'true' ? true : undefined,
      { timeoutMs: 30_000, description: 'signed' },
    );
  });

  after(async () => {
    await controller.stop();
    await rm(keys, { recursive: true, force: true });
    await rm(otherKeys, { recursive: true, force: true });
  });

  test('the signing key verifies the run provenance and the image signature; subjects are listed', async () => {
    const res = await verifyRun([`${ns}/${name}`, '--key', join(keys, 'cosign.pub'), '--json']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const report = JSON.parse(res.stdout) as RunVerifyReport;
    assert.equal(report.verified, true);
    assert.deepEqual(
      report.entries.map((e) => [e.kind, e.ok]),
      [
        ['run-attestation', true],
        ['image-signature', true],
      ],
    );
    assert.deepEqual(report.entries[0]!.subjects, [`${image}@sha256:${DIGEST.slice(7)}`]);
    const text = await verifyRun([`${ns}/${name}`, '--key', join(keys, 'cosign.pub')]);
    assert.match(text.stdout, /^VERIFIED {2}TaskRun/);
  });

  test('another key fails, exit 1, naming the first broken link', async () => {
    const res = await verifyRun([`${ns}/${name}`, '--key', join(otherKeys, 'cosign.pub')]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /taskrun-.*: signature: no signature verifies with the given public key/);
  });

  test('a payload annotation rewritten on the cluster is caught', async () => {
    const tr = await getTaskRun(ns, name);
    const key = `chains.tekton.dev/payload-taskrun-${tr.metadata.uid}`;
    const forged = Buffer.from(tr.metadata.annotations![key]!, 'base64').toString().replace(image, `${image}-forged`);
    await kube().mergePatch(TASKRUNS, ns, name, {
      metadata: { annotations: { [key]: Buffer.from(forged).toString('base64') } },
    });
    const res = await verifyRun([`${ns}/${name}`, '--key', join(keys, 'cosign.pub')]);
    assert.equal(res.code, 1);
    assert.match(
      res.stdout,
      /FAIL {2}payload: the payload annotation differs from the statement inside the signed envelope/,
    );
  });

  test('a missing run and bad input are reported in one line', async () => {
    const missing = await verifyRun([`${ns}/does-not-exist`, '--key', join(keys, 'cosign.pub')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);
    const bad = await verifyRun(['no-slash', '--key', join(keys, 'cosign.pub')]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });
});

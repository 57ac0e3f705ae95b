// `chainsmith verify-run` on runs the real controller signed with the `tekton` storage backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { completeTaskRun, createNamespace, createTaskRun, getTaskRun, kube, REPO_ROOT, stackEnv, startController, waitFor, type ControllerProcess } from './lib/index.js';
import type { RunVerifyReport } from '../src/verify/run-annotations.js';

const exec = promisify(execFile);
const DIGEST = `sha256:${'5e'.repeat(32)}`;

async function verifyRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'verify-run', ...args], { cwd: REPO_ROOT, env: { ...process.env, KUBECONFIG: stackEnv().kubeconfig } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function keyPair(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-verify-run-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'x509.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  return dir;
}

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
    keys = await keyPair();
    otherKeys = await keyPair();
    await kube().core.createNamespacedConfigMap({ namespace: systemNs, body: { metadata: { name: 'chains-config', namespace: systemNs }, data: { 'artifacts.oci.storage': 'tekton' } } });
    controller = await startController(['--namespace', ns, '--signing-secrets-dir', keys, '--metrics-addr', '127.0.0.1:0', '--leader-elect=false'], { SYSTEM_NAMESPACE: systemNs });
    await controller.waitForLog(/informers synced/);
    const tr = await createTaskRun(ns);
    name = tr.metadata.name!;
    await completeTaskRun(ns, name, { results: [{ name: 'IMAGE_URL', type: 'string', value: image }, { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST }] });
    await waitFor(async () => ((await getTaskRun(ns, name)).metadata.annotations?.['chains.tekton.dev/signed'] === 'true' ? true : undefined), { timeoutMs: 30_000, description: 'signed' });
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
    assert.deepEqual(report.entries.map((e) => [e.kind, e.ok]), [['run-attestation', true], ['image-signature', true]]);
    assert.deepEqual(report.entries[0]!.subjects, [`${image}@sha256:${DIGEST.slice(7)}`]);
    const text = await verifyRun([`${ns}/${name}`, '--key', join(keys, 'cosign.pub')]);
    assert.match(text.stdout, /^VERIFIED  TaskRun/);
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
    await kube().custom.patchNamespacedCustomObject(
      { group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name, body: { metadata: { annotations: { [key]: Buffer.from(forged).toString('base64') } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const res = await verifyRun([`${ns}/${name}`, '--key', join(keys, 'cosign.pub')]);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /FAIL  payload: the payload annotation differs from the statement inside the signed envelope/);
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

// The controller against the real stack (kube-apiserver + etcd + Tekton CRDs): runs are completed the way the
// Tekton controller completes them, and the controller runs as a child process exactly as an operator starts it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, verify as cryptoVerify, createPublicKey } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  childReference,
  completePipelineRun,
  completeTaskRun,
  createChildTaskRun,
  createNamespace,
  createPipelineRun,
  createTaskRun,
  getPipelineRun,
  getTaskRun,
  eventsOf,
  kube,
  pushRandomImage,
  randomSuffix,
  REPO_ROOT,
  stackEnv,
  startController,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import { controllerArgs, startSigningController, writeChainsConfig } from './lib/scenario.js';
import { encryptCosignKey, exportPublicKeyPem } from '../src/signing/cosign-key.js';
import type { Run } from '../src/tekton/types.js';
import { LEASES, PIPELINERUNS, TASKRUNS } from '../src/kube/client.js';

const run = promisify(execFile);
const DIGEST = 'sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';
const PASSWORD = 'e2e-controller-password';

/** A signing-secrets dir with a fresh cosign key pair (as `cosign generate-key-pair` writes it). */
async function signingSecrets(): Promise<{ dir: string; publicKeyPem: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-signing-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'cosign.key'), await encryptCosignKey(privateKey, PASSWORD));
  await writeFile(join(dir, 'cosign.password'), PASSWORD);
  const publicKeyPem = exportPublicKeyPem(privateKey);
  await writeFile(join(dir, 'cosign.pub'), publicKeyPem);
  return { dir, publicKeyPem };
}

async function waitForAnnotation(
  get: () => Promise<Run>,
  key: string,
  value: string,
  timeoutMs = 30_000,
): Promise<Run> {
  return waitFor(
    async () => {
      const r = await get();
      return r.metadata.annotations?.[key] === value ? r : undefined;
    },
    { timeoutMs, description: `${key}=${value}` },
  );
}

function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

/** Completes a TaskRun that pushed IMAGE_URL/IMAGE_DIGEST. */
async function buildTaskRun(ns: string, image = `${stackEnv().registry}/e2e/app`): Promise<string> {
  const tr = await createTaskRun(ns);
  await completeTaskRun(ns, tr.metadata.name!, {
    results: [
      { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST },
      { name: 'IMAGE_URL', type: 'string', value: image },
    ],
  });
  return tr.metadata.name!;
}

interface Setup {
  ns: string;
  systemNs: string;
  keys: { dir: string; publicKeyPem: string };
  controller: ControllerProcess;
}

async function setup(prefix: string, config: Record<string, string>, extraArgs: string[] = []): Promise<Setup> {
  const ns = await createNamespace(prefix);
  const systemNs = await createNamespace(`${prefix}-sys`);
  const keys = await signingSecrets();
  await writeChainsConfig(systemNs, config);
  const controller = await startSigningController(ns, systemNs, keys.dir, { extraArgs });
  return { ns, systemNs, keys, controller };
}

async function teardown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.controller.stop();
  await rm(s.keys.dir, { recursive: true, force: true });
}

describe('controller: TaskRuns, PipelineRuns, config reload, deletion', () => {
  let s: Setup;
  before(async () => {
    s = await setup('ctl', { 'artifacts.oci.storage': 'tekton', 'builder.id': 'https://chainsmith.dev/e2e/builder-1' });
  });
  after(() => teardown(s));

  test('a TaskRun with IMAGE_URL/IMAGE_DIGEST is signed: SLSA statement with the configured builder.id, DSSE verifies against cosign.pub, image signature verifies with cosign', async () => {
    const name = await buildTaskRun(s.ns);
    const tr = await waitForAnnotation(() => getTaskRun(s.ns, name), 'chains.tekton.dev/signed', 'true');
    const a = tr.metadata.annotations!;
    const uid = tr.metadata.uid!;
    assert.deepEqual(tr.metadata.finalizers ?? [], [], 'our finalizer is gone once signed');
    assert.match(a['chainsmith.dev/signed-at']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const statement = JSON.parse(Buffer.from(a[`chains.tekton.dev/payload-taskrun-${uid}`]!, 'base64').toString());
    assert.equal(statement._type, 'https://in-toto.io/Statement/v0.1');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v0.2');
    assert.equal(statement.predicate.builder.id, 'https://chainsmith.dev/e2e/builder-1');
    assert.deepEqual(statement.subject, [
      { name: `${stackEnv().registry}/e2e/app`, digest: { sha256: DIGEST.slice(7) } },
    ]);
    const envelope = JSON.parse(Buffer.from(a[`chains.tekton.dev/signature-taskrun-${uid}`]!, 'base64').toString());
    assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
    assert.equal(
      Buffer.from(envelope.payload, 'base64').toString(),
      Buffer.from(a[`chains.tekton.dev/payload-taskrun-${uid}`]!, 'base64').toString(),
    );
    const pub = createPublicKey(s.keys.publicKeyPem);
    assert.ok(
      cryptoVerify(
        'sha256',
        pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64')),
        pub,
        Buffer.from(envelope.signatures[0].sig, 'base64'),
      ),
      'DSSE signature verifies',
    );
    assert.equal(a[`chains.tekton.dev/cert-taskrun-${uid}`], '');
    assert.equal(a[`chains.tekton.dev/chain-taskrun-${uid}`], '');

    // the image's simple-signing signature, checked by the real cosign CLI
    const short = DIGEST.slice(7, 19);
    const dir = await mkdtemp(join(tmpdir(), 'chainsmith-verify-'));
    await writeFile(join(dir, 'payload.json'), Buffer.from(a[`chains.tekton.dev/payload-${short}`]!, 'base64'));
    await writeFile(join(dir, 'sig'), a[`chains.tekton.dev/signature-${short}`]!);
    const { stderr } = await run(stackEnv().cosign, [
      'verify-blob',
      '--key',
      join(s.keys.dir, 'cosign.pub'),
      '--signature',
      join(dir, 'sig'),
      '--insecure-ignore-tlog=true',
      join(dir, 'payload.json'),
    ]);
    assert.match(stderr, /Verified OK/);
    await rm(dir, { recursive: true, force: true });

    // tkn-chain-like read back
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'payload', `${s.ns}/${name}`],
      { cwd: REPO_ROOT, env: { ...process.env, KUBECONFIG: stackEnv().kubeconfig } },
    );
    assert.equal(JSON.parse(stdout).predicate.builder.id, 'https://chainsmith.dev/e2e/builder-1');
    const sig = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'signature', `${s.ns}/${name}`], {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: stackEnv().kubeconfig },
    });
    assert.deepEqual(JSON.parse(sig.stdout), envelope, 'signature prints the DSSE envelope');
    const signed = await waitFor(async () => (await eventsOf(s.ns, { name })).find((e) => e.reason === 'Signed'), {
      timeoutMs: 10_000,
      description: 'Signed event',
    });
    assert.match(signed.message ?? '', /TaskRun attestation/);
  });

  test('a PipelineRun is signed after its child TaskRuns', async () => {
    const pr = await createPipelineRun(s.ns);
    const clone = await createChildTaskRun(pr, 'git-clone');
    const build = await createChildTaskRun(pr, 'build');
    // the PipelineRun completes first; its children complete a moment later
    await completePipelineRun(s.ns, pr.metadata.name!, {
      childReferences: [childReference(clone), childReference(build)],
    });
    await new Promise((r) => setTimeout(r, 1500));
    const early = await getPipelineRun(s.ns, pr.metadata.name!);
    assert.equal(
      early.metadata.annotations?.['chains.tekton.dev/signed'],
      undefined,
      'not signed while children are running',
    );
    await completeTaskRun(s.ns, clone.metadata.name!);
    await completeTaskRun(s.ns, build.metadata.name!, {
      results: [
        { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST },
        { name: 'IMAGE_URL', type: 'string', value: `${stackEnv().registry}/e2e/app` },
      ],
    });
    const signedPr = await waitForAnnotation(
      () => getPipelineRun(s.ns, pr.metadata.name!),
      'chains.tekton.dev/signed',
      'true',
    );
    const children = await Promise.all([
      getTaskRun(s.ns, clone.metadata.name!),
      getTaskRun(s.ns, build.metadata.name!),
    ]);
    const prAt = Date.parse(signedPr.metadata.annotations!['chainsmith.dev/signed-at']!);
    for (const c of children) {
      assert.equal(c.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
      assert.ok(
        Date.parse(c.metadata.annotations!['chainsmith.dev/signed-at']!) <= prAt,
        'child signed no later than the PipelineRun',
      );
    }
    const statement = JSON.parse(
      Buffer.from(
        signedPr.metadata.annotations![`chains.tekton.dev/payload-pipelinerun-${signedPr.metadata.uid}`]!,
        'base64',
      ).toString(),
    );
    assert.equal(statement.predicate.buildType, 'tekton.dev/v1/PipelineRun');
    assert.deepEqual(signedPr.metadata.finalizers ?? [], []);
  });

  test('a builder.id change in chains-config applies to the next run without a restart', async () => {
    await writeChainsConfig(s.systemNs, {
      'artifacts.oci.storage': 'tekton',
      'builder.id': 'https://chainsmith.dev/e2e/builder-2',
    });
    await s.controller.waitForLog(
      (l) =>
        l.includes('chains-config applied') &&
        s.controller.lines.filter((x) => x.includes('chains-config applied')).length >= 2,
      15_000,
    );
    const name = await buildTaskRun(s.ns);
    const tr = await waitForAnnotation(() => getTaskRun(s.ns, name), 'chains.tekton.dev/signed', 'true');
    const statement = JSON.parse(
      Buffer.from(
        tr.metadata.annotations![`chains.tekton.dev/payload-taskrun-${tr.metadata.uid}`]!,
        'base64',
      ).toString(),
    );
    assert.equal(statement.predicate.builder.id, 'https://chainsmith.dev/e2e/builder-2');
  });

  test('a TaskRun gets our finalizer while it runs, so one deleted the moment it completes is still signed before it goes', async () => {
    const tr = await createTaskRun(s.ns);
    const name = tr.metadata.name!;
    await waitFor(
      async () => (await getTaskRun(s.ns, name)).metadata.finalizers?.includes('chains.tekton.dev/taskrun'),
      {
        timeoutMs: 10_000,
        description: 'our finalizer on the running TaskRun',
      },
    );
    assert.equal(
      (await getTaskRun(s.ns, name)).metadata.annotations?.['chains.tekton.dev/signed'],
      undefined,
      'not signed while running',
    );
    await completeTaskRun(s.ns, name, {
      results: [
        { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST },
        { name: 'IMAGE_URL', type: 'string', value: `${stackEnv().registry}/e2e/app` },
      ],
    });
    // a pruner deleting runs the instant they finish
    await kube().delete(TASKRUNS, s.ns, name);
    await waitFor(async () => (await kube().get(TASKRUNS, s.ns, name)) === undefined, {
      timeoutMs: 30_000,
      description: 'the run to be gone',
    });
    const signed = await waitFor(
      async () =>
        (await eventsOf(s.ns, { name })).find((e) => e.reason === 'Signed' && e.involvedObject.uid === tr.metadata.uid),
      { timeoutMs: 10_000, description: 'Signed event' },
    );
    assert.match(signed.message ?? '', /TaskRun attestation/);
  });

  test('a PipelineRun deleted while it waits for its children is held by the finalizer and signed once they are', async () => {
    const pr = await createPipelineRun(s.ns);
    const child = await createChildTaskRun(pr, 'build');
    const prName = pr.metadata.name!;
    await completePipelineRun(s.ns, prName, { childReferences: [childReference(child)] });
    await waitFor(
      async () => (await getPipelineRun(s.ns, prName)).metadata.finalizers?.includes('chains.tekton.dev/pipelinerun'),
      { timeoutMs: 10_000, description: 'our finalizer' },
    );
    await kube().delete(PIPELINERUNS, s.ns, prName);
    await new Promise((r) => setTimeout(r, 1000));
    const held = await getPipelineRun(s.ns, prName);
    assert.ok(held.metadata.deletionTimestamp, 'deletion is pending');
    assert.equal(held.metadata.annotations?.['chains.tekton.dev/signed'], undefined);
    await completeTaskRun(s.ns, child.metadata.name!);
    await waitFor(async () => (await kube().get(PIPELINERUNS, s.ns, prName)) === undefined, {
      timeoutMs: 30_000,
      description: 'the PipelineRun to be gone',
    });
    const signed = (await eventsOf(s.ns, { name: prName })).find(
      (e) => e.reason === 'Signed' && e.involvedObject.uid === pr.metadata.uid,
    );
    assert.ok(signed, 'the PipelineRun was signed before it went');
    assert.match(signed.message ?? '', /PipelineRun attestation/);
  });

  test('a run with no artifacts gets its provenance signed and a NoArtifacts Event', async () => {
    const tr = await createTaskRun(s.ns);
    await completeTaskRun(s.ns, tr.metadata.name!, { results: [{ name: 'SOMETHING', type: 'string', value: 'x' }] });
    const done = await waitForAnnotation(() => getTaskRun(s.ns, tr.metadata.name!), 'chains.tekton.dev/signed', 'true');
    assert.ok(
      done.metadata.annotations![`chains.tekton.dev/payload-taskrun-${done.metadata.uid}`],
      'provenance stored',
    );
    const ev = await waitFor(
      async () => (await eventsOf(s.ns, { name: tr.metadata.name! })).find((e) => e.reason === 'NoArtifacts'),
      { timeoutMs: 10_000, description: 'NoArtifacts event' },
    );
    assert.match(ev.message ?? '', /no subjects/);
  });

  test('the metrics endpoint serves Chains’ counter names and the queue gauges', async () => {
    const line = await s.controller.waitForLog(/serving \/healthz/);
    const port = (JSON.parse(line) as { port: number }).port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, /^watcher_taskrun_sign_created_total [1-9]/m);
    assert.match(text, /^watcher_taskrun_marked_signed_total [1-9]/m);
    assert.match(text, /^watcher_pipelinerun_marked_signed_total [1-9]/m);
    assert.match(text, /^chainsmith_queue_depth\{lane="live"\} /m);
    assert.match(text, /^chainsmith_completion_to_signed_seconds_count\{kind="TaskRun"\} [1-9]/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  });
});

describe('controller: multi-arch images and OCI storage', () => {
  let s: Setup;
  before(async () => {
    s = await setup('ctl-oci', { 'artifacts.oci.storage': 'tekton,oci', 'chainsmith.sign-platform-images': 'true' });
  });
  after(() => teardown(s));

  test('with chainsmith.sign-platform-images an image index and each platform manifest are signed; cosign verifies the pushed signature', async () => {
    const image = await pushRandomImage(`${stackEnv().registry}/e2e/multi-${randomSuffix()}`, { mediaType: 'index' });
    const tr = await createTaskRun(s.ns);
    await completeTaskRun(s.ns, tr.metadata.name!, {
      results: [
        { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
        { name: 'IMAGE_URL', type: 'string', value: image.repository },
      ],
    });
    const done = await waitForAnnotation(
      () => getTaskRun(s.ns, tr.metadata.name!),
      'chains.tekton.dev/signed',
      'true',
      60_000,
    );
    const a = done.metadata.annotations!;
    for (const digest of [image.digest, ...image.platformDigests!]) {
      const simple = JSON.parse(
        Buffer.from(a[`chains.tekton.dev/payload-${digest.slice(7, 19)}`]!, 'base64').toString(),
      );
      assert.equal(simple.critical.image['docker-manifest-digest'], digest);
    }
    // the same signatures were pushed next to the image (cosign tag layout) and the real cosign accepts them
    for (const digest of [image.digest, image.platformDigests![0]!]) {
      const { stderr } = await run(stackEnv().cosign, [
        'verify',
        '--key',
        join(s.keys.dir, 'cosign.pub'),
        '--insecure-ignore-tlog=true',
        '--allow-http-registry=true',
        `${image.repository}@${digest}`,
      ]);
      assert.match(stderr, /signatures were verified against the specified public key/);
    }
  });
});

describe('controller: a wrong key password', () => {
  let s: Setup;
  before(async () => {
    s = await setup('ctl-pw', { 'artifacts.oci.storage': 'tekton' });
  });
  after(() => teardown(s));

  test('gives SigningFailed Events and signed "failed" after the retries; fixing the Secret files re-arms and signs it', async () => {
    await writeFile(join(s.keys.dir, 'cosign.password'), 'not-the-password');
    await s.controller.waitForLog(/signing secrets changed/, 15_000);
    const name = await buildTaskRun(s.ns);
    const failed = await waitForAnnotation(() => getTaskRun(s.ns, name), 'chains.tekton.dev/signed', 'failed', 60_000);
    assert.match(failed.metadata.annotations!['chainsmith.dev/last-failure']!, /^KeyDecryptFailed/);
    assert.deepEqual(failed.metadata.finalizers ?? [], [], 'a failed run does not block deletion');
    const evs = await waitFor(
      async () => {
        const list = await eventsOf(s.ns, { name });
        return list.some((e) => e.reason === 'MarkedFailed') ? list : undefined;
      },
      { timeoutMs: 10_000, description: 'MarkedFailed event' },
    );
    assert.ok(evs.filter((e) => e.reason === 'SigningFailed').length >= 1);
    assert.match(evs.find((e) => e.reason === 'SigningFailed')!.message ?? '', /KeyDecryptFailed/);

    await writeFile(join(s.keys.dir, 'cosign.password'), PASSWORD);
    const signed = await waitForAnnotation(() => getTaskRun(s.ns, name), 'chains.tekton.dev/signed', 'true', 60_000);
    assert.equal(signed.metadata.annotations!['chains.tekton.dev/retries'], undefined);
    assert.ok((await eventsOf(s.ns, { name })).some((e) => e.reason === 'Rearmed'));
  });
});

describe('controller: two replicas', () => {
  const started: ControllerProcess[] = [];
  let keysDir = '';
  after(async () => {
    for (const c of started) await c.stop();
    if (keysDir) await rm(keysDir, { recursive: true, force: true });
  });

  test('exactly one replica signs; when it stops the other takes over', async () => {
    const ns = await createNamespace('ctl-ha');
    const systemNs = await createNamespace('ctl-ha-sys');
    const keys = await signingSecrets();
    keysDir = keys.dir;
    await writeChainsConfig(systemNs, { 'artifacts.oci.storage': 'tekton' });
    const args = controllerArgs(ns, keys.dir, ['--lease-name', 'chainsmith-e2e']);
    const a = await startController(args, { SYSTEM_NAMESPACE: systemNs });
    started.push(a);
    await a.waitForLog(/became the leader/, 20_000);
    const b = await startController(args, { SYSTEM_NAMESPACE: systemNs });
    started.push(b);
    await b.waitForLog(/informers synced/);

    const names = await Promise.all([1, 2, 3, 4, 5].map(() => buildTaskRun(ns)));
    for (const n of names) await waitForAnnotation(() => getTaskRun(ns, n), 'chains.tekton.dev/signed', 'true');
    const signedBy = (c: ControllerProcess) => c.jsonLogs().filter((l) => l.message === 'signed').length;
    assert.equal(signedBy(a), 5);
    assert.equal(signedBy(b), 0);
    assert.ok(!b.lines.some((l) => l.includes('became the leader')));

    // graceful stop releases the lease: the standby takes over at once and signs the next run
    await a.stop();
    await b.waitForLog(/became the leader/, 20_000);
    const next = await buildTaskRun(ns);
    await waitForAnnotation(() => getTaskRun(ns, next), 'chains.tekton.dev/signed', 'true');
    assert.equal(signedBy(b), 1);
    const lease = await kube().get<{ spec: { holderIdentity: string } }>(LEASES, systemNs, 'chainsmith-e2e');
    assert.notEqual(lease?.spec.holderIdentity, '');
  });
});

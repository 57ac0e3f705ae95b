// Proves the local test stack works end to end: Tekton v1 runs round-trip through the real
// kube-apiserver (status survives the CRD's structural schema), and images pushed to the real
// registry can be fetched back by digest, as OCI, Docker and index manifests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiError, TASKRUNS } from '../src/kube/client.js';
import {
  childReference,
  completePipelineRun,
  completeTaskRun,
  createChildTaskRun,
  createNamespace,
  createPipelineRun,
  createTaskRun,
  fetchBlob,
  fetchManifest,
  getPipelineRun,
  getTaskRun,
  isAlive,
  KANIKO_IMAGE_ID,
  kube,
  MEDIA,
  pushRandomImage,
  REPO_ROOT,
  sha256Digest,
  stackEnv,
} from './lib/index.js';

test('a TaskRun created and completed like Tekton does reads back with its full status', async () => {
  const ns = await createNamespace('stack-taskrun');
  const created = await createTaskRun(ns, {
    spec: { taskRef: { kind: 'Task', name: 'build-push' }, params: [{ name: 'IMAGE', value: 'x' }] },
  });
  assert.equal(created.status, undefined, 'a new TaskRun has no status until the "Tekton controller" writes it');

  const digest = `sha256:${'ab'.repeat(32)}`;
  await completeTaskRun(ns, created.metadata.name!, {
    results: [
      { name: 'IMAGE_DIGEST', type: 'string', value: digest },
      { name: 'IMAGE_URL', type: 'string', value: `${stackEnv().registry}/app` },
    ],
  });

  const tr = await getTaskRun(ns, created.metadata.name!);
  assert.equal(tr.metadata.uid, created.metadata.uid);
  assert.deepEqual(tr.spec.params, [{ name: 'IMAGE', value: 'x' }]);
  const cond = tr.status?.conditions?.find((c) => c.type === 'Succeeded');
  assert.equal(cond?.status, 'True');
  assert.match(tr.status?.startTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Date.parse(tr.status!.completionTime!) >= Date.parse(tr.status!.startTime!));
  assert.deepEqual(
    tr.status?.results?.map((r) => [r.name, r.value]),
    [
      ['IMAGE_DIGEST', digest],
      ['IMAGE_URL', `${stackEnv().registry}/app`],
    ],
  );
  assert.equal(tr.status?.steps?.[0]?.imageID, KANIKO_IMAGE_ID, 'steps[].imageID survives schema pruning');
  assert.equal(tr.status?.taskSpec?.steps?.[0]?.image, 'gcr.io/kaniko-project/executor:v1.23.2');
  assert.equal(tr.status?.provenance?.refSource?.entryPoint, 'task/build-push/build-push.yaml');
  assert.equal(tr.status?.provenance?.featureFlags?.enableAPIFields, 'beta');
});

test('a PipelineRun with child TaskRuns completes with childReferences and results', async () => {
  const ns = await createNamespace('stack-pipelinerun');
  const pr = await createPipelineRun(ns);
  const children = [await createChildTaskRun(pr, 'git-clone'), await createChildTaskRun(pr, 'build')];
  for (const child of children) await completeTaskRun(ns, child.metadata.name!);

  await completePipelineRun(ns, pr.metadata.name!, {
    childReferences: children.map(childReference),
    results: [{ name: 'IMAGE_URL', value: 'example/app' }],
  });
  const got = await getPipelineRun(ns, pr.metadata.name!);
  assert.equal(got.status?.conditions?.[0]?.status, 'True');
  assert.deepEqual(
    got.status?.childReferences?.map((c) => [c.name, c.pipelineTaskName]),
    [
      [`${pr.metadata.name}-git-clone`, 'git-clone'],
      [`${pr.metadata.name}-build`, 'build'],
    ],
  );
  assert.equal(got.status?.pipelineSpec?.tasks?.length, 2);
  assert.equal(got.status?.results?.[0]?.value, 'example/app');
  const child = await getTaskRun(ns, children[1]!.metadata.name!);
  assert.equal(child.metadata.ownerReferences?.[0]?.uid, pr.metadata.uid);
  assert.equal(child.metadata.labels?.['tekton.dev/pipelineRun'], pr.metadata.name);
});

test('v1beta1 is not served: the CRDs carry v1 only and need no conversion webhook', async () => {
  const ns = await createNamespace('stack-v1beta1');
  await assert.rejects(
    kube().list({ ...TASKRUNS, version: 'v1beta1' }, ns),
    (err: unknown) => err instanceof KubeApiError && err.status === 404,
  );
});

test('an OCI image pushed to the registry is fetched back by digest, byte for byte', async () => {
  const image = await pushRandomImage('e2e/stack-oci');
  assert.match(image.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(image.ref, `${stackEnv().registry}/e2e/stack-oci@${image.digest}`);
  const m = await fetchManifest('e2e/stack-oci', image.digest);
  assert.ok(m, 'manifest exists');
  assert.equal(m.mediaType, MEDIA.ociManifest);
  assert.equal(sha256Digest(m.bytes), image.digest);
  const byTag = await fetchManifest('e2e/stack-oci', image.tag);
  assert.equal(byTag?.digest, image.digest);
  // the layer blob is really there and is a gzip stream
  const layer = (m.json.layers as Array<{ digest: string }>)[0]!;
  const blob = await fetchBlob('e2e/stack-oci', layer.digest);
  assert.equal(sha256Digest(blob), layer.digest);
  assert.deepEqual([...blob.subarray(0, 2)], [0x1f, 0x8b]);
  // two pushes give two different images
  assert.notEqual((await pushRandomImage('e2e/stack-oci')).digest, image.digest);
});

test('a Docker v2 image and a two-platform OCI index are stored with their media types', async () => {
  const docker = await pushRandomImage('e2e/stack-docker', { mediaType: 'docker' });
  assert.equal((await fetchManifest('e2e/stack-docker', docker.digest))?.mediaType, MEDIA.dockerManifest);

  const index = await pushRandomImage('e2e/stack-index', { mediaType: 'index' });
  const m = await fetchManifest('e2e/stack-index', index.digest);
  assert.equal(m?.mediaType, MEDIA.ociIndex);
  const entries = m!.json.manifests as Array<{ digest: string; platform: { architecture: string } }>;
  assert.deepEqual(
    entries.map((e) => e.platform.architecture),
    ['amd64', 'arm64'],
  );
  assert.deepEqual(
    entries.map((e) => e.digest),
    index.platformDigests,
  );
  for (const d of index.platformDigests!) {
    assert.equal((await fetchManifest('e2e/stack-index', d))?.mediaType, MEDIA.ociManifest);
  }
});

test('the stack ships a working cosign v2 and kubectl', () => {
  const { cosign, kubectl, kubeconfig } = stackEnv();
  const version = execFileSync(cosign, ['version', '--json'], { encoding: 'utf8', timeout: 30_000 });
  assert.match(JSON.parse(version).gitVersion, /^v2\.6\./);
  const crds = execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'get', 'crd', '-o', 'name'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  for (const plural of ['tasks', 'taskruns', 'pipelines', 'pipelineruns'])
    assert.match(crds, new RegExp(`${plural}\\.tekton\\.dev`));
});

// --- the stack scripts themselves: bad input, stale state, idempotency -------------------------

interface ScriptResult {
  code: number;
  stderr: string;
}

/** Runs one of e2e/stack/*.sh with extra environment; never throws on a non-zero exit. */
function runStackScript(script: string, env: Record<string, string>, timeoutMs = 120_000): ScriptResult {
  const r = spawnSync('bash', [`e2e/stack/${script}`], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { code: r.status ?? -1, stderr: r.stderr };
}

/** The stderr lines that are errors (progress lines start with `[stack`). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('stack: error:'));
}

test('stack:up on the live stack returns at once and changes nothing', () => {
  const before = readFileSync(join(stackEnv().stackDir, 'env'), 'utf8');
  const started = Date.now();
  const r = runStackScript('up.sh', { STACK_DIR: stackEnv().stackDir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /stack already up/);
  assert.ok(Date.now() - started < 15_000, 'no rebuild, no restart');
  assert.equal(readFileSync(join(stackEnv().stackDir, 'env'), 'utf8'), before);
});

test('a port already taken gives one error line naming the port and a log, and leaves nothing running', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-port-'));
  const takenPort = stackEnv().registry.split(':')[1]!;
  const r = runStackScript('up.sh', { STACK_DIR: dir, STACK_REGISTRY_PORT: takenPort, STACK_SKIP_ADDONS: '1' });
  assert.equal(r.code, 1);
  const errors = errorLines(r.stderr);
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, new RegExp(`port ${takenPort} .*already in use.*see ${dir}`));
  assert.equal(existsSync(join(dir, 'env')), false);
  assert.deepEqual(existsSync(join(dir, 'pids')) ? readdirSync(join(dir, 'pids')) : [], []);
  rmSync(dir, { recursive: true, force: true });
});

test('a missing tool gives one error line naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-tool-'));
  const r = runStackScript('up.sh', { STACK_DIR: dir, KUBECTL: '/nonexistent/kubectl' });
  assert.equal(r.code, 1);
  assert.deepEqual(errorLines(r.stderr), ['stack: error: KUBECTL=/nonexistent/kubectl is not an executable file']);
  rmSync(dir, { recursive: true, force: true });
});

test('a stale stack from a crashed run is cleaned up and replaced; stack:down stops every process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-stale-'));
  // What a crash leaves: an env file, a pid file whose process is gone, a data dir.
  const dead = spawnSync('true').pid!;
  mkdirSync(join(dir, 'pids'));
  writeFileSync(join(dir, 'pids', 'etcd.pid'), `${dead}\n`);
  writeFileSync(join(dir, 'env'), 'export KUBECONFIG=/gone\n');
  const staleData = mkdtempSync(join(tmpdir(), 'chainsmith-stack.'));
  writeFileSync(join(dir, 'datadir'), `${staleData}\n`);

  const up = runStackScript('up.sh', { STACK_DIR: dir, STACK_SKIP_ADDONS: '1' }, 240_000);
  try {
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /stale or unhealthy stack/);
    assert.equal(existsSync(staleData), false, "the crashed run's data dir is removed");
    assert.equal(runStackScript('health.sh', { STACK_DIR: dir }).code, 0);
  } finally {
    const pidDir = join(dir, 'pids');
    const pids = (existsSync(pidDir) ? readdirSync(pidDir) : []).map((f) =>
      Number(readFileSync(join(pidDir, f), 'utf8')),
    );
    const down = runStackScript('down.sh', { STACK_DIR: dir });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(pids.length, 3, 'etcd, kube-apiserver, registry');
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} stopped`);
    assert.equal(existsSync(join(dir, 'env')), false);
    rmSync(dir, { recursive: true, force: true });
  }
});

// The kustomize base in manifests/, applied to the real kube-apiserver of the test stack: the server
// accepts every object (strict field validation, so a misspelt field fails), the pod template passes
// the `restricted` Pod Security Standard the namespace enforces, and the ServiceAccount's RBAC allows
// what signing needs and nothing destructive — checked with `kubectl auth can-i --as` (impersonation,
// evaluated by the API server's RBAC authorizer). Finally the controller itself runs with a token of the
// base's ServiceAccount and nothing else, and must sign, record its Event and hold its Lease: proof that
// the least-privilege RBAC is also enough.
//
// It applies into the stack's `tekton-chains` namespace for real (the stack runs no
// kube-controller-manager, so the Deployment never starts pods) and leaves the objects there: the
// stack is disposable, and `kubectl apply` is idempotent, so reruns are fine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  createNamespace,
  getTaskRun,
  kube,
  pushRandomImage,
  randomSuffix,
  REPO_ROOT,
  stackEnv,
  startController,
  waitFor,
} from './lib/index.js';
import { completeImageTaskRun } from './lib/scenario.js';

const SA = 'system:serviceaccount:tekton-chains:tekton-chains-controller';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the stack's kubectl with its admin kubeconfig. */
function kubectl(args: string[], input?: string): Promise<Result> {
  const env = stackEnv();
  return new Promise((resolve) => {
    const child = execFile(
      env.kubectl,
      ['--kubeconfig', env.kubeconfig, ...args],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function mustKubectl(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `kubectl auth can-i` as the controller's ServiceAccount: true for "yes" (exit 0), false for "no" (exit 1). */
async function saCan(verb: string, resource: string, namespace?: string): Promise<boolean> {
  const scope = namespace ? ['-n', namespace] : ['--all-namespaces'];
  const r = await kubectl(['auth', 'can-i', verb, resource, ...scope, `--as=${SA}`]);
  assert.ok(r.code === 0 || r.code === 1, `kubectl auth can-i ${verb} ${resource}: ${r.stderr.trim()}`);
  return r.code === 0;
}

let applied: Promise<void> | undefined;
/** Applies the base once for all tests in this file (namespace first: a dry run cannot create it). */
function applyBase(): Promise<void> {
  applied ??= (async () => {
    if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0) {
      await mustKubectl(['create', 'namespace', 'tekton-chains']);
    }
    await mustKubectl(['apply', '-k', join(REPO_ROOT, 'manifests')]);
  })();
  return applied;
}

test('the API server accepts every object of the base in a server-side dry run', async () => {
  if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0) {
    await mustKubectl(['create', 'namespace', 'tekton-chains']);
  }
  const out = await mustKubectl(['apply', '-k', join(REPO_ROOT, 'manifests'), '--dry-run=server', '--validate=strict']);
  for (const obj of [
    'namespace/tekton-chains',
    'serviceaccount/tekton-chains-controller',
    'clusterrole.rbac.authorization.k8s.io/chainsmith-controller',
    'clusterrole.rbac.authorization.k8s.io/chainsmith-controller-registry-auth',
    'clusterrolebinding.rbac.authorization.k8s.io/chainsmith-controller',
    'role.rbac.authorization.k8s.io/chainsmith-controller',
    'rolebinding.rbac.authorization.k8s.io/chainsmith-controller',
    'configmap/chains-config',
    'deployment.apps/tekton-chains-controller',
    'service/tekton-chains-metrics',
  ]) {
    assert.match(out, new RegExp(`^${obj.replace(/\./g, '\\.')} .*\\(server dry run\\)$`, 'm'), `${obj} in: ${out}`);
  }
});

test('applied for real, the Deployment keeps its hardening and the base leaves an existing chains-config alone', async () => {
  // A cluster that ran Chains already has a configured chains-config: applying must not reset it.
  if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0) {
    await mustKubectl(['create', 'namespace', 'tekton-chains']);
  }
  const existing = await kubectl(['-n', 'tekton-chains', 'get', 'configmap', 'chains-config', '-o', 'json']);
  if (existing.code !== 0) {
    await mustKubectl(['-n', 'tekton-chains', 'create', 'configmap', 'chains-config', '--from-literal=artifacts.taskrun.format=slsa/v1']);
  }
  const before = JSON.parse(await mustKubectl(['-n', 'tekton-chains', 'get', 'configmap', 'chains-config', '-o', 'json'])) as { data?: Record<string, string> };
  await applyBase();
  const after = JSON.parse(await mustKubectl(['-n', 'tekton-chains', 'get', 'configmap', 'chains-config', '-o', 'json'])) as { data?: Record<string, string> };
  assert.deepEqual(after.data ?? {}, before.data ?? {}, 'kubectl apply -k manifests changed the data of an existing chains-config');

  const deploy = JSON.parse(await mustKubectl(['-n', 'tekton-chains', 'get', 'deployment', 'tekton-chains-controller', '-o', 'json']));
  const pod = deploy.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(pod.serviceAccountName, 'tekton-chains-controller');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.deepEqual(
    c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/etc/signing-secrets'),
    { name: 'signing-secrets', mountPath: '/etc/signing-secrets', readOnly: true },
  );
});

test("the controller's pod passes the namespace's `restricted` Pod Security admission", async () => {
  await applyBase();
  const deploy = JSON.parse(await mustKubectl(['-n', 'tekton-chains', 'get', 'deployment', 'tekton-chains-controller', '-o', 'json']));
  const labels = JSON.parse(await mustKubectl(['get', 'namespace', 'tekton-chains', '-o', 'json'])).metadata.labels as Record<string, string>;
  assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  // The pod the Deployment would create, submitted as a dry run: PodSecurity admission judges it.
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'chainsmith-pss-check', namespace: 'tekton-chains', labels: deploy.spec.template.metadata.labels }, spec: deploy.spec.template.spec };
  const ok = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
  assert.equal(ok.code, 0, `restricted admission rejected the controller pod: ${ok.stderr}`);
  // Sanity check that admission is really enforcing: the same pod running as root is refused.
  const rootPod = structuredClone(pod);
  rootPod.spec.securityContext = { ...rootPod.spec.securityContext, runAsNonRoot: false, runAsUser: 0 };
  rootPod.spec.containers[0].securityContext = { ...rootPod.spec.containers[0].securityContext, runAsNonRoot: false, runAsUser: 0 };
  const refused = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(rootPod));
  assert.notEqual(refused.code, 0, 'a root pod was admitted, so the check above proves nothing');
  assert.match(refused.stderr, /violates PodSecurity "restricted/);
});

test('the ServiceAccount can watch and patch runs but cannot delete, create or update them', async () => {
  await applyBase();
  const ns = await createNamespace('manifests-rbac');
  for (const res of ['taskruns.tekton.dev', 'pipelineruns.tekton.dev']) {
    for (const verb of ['get', 'list', 'watch', 'patch']) assert.equal(await saCan(verb, res, ns), true, `${verb} ${res}`);
    assert.equal(await saCan('watch', res), true, `watch ${res} in all namespaces`);
    for (const verb of ['delete', 'create', 'update', 'deletecollection']) assert.equal(await saCan(verb, res, ns), false, `no ${verb} ${res}`);
  }
  assert.equal(await saCan('create', 'events', ns), true, 'Events on runs (core/v1)');
  assert.equal(await saCan('create', 'events.events.k8s.io', ns), true, 'Events on runs (events.k8s.io/v1)');
  for (const res of ['pods', 'persistentvolumeclaims', 'statefulsets.apps', 'tasks.tekton.dev']) {
    assert.equal(await saCan('create', res, ns), false, `no create ${res}`);
  }
});

test("the ServiceAccount reads Secrets and ConfigMaps only as far as signing needs", async () => {
  await applyBase();
  const other = await createNamespace('manifests-secrets');
  // Its own namespace: chains-config, signing-secrets, the Lease.
  for (const verb of ['get', 'list', 'watch']) {
    assert.equal(await saCan(verb, 'configmaps', 'tekton-chains'), true, `${verb} configmaps in tekton-chains`);
    assert.equal(await saCan(verb, 'secrets', 'tekton-chains'), true, `${verb} secrets in tekton-chains`);
  }
  for (const verb of ['get', 'create', 'update']) assert.equal(await saCan(verb, 'leases.coordination.k8s.io', 'tekton-chains'), true, `${verb} leases`);
  assert.equal(await saCan('delete', 'leases.coordination.k8s.io', 'tekton-chains'), false);
  assert.equal(await saCan('create', 'secrets', 'tekton-chains'), false, 'cannot write its own Secret');
  // Another namespace: no ConfigMaps, no Leases, and Secrets only by name (registry credentials of a
  // run's ServiceAccount) — it cannot list or watch them, so it cannot discover or bulk-read them.
  for (const verb of ['list', 'watch', 'create', 'update', 'patch', 'delete']) {
    assert.equal(await saCan(verb, 'secrets', other), false, `no ${verb} secrets in ${other}`);
  }
  assert.equal(await saCan('list', 'secrets'), false, 'no list secrets in all namespaces');
  assert.equal(await saCan('get', 'configmaps', other), false, `no get configmaps in ${other}`);
  assert.equal(await saCan('get', 'leases.coordination.k8s.io', other), false);
  assert.equal(await saCan('get', 'serviceaccounts', other), true, "reads a run's ServiceAccount for its registry credentials");
  assert.equal(await saCan('get', 'secrets', other), true, 'reads the registry Secrets that ServiceAccount names (get by name only)');
});

test("the controller signs with nothing but the base's RBAC: a token of its ServiceAccount, leader election on", { timeout: 5 * 60_000 }, async () => {
  // The base, moved into a namespace of this test with a name suffix (a kustomize overlay, as an operator
  // would write one), so its ClusterRoles and bindings do not touch the shared `tekton-chains` install.
  const suffix = randomSuffix();
  const systemNs = `chainsmith-rbac-${suffix}`;
  const work = await mkdtemp(join(tmpdir(), 'chainsmith-rbac-'));
  try {
    await writeFile(
      join(work, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `namespace: ${systemNs}`,
        `nameSuffix: -${suffix}`,
        'resources:',
        // kustomize takes only relative paths to a base
        `  - ${relative(work, join(REPO_ROOT, 'manifests'))}`,
        'patches:',
        '  - patch: |-',
        '      $patch: delete',
        '      apiVersion: v1',
        '      kind: Namespace',
        '      metadata:',
        '        name: tekton-chains',
        '',
      ].join('\n'),
    );
    await mustKubectl(['create', 'namespace', systemNs]);
    await mustKubectl(['apply', '-k', work]);
    const sa = `tekton-chains-controller-${suffix}`;

    // chains-config (the base ships none with data; the controller reads exactly this name).
    await kube().core.createNamespacedConfigMap({
      namespace: systemNs,
      body: {
        metadata: { name: 'chains-config', namespace: systemNs },
        data: { 'artifacts.taskrun.format': 'slsa/v1', 'artifacts.taskrun.storage': 'tekton,oci', 'artifacts.oci.storage': 'oci', 'builder.id': 'https://ci.example.com/rbac-e2e' },
      },
    });

    // A kubeconfig that authenticates as the ServiceAccount, as the in-cluster config would.
    const token = (await mustKubectl(['-n', systemNs, 'create', 'token', sa, '--duration=1h'])).trim();
    const admin = parseYaml(await readFile(stackEnv().kubeconfig, 'utf8')) as { clusters: [{ cluster: { server: string; 'certificate-authority': string } }] };
    const saKubeconfig = join(work, 'sa.kubeconfig');
    await writeFile(
      saKubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'stack', cluster: admin.clusters[0].cluster }],
        users: [{ name: 'sa', user: { token } }],
        contexts: [{ name: 'sa', context: { cluster: 'stack', user: 'sa' } }],
        'current-context': 'sa',
      }),
      { mode: 0o600 },
    );

    // Signing material: a cosign-style key pair (via the stack's cosign).
    const secrets = join(work, 'signing-secrets');
    await mustRun(stackEnv().cosign, ['generate-key-pair', '--output-key-prefix', join(secrets, 'cosign')], { COSIGN_PASSWORD: 'rbac-e2e' }, secrets);
    await writeFile(join(secrets, 'cosign.password'), 'rbac-e2e');

    const ns = await createNamespace('manifests-rbac-runs');
    const lease = `chainsmith-rbac-${suffix}`;
    const controller = await startController(
      ['--kubeconfig', saKubeconfig, '--namespace', ns, '--signing-secrets-dir', secrets, '--metrics-addr', '127.0.0.1:0', '--leader-elect=true', '--lease-name', lease],
      { SYSTEM_NAMESPACE: systemNs },
    );
    try {
      const image = await pushRandomImage(`${stackEnv().registry}/manifests-rbac/app`);
      const name = await completeImageTaskRun(ns, image);
      const signedRun = await waitFor(
        async () => {
          const r = await getTaskRun(ns, name);
          return r.metadata.annotations?.['chains.tekton.dev/signed'] ? r : undefined;
        },
        { timeoutMs: 90_000, description: `TaskRun signed by the RBAC-limited controller\n${controller.logs().slice(-3000)}` },
      );
      assert.equal(signedRun.metadata.annotations?.['chains.tekton.dev/signed'], 'true', controller.logs().slice(-3000));
      assert.ok(signedRun.metadata.annotations?.[`chains.tekton.dev/payload-taskrun-${signedRun.metadata.uid}`], 'tekton storage wrote the payload');
      // Its Event, its Lease, and not a single request refused by RBAC.
      const events = await waitFor(
        async () => {
          const list = await kube().core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.uid=${signedRun.metadata.uid}` });
          return list.items.some((e) => e.reason === 'Signed') ? list.items : undefined;
        },
        { timeoutMs: 30_000, description: 'a Signed Event written with the ServiceAccount' },
      );
      assert.ok(events.length > 0);
      const leaseObj = JSON.parse(await mustKubectl(['-n', systemNs, 'get', 'lease', lease, '-o', 'json'])) as { spec: { holderIdentity?: string } };
      assert.ok(leaseObj.spec.holderIdentity, 'the controller holds its Lease');
      assert.doesNotMatch(controller.logs(), /forbidden|\b403\b/i, 'no API request was refused');
    } finally {
      await controller.stop();
    }
    // Clean up the cluster-scoped objects this test created (namespaces stay: the stack has no namespace controller).
    await kubectl(['delete', 'clusterrolebinding', `chainsmith-controller-${suffix}`, `chainsmith-controller-registry-auth-${suffix}`]);
    await kubectl(['delete', 'clusterrole', `chainsmith-controller-${suffix}`, `chainsmith-controller-registry-auth-${suffix}`]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

/** Runs a program (not kubectl) in `cwd` (created if missing), failing the test with its stderr. */
async function mustRun(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  await mkdir(cwd, { recursive: true });
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

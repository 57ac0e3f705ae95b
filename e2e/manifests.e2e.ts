// The kustomize base in manifests/ (and its opt-in component components/run-registry-credentials), applied to
// the real kube-apiserver of the test stack: `kubectl kustomize` renders both, the server accepts every object
// (strict field validation, so a misspelt field fails), the pod template passes the `restricted` Pod Security
// Standard the namespace enforces, and the ServiceAccount's RBAC allows what signing needs and nothing
// destructive — checked with `kubectl auth can-i --as` (impersonation, evaluated by the API server's RBAC
// authorizer). Finally the controller itself runs with a token of the ServiceAccount and nothing else, under the
// base's admission policy (it may change only annotations and finalizers of runs; security.e2e.ts tests the policy
// itself), and must sign through a registry that demands credentials: with the base alone it cannot read the run's
// ServiceAccount and pushes with its mounted `$DOCKER_CONFIG`; with the component it pushes with the run's
// ServiceAccount Secret.
//
// It applies into the stack's `tekton-chains` namespace for real (the stack runs no
// kube-controller-manager, so the Deployment never starts pods) and leaves the objects there: the
// stack is disposable, and `kubectl apply` is idempotent, so reruns are fine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { CONFIGMAPS, SECRETS, SERVICEACCOUNTS } from '../src/kube/client.js';
import { DEFAULT_TOKEN_FILE } from '../src/sigstore/identity-token.js';
import {
  basicAuthFront,
  completeTaskRun,
  createNamespace,
  createTaskRun,
  dockerConfigJson,
  fetchManifest,
  getTaskRun,
  eventsOf,
  kube,
  kubectl,
  pushRandomImage,
  randomSuffix,
  REPO_ROOT,
  stackEnv,
  startController,
  waitFor,
  x509SecretsDir,
} from './lib/index.js';

const SA = 'system:serviceaccount:tekton-chains:tekton-chains-controller';
const BASE = join(REPO_ROOT, 'manifests');
const COMPONENT = join(BASE, 'components', 'run-registry-credentials');
const KEYLESS = join(BASE, 'components', 'keyless');
const REGISTRY_AUTH = 'chainsmith-controller-registry-auth';
const ADMISSION_POLICY = 'chainsmith-controller-run-patches';
const ADMISSION_API = 'admissionregistration.k8s.io/v1';

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
/**
 * Applies the base once for all tests in this file (namespace first: a dry run cannot create it). An install of
 * an earlier chainsmith, whose base bound the registry-auth ClusterRole cluster-wide, is upgraded as
 * docs/install.md says: `kubectl apply` does not prune, so that binding is deleted by hand.
 */
function applyBase(): Promise<void> {
  applied ??= (async () => {
    if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0) {
      await mustKubectl(['create', 'namespace', 'tekton-chains']);
    }
    await mustKubectl(['delete', 'clusterrolebinding', REGISTRY_AUTH, '--ignore-not-found']);
    await mustKubectl(['apply', '-k', BASE]);
  })();
  return applied;
}

type K8sObject = { kind: string; metadata: { name: string; namespace?: string }; [field: string]: unknown };

/** `kubectl kustomize <dir>`, parsed. */
async function render(dir: string): Promise<K8sObject[]> {
  return parseAllDocuments(await mustKubectl(['kustomize', dir])).map((d) => d.toJS() as K8sObject);
}

/** The username of the controller's ServiceAccount after an overlay moved and renamed it. */
const saUsername = (namespace = 'tekton-chains', nameSuffix?: string) =>
  `system:serviceaccount:${namespace}:tekton-chains-controller${nameSuffix ? `-${nameSuffix}` : ''}`;

/** A strategic-merge patch that deletes one object of the base, as overlay lines. */
const deletePatch = (apiVersion: string, kind: string, name: string) => [
  '  - patch: |-',
  '      $patch: delete',
  `      apiVersion: ${apiVersion}`,
  `      kind: ${kind}`,
  '      metadata:',
  `        name: ${name}`,
];

/**
 * Writes an overlay of the base in a temp dir, as an operator would: with the component or not, optionally moved
 * to another namespace with a name suffix (then the `tekton-chains` Namespace object itself is dropped, and the
 * admission policy's matchCondition is patched to the moved ServiceAccount: kustomize does not rewrite CEL), or
 * without the admission policy (Kubernetes < 1.30, docs/install.md).
 */
async function writeOverlay(opts: {
  component: boolean;
  keyless?: boolean;
  namespace?: string;
  nameSuffix?: string;
  withoutAdmissionPolicy?: boolean;
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-overlay-'));
  const moved = opts.namespace !== undefined || opts.nameSuffix !== undefined;
  const patches = [
    ...(opts.namespace ? deletePatch('v1', 'Namespace', 'tekton-chains') : []),
    ...(moved
      ? [
          '  - target: {kind: ValidatingAdmissionPolicy}',
          '    patch: |-',
          '      - op: replace',
          '        path: /spec/matchConditions/0/expression',
          `        value: "request.userInfo.username == '${saUsername(opts.namespace, opts.nameSuffix)}'"`,
        ]
      : []),
    ...(opts.withoutAdmissionPolicy
      ? [
          ...deletePatch(ADMISSION_API, 'ValidatingAdmissionPolicy', ADMISSION_POLICY),
          ...deletePatch(ADMISSION_API, 'ValidatingAdmissionPolicyBinding', ADMISSION_POLICY),
        ]
      : []),
  ];
  await writeFile(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      ...(opts.namespace ? [`namespace: ${opts.namespace}`] : []),
      // quoted: a suffix of digits only would otherwise be read as a number
      ...(opts.nameSuffix ? [`nameSuffix: "-${opts.nameSuffix}"`] : []),
      // kustomize takes only relative paths to a base or component
      'resources:',
      `  - ${relative(dir, BASE)}`,
      ...(opts.component || opts.keyless ? ['components:'] : []),
      ...(opts.component ? [`  - ${relative(dir, COMPONENT)}`] : []),
      ...(opts.keyless ? [`  - ${relative(dir, KEYLESS)}`] : []),
      ...(patches.length > 0 ? ['patches:', ...patches] : []),
      '',
    ].join('\n'),
  );
  return dir;
}

test('kubectl kustomize: the base binds no cross-namespace read; the component adds exactly the cluster-wide registry-auth binding', async () => {
  const base = await render(BASE);
  const overlay = await writeOverlay({ component: true });
  try {
    const withComponent = await render(overlay);
    const id = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const added = withComponent.filter((o) => !base.some((b) => id(b) === id(o)));
    assert.deepEqual(
      withComponent.filter((o) => base.some((b) => id(b) === id(o))),
      base,
      'the component changes no object of the base',
    );
    assert.deepEqual(added, [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: {
          name: REGISTRY_AUTH,
          labels: {
            'app.kubernetes.io/name': 'chainsmith',
            'app.kubernetes.io/component': 'controller',
            'app.kubernetes.io/part-of': 'tekton-chains',
          },
        },
        subjects: [{ kind: 'ServiceAccount', name: 'tekton-chains-controller', namespace: 'tekton-chains' }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: REGISTRY_AUTH },
      },
    ]);
  } finally {
    await rm(overlay, { recursive: true, force: true });
  }
  // The base: cluster-wide bindings only to the run/Event ClusterRole; Secrets only through the namespaced Role.
  const bindings = base.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') as Array<
    K8sObject & { roleRef: { kind: string; name: string } }
  >;
  assert.deepEqual(
    bindings
      .map((b) => `${b.kind} ${b.metadata.namespace ?? '(cluster)'} -> ${b.roleRef.kind} ${b.roleRef.name}`)
      .sort(),
    [
      'ClusterRoleBinding (cluster) -> ClusterRole chainsmith-controller',
      'RoleBinding tekton-chains -> Role chainsmith-controller',
    ],
  );
  const clusterRoles = base.filter((o) => o.kind === 'ClusterRole') as Array<
    K8sObject & { rules: Array<{ resources: string[]; verbs: string[] }> }
  >;
  const bound = clusterRoles.find((r) => r.metadata.name === 'chainsmith-controller')!;
  assert.ok(
    !bound.rules.some((r) => r.resources.includes('secrets') || r.resources.includes('serviceaccounts')),
    'the bound ClusterRole names no Secrets or ServiceAccounts',
  );
  // The registry-auth ClusterRole ships (unbound) so RoleBindings in build namespaces can use it: get only.
  assert.deepEqual(clusterRoles.find((r) => r.metadata.name === REGISTRY_AUTH)?.rules, [
    { apiGroups: [''], resources: ['serviceaccounts', 'secrets'], verbs: ['get'] },
  ]);
});

test('kubectl kustomize: the base guards run writes with an admission policy, and an overlay for Kubernetes < 1.30 drops exactly it', async () => {
  const base = await render(BASE);
  const policy = base.find((o) => o.kind === 'ValidatingAdmissionPolicy') as
    (K8sObject & { spec: { failurePolicy: string; matchConditions: Array<{ expression: string }> } }) | undefined;
  const binding = base.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding') as
    (K8sObject & { spec: unknown }) | undefined;
  assert.ok(policy && binding, 'a ValidatingAdmissionPolicy and its binding in the base');
  assert.equal(policy.metadata.name, ADMISSION_POLICY);
  assert.deepEqual(binding.spec, { policyName: ADMISSION_POLICY, validationActions: ['Deny'] });
  // fails closed, for the controller's own ServiceAccount only
  assert.equal(policy.spec.failurePolicy, 'Fail');
  assert.deepEqual(
    policy.spec.matchConditions.map((c) => c.expression),
    [`request.userInfo.username == '${SA}'`],
  );
  const overlay = await writeOverlay({ component: false, withoutAdmissionPolicy: true });
  try {
    const without = await render(overlay);
    assert.deepEqual(
      without,
      base.filter((o) => o !== policy && o !== binding),
      'the same base without the policy and its binding',
    );
  } finally {
    await rm(overlay, { recursive: true, force: true });
  }
});

test('the API server accepts every object of the base in a server-side dry run', async () => {
  if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0) {
    await mustKubectl(['create', 'namespace', 'tekton-chains']);
  }
  const dryRun = (dir: string) => mustKubectl(['apply', '-k', dir, '--dry-run=server', '--validate=strict']);
  const inDryRun = (out: string, obj: string) =>
    new RegExp(`^${obj.replace(/\./g, '\\.')} .*\\(server dry run\\)$`, 'm').test(out);
  const out = await dryRun(BASE);
  for (const obj of [
    'namespace/tekton-chains',
    'serviceaccount/tekton-chains-controller',
    'clusterrole.rbac.authorization.k8s.io/chainsmith-controller',
    `clusterrole.rbac.authorization.k8s.io/${REGISTRY_AUTH}`,
    'clusterrolebinding.rbac.authorization.k8s.io/chainsmith-controller',
    'role.rbac.authorization.k8s.io/chainsmith-controller',
    'rolebinding.rbac.authorization.k8s.io/chainsmith-controller',
    'configmap/chains-config',
    'deployment.apps/tekton-chains-controller',
    'service/tekton-chains-metrics',
    `validatingadmissionpolicy.admissionregistration.k8s.io/${ADMISSION_POLICY}`,
    `validatingadmissionpolicybinding.admissionregistration.k8s.io/${ADMISSION_POLICY}`,
  ]) {
    assert.ok(inDryRun(out, obj), `${obj} in: ${out}`);
  }
  const binding = `clusterrolebinding.rbac.authorization.k8s.io/${REGISTRY_AUTH}`;
  assert.ok(!inDryRun(out, binding), `the base binds no registry-auth: ${out}`);
  // base + component, as an operator's overlay lists it
  const overlay = await writeOverlay({ component: true });
  try {
    assert.ok(inDryRun(await dryRun(overlay), binding), 'the component adds the cluster-wide binding');
  } finally {
    await rm(overlay, { recursive: true, force: true });
  }
});

test('applied for real, the Deployment keeps its hardening and the base leaves an existing chains-config alone', async () => {
  // A cluster that ran Chains already has a configured chains-config: applying must not reset it.
  if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0) {
    await mustKubectl(['create', 'namespace', 'tekton-chains']);
  }
  const existing = await kubectl(['-n', 'tekton-chains', 'get', 'configmap', 'chains-config', '-o', 'json']);
  if (existing.code !== 0) {
    await mustKubectl([
      '-n',
      'tekton-chains',
      'create',
      'configmap',
      'chains-config',
      '--from-literal=artifacts.taskrun.format=slsa/v1',
    ]);
  }
  const before = JSON.parse(
    await mustKubectl(['-n', 'tekton-chains', 'get', 'configmap', 'chains-config', '-o', 'json']),
  ) as { data?: Record<string, string> };
  await applyBase();
  const after = JSON.parse(
    await mustKubectl(['-n', 'tekton-chains', 'get', 'configmap', 'chains-config', '-o', 'json']),
  ) as { data?: Record<string, string> };
  assert.deepEqual(
    after.data ?? {},
    before.data ?? {},
    'kubectl apply -k manifests changed the data of an existing chains-config',
  );

  const deploy = JSON.parse(
    await mustKubectl(['-n', 'tekton-chains', 'get', 'deployment', 'tekton-chains-controller', '-o', 'json']),
  );
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
  // The controller's own registry config, from an optional Secret in its namespace (the base reads no other).
  assert.deepEqual(
    c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/etc/registry-credentials'),
    { name: 'registry-credentials', mountPath: '/etc/registry-credentials', readOnly: true },
  );
  assert.deepEqual(
    c.env.find((e: { name: string }) => e.name === 'DOCKER_CONFIG'),
    { name: 'DOCKER_CONFIG', value: '/etc/registry-credentials' },
  );
  assert.deepEqual(pod.volumes.find((v: { name: string }) => v.name === 'registry-credentials').secret, {
    secretName: 'chainsmith-registry-credentials',
    optional: true,
    items: [{ key: '.dockerconfigjson', path: 'config.json' }],
    defaultMode: 420,
  });
});

test("the controller's pod passes the namespace's `restricted` Pod Security admission", async () => {
  await applyBase();
  const deploy = JSON.parse(
    await mustKubectl(['-n', 'tekton-chains', 'get', 'deployment', 'tekton-chains-controller', '-o', 'json']),
  );
  const labels = JSON.parse(await mustKubectl(['get', 'namespace', 'tekton-chains', '-o', 'json'])).metadata
    .labels as Record<string, string>;
  assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  // The pod the Deployment would create, submitted as a dry run: PodSecurity admission judges it.
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'chainsmith-pss-check',
      namespace: 'tekton-chains',
      labels: deploy.spec.template.metadata.labels,
    },
    spec: deploy.spec.template.spec,
  };
  const ok = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
  assert.equal(ok.code, 0, `restricted admission rejected the controller pod: ${ok.stderr}`);
  // Sanity check that admission is really enforcing: the same pod running as root is refused.
  const rootPod = structuredClone(pod);
  rootPod.spec.securityContext = { ...rootPod.spec.securityContext, runAsNonRoot: false, runAsUser: 0 };
  rootPod.spec.containers[0].securityContext = {
    ...rootPod.spec.containers[0].securityContext,
    runAsNonRoot: false,
    runAsUser: 0,
  };
  const refused = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(rootPod));
  assert.notEqual(refused.code, 0, 'a root pod was admitted, so the check above proves nothing');
  assert.match(refused.stderr, /violates PodSecurity "restricted/);
});

test('the ServiceAccount can watch and patch runs but cannot delete, create or update them', async () => {
  await applyBase();
  const ns = await createNamespace('manifests-rbac');
  for (const res of ['taskruns.tekton.dev', 'pipelineruns.tekton.dev']) {
    for (const verb of ['get', 'list', 'watch', 'patch'])
      assert.equal(await saCan(verb, res, ns), true, `${verb} ${res}`);
    assert.equal(await saCan('watch', res), true, `watch ${res} in all namespaces`);
    for (const verb of ['delete', 'create', 'update', 'deletecollection'])
      assert.equal(await saCan(verb, res, ns), false, `no ${verb} ${res}`);
  }
  assert.equal(await saCan('create', 'events', ns), true, 'Events on runs (core/v1)');
  assert.equal(await saCan('create', 'events.events.k8s.io', ns), true, 'Events on runs (events.k8s.io/v1)');
  for (const res of ['pods', 'persistentvolumeclaims', 'statefulsets.apps', 'tasks.tekton.dev']) {
    assert.equal(await saCan('create', res, ns), false, `no create ${res}`);
  }
});

test('the ServiceAccount reads Secrets and ConfigMaps only as far as signing needs', async () => {
  await applyBase();
  const other = await createNamespace('manifests-secrets');
  // Its own namespace: chains-config, signing-secrets, the Lease.
  for (const verb of ['get', 'list', 'watch']) {
    assert.equal(await saCan(verb, 'configmaps', 'tekton-chains'), true, `${verb} configmaps in tekton-chains`);
    assert.equal(await saCan(verb, 'secrets', 'tekton-chains'), true, `${verb} secrets in tekton-chains`);
  }
  for (const verb of ['get', 'create', 'update'])
    assert.equal(await saCan(verb, 'leases.coordination.k8s.io', 'tekton-chains'), true, `${verb} leases`);
  assert.equal(await saCan('delete', 'leases.coordination.k8s.io', 'tekton-chains'), false);
  assert.equal(await saCan('create', 'secrets', 'tekton-chains'), false, 'cannot write its own Secret');
  // Another namespace: no Secrets at all (not even by name), no ServiceAccounts, ConfigMaps or Leases. Reading a
  // run's ServiceAccount and its registry Secrets is the opt-in component (security.e2e.ts checks it applied).
  for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) {
    assert.equal(await saCan(verb, 'secrets', other), false, `no ${verb} secrets in ${other}`);
  }
  for (const verb of ['get', 'list', 'watch'])
    assert.equal(await saCan(verb, 'secrets'), false, `no ${verb} secrets in all namespaces`);
  assert.equal(await saCan('get', 'serviceaccounts', other), false, `no get serviceaccounts in ${other}`);
  assert.equal(await saCan('get', 'configmaps', other), false, `no get configmaps in ${other}`);
  assert.equal(await saCan('get', 'leases.coordination.k8s.io', other), false);
});

const REGISTRY_USER = 'rbac-pusher';
const REGISTRY_PASSWORD = `rbac-pw-${randomSuffix(6)}`;

/**
 * Installs the base (with the component or not) under a name suffix in a namespace of the test — an overlay, as an
 * operator would write one, so its ClusterRoles and bindings do not touch the shared `tekton-chains` install —
 * then runs the controller with a token of that ServiceAccount and nothing else, and signs one TaskRun whose
 * image sits behind a registry that demands credentials. The run's ServiceAccount `pusher` names a Secret with
 * those credentials; `mountedDockerConfig` gives the controller its own `$DOCKER_CONFIG/config.json` with them too.
 * Returns the controller's log lines that mention a refused API request.
 */
async function signAsServiceAccount(opts: { component: boolean; mountedDockerConfig: boolean }): Promise<string[]> {
  const suffix = randomSuffix();
  const systemNs = `chainsmith-rbac-${suffix}`;
  const sa = `tekton-chains-controller-${suffix}`;
  const overlay = await writeOverlay({ component: opts.component, namespace: systemNs, nameSuffix: suffix });
  const work = await mkdtemp(join(tmpdir(), 'chainsmith-rbac-'));
  const front = await basicAuthFront(REGISTRY_USER, REGISTRY_PASSWORD);
  try {
    await mustKubectl(['create', 'namespace', systemNs]);
    await mustKubectl(['apply', '-k', overlay]);

    // chains-config (the base ships none with data; the controller reads exactly this name).
    await kube().create(CONFIGMAPS, systemNs, {
      metadata: { name: 'chains-config', namespace: systemNs },
      data: {
        'artifacts.taskrun.format': 'slsa/v1',
        'artifacts.taskrun.storage': 'tekton,oci',
        'artifacts.oci.storage': 'oci',
        'builder.id': 'https://ci.example.com/rbac-e2e',
        'chainsmith.max-retries': '0',
      },
    });

    // A kubeconfig that authenticates as the ServiceAccount, as the in-cluster config would.
    const token = (await mustKubectl(['-n', systemNs, 'create', 'token', sa, '--duration=1h'])).trim();
    const admin = parseYaml(await readFile(stackEnv().kubeconfig, 'utf8')) as {
      clusters: [{ cluster: { server: string; 'certificate-authority': string } }];
    };
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
    // What the Deployment mounts from `chainsmith-registry-credentials` at $DOCKER_CONFIG.
    const dockerConfigDir = join(work, 'registry-credentials');
    await mkdir(dockerConfigDir);
    if (opts.mountedDockerConfig)
      await writeFile(
        join(dockerConfigDir, 'config.json'),
        dockerConfigJson(front.host, REGISTRY_USER, REGISTRY_PASSWORD),
        { mode: 0o600 },
      );

    // The build namespace: its ServiceAccount carries push credentials, as Chains users set them up.
    const ns = await createNamespace('manifests-rbac-runs');
    await kube().create(SECRETS, ns, {
      metadata: { name: 'push' },
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        '.dockerconfigjson': Buffer.from(dockerConfigJson(front.host, REGISTRY_USER, REGISTRY_PASSWORD)).toString(
          'base64',
        ),
      },
    });
    await kube().create(SERVICEACCOUNTS, ns, { metadata: { name: 'pusher' }, secrets: [{ name: 'push' }] });

    // The overlay's admission policy guards this ServiceAccount before the controller starts: a label change made
    // with its identity is denied (a new binding takes effect once the API server's policy informer has it). So the
    // signing below proves the controller's real writes pass the policy.
    const policy = `${ADMISSION_POLICY}-${suffix}`;
    const probe = await createTaskRun(ns);
    await waitFor(
      async () => {
        const patch = JSON.stringify({ metadata: { labels: { 'chainsmith.dev/probe': randomSuffix() } } });
        const r = await kubectl([
          '-n',
          ns,
          'patch',
          'taskrun',
          probe.metadata.name!,
          '--type=merge',
          '-p',
          patch,
          `--as=${saUsername(systemNs, suffix)}`,
        ]);
        return r.code !== 0 && r.stderr.includes(`ValidatingAdmissionPolicy '${policy}'`);
      },
      { timeoutMs: 30_000, intervalMs: 500, description: `${policy} denying a label change made as ${sa}` },
    );

    const secrets = await x509SecretsDir('chainsmith-rbac-keys-');
    const lease = `chainsmith-rbac-${suffix}`;
    const controller = await startController(
      [
        '--kubeconfig',
        saKubeconfig,
        '--namespace',
        ns,
        '--signing-secrets-dir',
        secrets,
        '--metrics-addr',
        '127.0.0.1:0',
        '--leader-elect=true',
        '--lease-name',
        lease,
      ],
      { SYSTEM_NAMESPACE: systemNs, DOCKER_CONFIG: dockerConfigDir },
    );
    try {
      const image = await pushRandomImage(`${stackEnv().registry}/manifests-rbac/app-${suffix}`);
      const tr = await createTaskRun(ns, {
        spec: { serviceAccountName: 'pusher', taskRef: { kind: 'Task', name: 'build-push' } },
      });
      await completeTaskRun(ns, tr.metadata.name!, {
        results: [
          { name: 'IMAGE_URL', type: 'string', value: image.repository.replace(stackEnv().registry, front.host) },
          { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
        ],
      });
      const signedRun = await waitFor(
        async () => {
          const r = await getTaskRun(ns, tr.metadata.name!);
          return r.metadata.annotations?.['chains.tekton.dev/signed'] ? r : undefined;
        },
        {
          timeoutMs: 90_000,
          description: `TaskRun signed by the RBAC-limited controller\n${controller.logs().slice(-3000)}`,
        },
      );
      assert.equal(
        signedRun.metadata.annotations?.['chains.tekton.dev/signed'],
        'true',
        controller.logs().slice(-3000),
      );
      assert.ok(
        signedRun.metadata.annotations?.[`chains.tekton.dev/payload-taskrun-${signedRun.metadata.uid}`],
        'tekton storage wrote the payload',
      );
      // Both pushes went through the authenticating front: the signature and the attestation are in the registry.
      const tag = image.digest.replace(':', '-');
      for (const kind of ['sig', 'att']) {
        assert.ok(
          await fetchManifest(image.repository, `${tag}.${kind}`),
          `.${kind} pushed with the registry credentials`,
        );
      }
      // Its Event and its Lease, written with the ServiceAccount.
      const events = await waitFor(
        async () => {
          const list = await eventsOf(ns, { uid: signedRun.metadata.uid! });
          return list.some((e) => e.reason === 'Signed') ? list : undefined;
        },
        { timeoutMs: 30_000, description: 'a Signed Event written with the ServiceAccount' },
      );
      assert.ok(events.length > 0);
      const leaseObj = JSON.parse(await mustKubectl(['-n', systemNs, 'get', 'lease', lease, '-o', 'json'])) as {
        spec: { holderIdentity?: string };
      };
      assert.ok(leaseObj.spec.holderIdentity, 'the controller holds its Lease');
      return controller.lines.filter((l) => /forbidden|\b403\b/i.test(l));
    } finally {
      await controller.stop();
      await rm(secrets, { recursive: true, force: true });
    }
  } finally {
    await front.close();
    // Clean up the cluster-scoped objects this test created (namespaces stay: the stack has no namespace controller).
    await kubectl([
      'delete',
      'clusterrolebinding',
      `chainsmith-controller-${suffix}`,
      `${REGISTRY_AUTH}-${suffix}`,
      '--ignore-not-found',
    ]);
    await kubectl([
      'delete',
      'clusterrole',
      `chainsmith-controller-${suffix}`,
      `${REGISTRY_AUTH}-${suffix}`,
      '--ignore-not-found',
    ]);
    await kubectl([
      'delete',
      'validatingadmissionpolicybinding',
      `${ADMISSION_POLICY}-${suffix}`,
      '--ignore-not-found',
    ]);
    await kubectl(['delete', 'validatingadmissionpolicy', `${ADMISSION_POLICY}-${suffix}`, '--ignore-not-found']);
    await rm(work, { recursive: true, force: true });
    await rm(overlay, { recursive: true, force: true });
  }
}

test(
  "the controller signs with nothing but the base's RBAC: a token of its ServiceAccount, leader election on, `oci` pushed with the mounted $DOCKER_CONFIG",
  { timeout: 5 * 60_000 },
  async () => {
    const refused = await signAsServiceAccount({ component: false, mountedDockerConfig: true });
    // The one request the base refuses by design: reading the run's ServiceAccount in the build namespace. The
    // controller warns and carries on with the mounted credentials; nothing else it does is refused.
    assert.ok(refused.length > 0, 'the base does not let the controller read the run ServiceAccount');
    const unexpected = refused.filter((l) => !l.includes('cannot read the run ServiceAccount'));
    assert.deepEqual(unexpected, [], 'no other API request was refused');
  },
);

test(
  'with the run-registry-credentials component the controller pushes with the run ServiceAccount Secret, and nothing is refused',
  { timeout: 5 * 60_000 },
  async () => {
    const refused = await signAsServiceAccount({ component: true, mountedDockerConfig: false });
    assert.deepEqual(refused, [], 'no API request was refused');
  },
);

test('the keyless component mounts a projected sigstore-audience token where chainsmith reads it by default', async () => {
  await applyBase();
  const overlay = await writeOverlay({ component: false, keyless: true });
  try {
    const base = await render(BASE);
    const withKeyless = await render(overlay);
    type Deployment = K8sObject & {
      spec: {
        template: {
          spec: {
            volumes: Array<{ name: string; projected?: unknown }>;
            containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
          };
        };
      };
    };
    const deployment = (objs: K8sObject[]) => objs.find((o) => o.kind === 'Deployment') as Deployment;
    const pod = deployment(withKeyless).spec.template.spec;
    const volume = pod.volumes.find((v) => v.name === 'oidc-info');
    assert.deepEqual(volume?.projected, {
      sources: [{ serviceAccountToken: { path: 'oidc-token', expirationSeconds: 600, audience: 'sigstore' } }],
    });
    const mount = pod.containers[0]!.volumeMounts.find((m) => m.name === 'oidc-info');
    // the mount + path is DEFAULT_TOKEN_FILE (src/sigstore/identity-token.ts), cosign's and Chains' default
    assert.equal(`${mount?.mountPath}/oidc-token`, DEFAULT_TOKEN_FILE);
    assert.equal(mount?.readOnly, true);
    // nothing else changes: the ConfigMap is left to the operator
    const others = (objs: K8sObject[]) => objs.filter((o) => o.kind !== 'Deployment');
    assert.deepEqual(others(withKeyless), others(base));
    await mustKubectl(['apply', '-k', overlay, '--dry-run=server', '--validate=strict']);
  } finally {
    await rm(overlay, { recursive: true, force: true });
  }
});

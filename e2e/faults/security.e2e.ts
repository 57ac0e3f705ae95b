// Fault scenario 7 (docs/reliability.md): security.
// 1. No secret in any log or Event: this file drives the controller through every path that handles one — a wrong
//    and then the right cosign password, registry credentials (right and wrong) behind a Basic-auth front, a Vault
//    token (right and wrong) — then scans its own controllers' output, the logs the other fault scenarios saved
//    (.stack/faults/logs) for their secrets (.stack/faults/secrets), and every Event in the cluster.
// 2. RBAC least privilege of manifests/ for the controller's ServiceAccount, asked of the real kube-apiserver with
//    `kubectl auth can-i --as=…` and with real requests impersonating it: the base reads Secrets only in
//    `tekton-chains`; the opt-in component components/run-registry-credentials adds get-by-name elsewhere, never
//    list or watch.
// 3. What the controller's identity may change on a run: the ValidatingAdmissionPolicy of manifests/, on the real
//    kube-apiserver, lets it add and remove annotations and finalizers (also on a run being deleted) and denies any
//    patch that changes spec, labels or ownerReferences; other identities are not bound.
// 4. The container runs non-root with a read-only root filesystem (Deployment and Dockerfile, statically).
// Runs last among the fault files (alphabetical order), so in `npm run e2e` it sees the whole suite's output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SECRETS, SERVICEACCOUNTS } from '../../src/kube/client.js';
import { FAULTS_PASSWORD, WRONG_PASSWORD, faultsDir, pemLines, pushImages, scenario, type Scenario } from './lib.js';
import {
  basicAuthFront,
  completeTaskRun,
  createNamespace,
  createPipelineRun,
  createTaskRun,
  eventsOf,
  getTaskRun,
  kube,
  kubectl,
  randomSuffix,
  REPO_ROOT,
  stackEnv,
  waitFor,
  type BasicAuthFront,
  type ControllerProcess,
} from '../lib/index.js';

const SA = 'system:serviceaccount:tekton-chains:tekton-chains-controller';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const REGISTRY_USER = 'faults-pusher';
const REGISTRY_PASSWORD = `faults-registry-pw-${randomSuffix(6)}`;
const WRONG_REGISTRY_PASSWORD = `faults-registry-wrong-${randomSuffix(6)}`;
const FAKE_VAULT_TOKEN = `hvs.faults${randomSuffix(10)}`;

/** Every test secret this file handles; the other scenarios' are read from .stack/faults/secrets. */
function ownSecrets(s: Scenario): string[] {
  const vault = stackEnv().vars.VAULT_TOKEN;
  return [
    FAULTS_PASSWORD,
    WRONG_PASSWORD,
    s.keys.privateKeyBody,
    ...pemLines(s.keys.encryptedKey),
    REGISTRY_PASSWORD,
    WRONG_REGISTRY_PASSWORD,
    b64(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`),
    b64(`${REGISTRY_USER}:${WRONG_REGISTRY_PASSWORD}`),
    FAKE_VAULT_TOKEN,
    ...(vault ? [vault] : []),
  ];
}

async function dockerSecret(namespace: string, name: string, registry: string, password: string): Promise<void> {
  const auth = b64(`${REGISTRY_USER}:${password}`);
  await kube().create(SECRETS, namespace, {
    metadata: { name },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { auth } } })) },
  });
}

async function runWithImage(ns: string, sa: string, repository: string, digest: string): Promise<string> {
  const tr = await createTaskRun(ns, {
    spec: { serviceAccountName: sa, taskRef: { kind: 'Task', name: 'build-push' } },
  });
  await completeTaskRun(ns, tr.metadata.name!, {
    results: [
      { name: 'IMAGE_DIGEST', type: 'string', value: digest },
      { name: 'IMAGE_URL', type: 'string', value: repository },
    ],
  });
  return tr.metadata.name!;
}

const mark = async (ns: string, name: string) =>
  (await getTaskRun(ns, name)).metadata.annotations?.['chains.tekton.dev/signed'];

/** Names of the secrets found in `text` (never the secrets themselves). */
function leaks(text: string, secrets: string[], where: string): string[] {
  return secrets
    .filter((x) => x.length >= 8 && text.includes(x))
    .map((x) => `${where} contains a test secret of ${x.length} chars starting ${x.slice(0, 3)}…`);
}

describe('no secret in any log or Event', () => {
  let s: Scenario;
  let front: BasicAuthFront;
  before(async () => {
    s = await scenario('security', {
      'artifacts.taskrun.storage': 'tekton',
      'artifacts.oci.storage': 'oci,tekton',
      'chainsmith.max-retries': '0',
    });
    front = await basicAuthFront(REGISTRY_USER, REGISTRY_PASSWORD);
  });
  after(async () => {
    await front?.close();
    await s?.teardown();
  });

  test(
    'wrong/right cosign password, registry credentials, Vault tokens: none reaches a log or an Event',
    { timeout: 240_000 },
    async () => {
      const ns = s.ns;
      await dockerSecret(ns, 'push-ok', front.host, REGISTRY_PASSWORD);
      await dockerSecret(ns, 'push-wrong', front.host, WRONG_REGISTRY_PASSWORD);
      await kube().create(SERVICEACCOUNTS, ns, { metadata: { name: 'pusher' }, secrets: [{ name: 'push-ok' }] });
      await kube().create(SERVICEACCOUNTS, ns, {
        metadata: { name: 'wrong-pusher' },
        secrets: [{ name: 'push-wrong' }],
      });
      const [okImage, wrongImage] = await pushImages(2, 'security');
      const viaFront = (img: { repository: string }) => img.repository.replace(stackEnv().registry, front.host);

      // a wrong cosign password first: KeyDecryptFailed on every path that reports it
      await writeFile(join(s.keys.dir, 'cosign.password'), WRONG_PASSWORD);
      const controller = await s.start();
      await controller.waitForLog(/informers synced/, 30_000);
      const pwRun = await runWithImage(ns, 'pusher', viaFront(okImage!), okImage!.digest);
      await waitFor(async () => (await mark(ns, pwRun)) === 'failed', {
        timeoutMs: 60_000,
        description: 'wrong-password run marked failed',
      });
      await writeFile(join(s.keys.dir, 'cosign.password'), FAULTS_PASSWORD);
      await waitFor(async () => (await mark(ns, pwRun)) === 'true', {
        timeoutMs: 60_000,
        description: 'signed through the authenticating registry after the fix',
      });
      // wrong registry credentials: RegistryUnauthorized
      const wrongRun = await runWithImage(ns, 'wrong-pusher', viaFront(wrongImage!), wrongImage!.digest);
      await waitFor(async () => (await mark(ns, wrongRun)) === 'failed', {
        timeoutMs: 60_000,
        description: 'wrong-credentials run marked failed',
      });
      assert.match(
        (await getTaskRun(ns, wrongRun)).metadata.annotations!['chainsmith.dev/last-failure']!,
        /Unauthori[sz]ed|401/,
      );

      // Vault: a wrong token, then the stack's real one
      const vaultAddr = stackEnv().vars.VAULT_ADDR;
      const vaultLogs: ControllerProcess[] = [];
      // without the add-on the scan below still runs, and the test then fails on the missing Vault paths
      if (vaultAddr) {
        const kmsCfg = {
          'artifacts.taskrun.storage': 'tekton',
          'artifacts.taskrun.signer': 'kms',
          'artifacts.oci.storage': 'tekton',
          'artifacts.oci.signer': 'kms',
          'signers.kms.kmsref': `hashivault://${stackEnv().vars.CHAINSMITH_VAULT_KEY ?? 'chainsmith-ecdsa-p256'}`,
          'chainsmith.max-retries': '0',
        };
        for (const [token, expect] of [
          [FAKE_VAULT_TOKEN, 'failed'],
          [stackEnv().vars.VAULT_TOKEN!, 'true'],
        ] as const) {
          const k = await scenario(`security-kms-${expect}`, kmsCfg);
          // the token reaches the controller through its environment, as a Deployment would give it
          const c = await k.start([], { VAULT_ADDR: vaultAddr, VAULT_TOKEN: token });
          vaultLogs.push(c);
          await c.waitForLog(/informers synced/, 30_000);
          const run = await runWithImage(k.ns, 'default', 'registry.example/vault', 'sha256:' + 'a'.repeat(64));
          await waitFor(async () => (await mark(k.ns, run)) === expect, {
            timeoutMs: 60_000,
            description: `Vault run marked ${expect}`,
          });
          await k.teardown();
        }
      }

      // the scan: our controllers, every saved fault log, every Event in the cluster
      const secrets = new Set(ownSecrets(s));
      const dir = faultsDir();
      for (const f of await readdir(join(dir, 'secrets')).catch(() => [] as string[])) {
        for (const x of JSON.parse(await readFile(join(dir, 'secrets', f), 'utf8')) as string[]) secrets.add(x);
      }
      const all = [...secrets];
      const found: string[] = [];
      const sources: Array<[string, string]> = [
        [`controller ${ns}`, controller.logs()],
        ...vaultLogs.map((c, i) => [`vault controller ${i}`, c.logs()] as [string, string]),
      ];
      for (const f of await readdir(join(dir, 'logs')).catch(() => [] as string[]))
        sources.push([`.stack/faults/logs/${f}`, await readFile(join(dir, 'logs', f), 'utf8')]);
      for (const [where, text] of sources) found.push(...leaks(text, all, where));
      const events = await eventsOf(undefined);
      found.push(...leaks(JSON.stringify(events), all, `the ${events.length} Events of the cluster`));
      const linesScanned = sources.reduce((n, [, t]) => n + t.split('\n').length, 0);
      console.log(
        `secret scan: ${all.length} secrets, ${sources.length} logs (${linesScanned} lines), ${events.length} Events`,
      );
      assert.ok(
        controller.logs().includes('KeyDecryptFailed'),
        'the wrong password was reported (so the scan covers that path)',
      );
      assert.deepEqual(found, []);
      assert.ok(
        vaultAddr,
        'the stack runs its Vault-compatible server (e2e/stack/addons/openbao-up.sh): VAULT_ADDR is set, so the Vault token paths were scanned too',
      );
    },
  );
});

// ---- RBAC ------------------------------------------------------------------------------------------------------

/** `kubectl auth can-i … --as=<controller SA>`: true for yes. */
async function can(verb: string, resource: string, ns: string | undefined, extraArgs: string[] = []): Promise<boolean> {
  const r = await kubectl([
    'auth',
    'can-i',
    verb,
    resource,
    ...(ns ? ['-n', ns] : ['--all-namespaces']),
    ...extraArgs,
    `--as=${SA}`,
  ]);
  assert.ok(r.code === 0 || r.code === 1, `kubectl auth can-i ${verb} ${resource}: ${r.stderr.trim()}`);
  return r.code === 0;
}

const BASE = join(REPO_ROOT, 'manifests');
const REGISTRY_AUTH = 'chainsmith-controller-registry-auth';

/** A real request made as the controller's ServiceAccount (impersonation): exit code and stderr. */
const asController = (args: string[]) => kubectl([...args, `--as=${SA}`]);

/** The permissions checked in both set-ups: what the controller may never do, and what signing needs. */
async function assertRunsAndOwnNamespace(other: string): Promise<void> {
  const denied: Array<[string, string, string | undefined, string[]?]> = [
    ['create', 'secrets', other],
    ['update', 'secrets', 'tekton-chains'],
    ['delete', 'secrets', 'tekton-chains'],
    ['patch', 'configmaps', 'tekton-chains'],
    ['delete', 'leases.coordination.k8s.io', 'tekton-chains'],
    ['create', 'pods', other],
  ];
  for (const res of ['taskruns.tekton.dev', 'pipelineruns.tekton.dev']) {
    for (const verb of ['create', 'update', 'delete', 'deletecollection'])
      denied.push([verb, res, other], [verb, res, undefined]);
    denied.push(['patch', res, other, ['--subresource=status']], ['update', res, other, ['--subresource=status']]);
  }
  const wrongly: string[] = [];
  for (const [verb, res, ns, extra] of denied)
    if (await can(verb, res, ns, extra))
      wrongly.push(`${verb} ${res} ${extra?.join(' ') ?? ''} in ${ns ?? 'all namespaces'}`);
  assert.deepEqual(wrongly, [], 'the controller may do none of these');
  // and what it needs still works
  const allowed: Array<[string, string, string | undefined]> = [
    ['create', 'events', other],
    ['get', 'secrets', 'tekton-chains'],
    ['list', 'secrets', 'tekton-chains'],
    ['watch', 'secrets', 'tekton-chains'],
    ['watch', 'configmaps', 'tekton-chains'],
    ['update', 'leases.coordination.k8s.io', 'tekton-chains'],
  ];
  for (const res of ['taskruns.tekton.dev', 'pipelineruns.tekton.dev']) {
    for (const verb of ['get', 'list', 'watch', 'patch']) allowed.push([verb, res, other], [verb, res, undefined]);
  }
  const missing: string[] = [];
  for (const [verb, res, ns] of allowed)
    if (!(await can(verb, res, ns))) missing.push(`${verb} ${res} in ${ns ?? 'all namespaces'}`);
  assert.deepEqual(missing, [], 'the controller needs all of these');
}

describe('RBAC of manifests/ is least privilege', () => {
  let other: string; // a build namespace, with a registry Secret and a ServiceAccount naming it
  const secretIn = { tektonChains: `rbac-probe-${randomSuffix()}`, other: 'registry' };
  before(async () => {
    if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0)
      await kubectl(['create', 'namespace', 'tekton-chains']);
    // An earlier chainsmith's base bound the registry-auth ClusterRole cluster-wide; `kubectl apply` does not prune,
    // so upgrading deletes it by hand (docs/install.md). A base that still bound it would re-create it here.
    const del = await kubectl(['delete', 'clusterrolebinding', REGISTRY_AUTH, '--ignore-not-found']);
    assert.equal(del.code, 0, del.stderr);
    const r = await kubectl(['apply', '-k', BASE]);
    assert.equal(r.code, 0, r.stderr);
    other = await createNamespace('security-rbac');
    const data = { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'registry.example': { auth: b64('u:p') } } })) };
    await kube().create(SECRETS, other, {
      metadata: { name: secretIn.other },
      type: 'kubernetes.io/dockerconfigjson',
      data,
    });
    await kube().create(SERVICEACCOUNTS, other, { metadata: { name: 'pusher' }, secrets: [{ name: secretIn.other }] });
    await kube().create(SECRETS, 'tekton-chains', {
      metadata: { name: secretIn.tektonChains },
      stringData: { key: 'value' },
    });
  });
  after(async () => {
    // leave the stack as the base installs it
    await kubectl(['delete', 'clusterrolebinding', REGISTRY_AUTH, '--ignore-not-found']);
    await kubectl(['-n', 'tekton-chains', 'delete', 'secret', secretIn.tektonChains, '--ignore-not-found']);
  });

  test('the base: Secrets only in tekton-chains; runs get/list/watch/patch only; no status writes, no Pods', async () => {
    await assertRunsAndOwnNamespace(other);
    const denied: Array<[string, string, string | undefined]> = [];
    for (const verb of ['get', 'list', 'watch'])
      denied.push([verb, 'secrets', other], [verb, 'secrets', undefined], [verb, 'serviceaccounts', other]);
    const wrongly: string[] = [];
    for (const [verb, res, ns] of denied)
      if (await can(verb, res, ns)) wrongly.push(`${verb} ${res} in ${ns ?? 'all namespaces'}`);
    assert.deepEqual(wrongly, [], 'no Secret and no ServiceAccount outside tekton-chains');

    // Real requests as the controller: its own namespace's Secrets yes, another namespace's no, not even by name.
    const own = await asController(['-n', 'tekton-chains', 'get', 'secret', secretIn.tektonChains, '-o', 'name']);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(
      (await asController(['-n', 'tekton-chains', 'get', 'secrets', '-o', 'name'])).code,
      0,
      'lists the Secrets of tekton-chains',
    );
    for (const args of [
      ['-n', other, 'get', 'secret', secretIn.other],
      ['-n', other, 'get', 'serviceaccount', 'pusher'],
      ['get', 'secrets', '--all-namespaces'],
    ]) {
      const r = await asController(args);
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} as the controller succeeded`);
      assert.match(r.stderr, /forbidden/i, `kubectl ${args.join(' ')}`);
    }
  });

  test('with components/run-registry-credentials: a Secret in another namespace by name, still no list or watch', async () => {
    const overlay = await mkdtemp(join(tmpdir(), 'chainsmith-security-overlay-'));
    try {
      await writeFile(
        join(overlay, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources:',
          `  - ${relative(overlay, BASE)}`,
          'components:',
          `  - ${relative(overlay, join(BASE, 'components', 'run-registry-credentials'))}`,
          '',
        ].join('\n'),
      );
      const r = await kubectl(['apply', '-k', overlay]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await rm(overlay, { recursive: true, force: true });
    }
    try {
      // what the component is for: the run's ServiceAccount and the Secret it names, read by name
      assert.equal(await can('get', 'serviceaccounts', other), true, 'get serviceaccounts in a build namespace');
      assert.equal(await can('get', 'secrets', other), true, 'get secrets in a build namespace');
      const sa = await asController([
        '-n',
        other,
        'get',
        'serviceaccount',
        'pusher',
        '-o',
        'jsonpath={.secrets[0].name}',
      ]);
      assert.equal(sa.code, 0, sa.stderr);
      const secret = await asController(['-n', other, 'get', 'secret', sa.stdout, '-o', 'jsonpath={.type}']);
      assert.equal(secret.code, 0, secret.stderr);
      assert.equal(secret.stdout, 'kubernetes.io/dockerconfigjson');
      // and no more: it cannot discover Secrets, here or cluster-wide, nor write them
      const wrongly: string[] = [];
      for (const [verb, res, ns] of [
        ['list', 'secrets', other],
        ['watch', 'secrets', other],
        ['list', 'secrets', undefined],
        ['watch', 'secrets', undefined],
        ['list', 'serviceaccounts', undefined],
        ['update', 'secrets', other],
        ['delete', 'secrets', other],
      ] as const) {
        if (await can(verb, res, ns)) wrongly.push(`${verb} ${res} in ${ns ?? 'all namespaces'}`);
      }
      assert.deepEqual(wrongly, [], 'the component grants get only');
      const list = await asController(['get', 'secrets', '--all-namespaces']);
      assert.notEqual(list.code, 0, 'listed every Secret of the cluster');
      assert.match(list.stderr, /forbidden/i);
      await assertRunsAndOwnNamespace(other);
    } finally {
      // back to the base: removing the binding removes the access
      const del = await kubectl(['delete', 'clusterrolebinding', REGISTRY_AUTH]);
      assert.equal(del.code, 0, del.stderr);
    }
    assert.equal(
      await can('get', 'secrets', other),
      false,
      'without the component no Secret outside tekton-chains is readable',
    );
  });
});

// ---- what the controller may change on a run --------------------------------------------------------------------

const POLICY = 'chainsmith-controller-run-patches';
/** The start of the policy's denial, as the API server returns it; the changed fields follow. */
const DENIED = `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: ${POLICY}: the chainsmith controller may change only metadata.annotations and metadata.finalizers of a run, not `;

interface RunObject {
  metadata: {
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: unknown[];
    deletionTimestamp?: string;
  };
  spec: Record<string, unknown>;
  status?: unknown;
}

interface RunKind {
  plural: 'taskruns' | 'pipelineruns';
  finalizer: string;
  create(ns: string): Promise<string>;
  /** Two spec changes a controller must never make: the timeout, a parameter. */
  specChanges: object[];
}

const PARAMS = [{ name: 'revision', value: 'main' }];
const RUN_KINDS: RunKind[] = [
  {
    plural: 'taskruns',
    finalizer: 'chains.tekton.dev/taskrun',
    create: async (ns) =>
      (
        await createTaskRun(ns, {
          spec: {
            serviceAccountName: 'default',
            timeout: '1h0m0s',
            params: PARAMS,
            taskRef: { kind: 'Task', name: 'build-push' },
          },
        })
      ).metadata.name!,
    specChanges: [{ timeout: '24h0m0s' }, { params: [{ name: 'revision', value: 'attacker' }] }],
  },
  {
    plural: 'pipelineruns',
    finalizer: 'chains.tekton.dev/pipelinerun',
    create: async (ns) =>
      (
        await createPipelineRun(ns, {
          spec: {
            pipelineRef: { name: 'build-and-push' },
            params: PARAMS,
            timeouts: { pipeline: '1h0m0s' },
            taskRunTemplate: { serviceAccountName: 'default' },
          },
        })
      ).metadata.name!,
    specChanges: [{ timeouts: { pipeline: '24h0m0s' } }, { params: [{ name: 'revision', value: 'attacker' }] }],
  },
];

async function getRun(ns: string, plural: string, name: string): Promise<RunObject> {
  const r = await kubectl(['-n', ns, 'get', plural, name, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as RunObject;
}

/** A JSON merge patch of a run, as the controller sends them, made with the controller's identity. */
const patchAsController = (ns: string, plural: string, name: string, body: object) =>
  asController(['-n', ns, 'patch', plural, name, '--type=merge', '-p', JSON.stringify(body)]);

describe("runs: the controller's identity changes annotations and finalizers, nothing else (admission policy of manifests/)", () => {
  let ns: string;
  before(async () => {
    if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0)
      await kubectl(['create', 'namespace', 'tekton-chains']);
    const r = await kubectl(['apply', '-k', BASE]);
    assert.equal(r.code, 0, r.stderr);
    ns = await createNamespace('security-run-patches');
    // A new binding takes effect once the API server's policy informer has it: wait until a label change is denied.
    const probe = await RUN_KINDS[0]!.create(ns);
    await waitFor(
      async () => {
        const p = await patchAsController(ns, 'taskruns', probe, {
          metadata: { labels: { 'chainsmith.dev/probe': randomSuffix() } },
        });
        return p.code !== 0 && p.stderr.includes(DENIED);
      },
      { timeoutMs: 30_000, intervalMs: 500, description: `${POLICY} denying a label change made as the controller` },
    );
  });

  for (const kind of RUN_KINDS) {
    test(`${kind.plural}: adding and removing annotations and the ${kind.finalizer} finalizer is allowed, also while the run is deleted; status stays Tekton's`, async () => {
      const name = await kind.create(ns);
      const before = await getRun(ns, kind.plural, name);
      // what a successful reconcile writes: annotations and the finalizer, with a resourceVersion precondition
      const mark = await patchAsController(ns, kind.plural, name, {
        metadata: {
          resourceVersion: before.metadata.resourceVersion,
          annotations: { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/probe': 'x' },
          finalizers: [kind.finalizer],
        },
      });
      assert.equal(mark.code, 0, mark.stderr);
      const marked = await getRun(ns, kind.plural, name);
      assert.equal(marked.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
      assert.deepEqual(marked.metadata.finalizers, [kind.finalizer]);
      assert.deepEqual([marked.spec, marked.metadata.labels], [before.spec, before.metadata.labels]);
      // removing an annotation and the finalizer
      const unmark = await patchAsController(ns, kind.plural, name, {
        metadata: { annotations: { 'chainsmith.dev/probe': null }, finalizers: null },
      });
      assert.equal(unmark.code, 0, unmark.stderr);
      const unmarked = await getRun(ns, kind.plural, name);
      assert.equal(unmarked.metadata.finalizers, undefined);
      assert.equal(unmarked.metadata.annotations?.['chainsmith.dev/probe'], undefined);
      assert.equal(unmarked.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
      // A status in the patch is ignored, not applied: the runs' main resource never writes status (RBAC grants no
      // status subresource), so Tekton's status cannot be rewritten either.
      const status = await patchAsController(ns, kind.plural, name, {
        status: { conditions: [{ type: 'Succeeded', status: 'True', reason: 'Forged' }] },
      });
      assert.equal(status.code, 0, status.stderr);
      assert.deepEqual((await getRun(ns, kind.plural, name)).status, unmarked.status, 'status unchanged');

      // the finalizer's purpose: a run deleted while marked stays until the controller removes the finalizer
      assert.equal(
        (await patchAsController(ns, kind.plural, name, { metadata: { finalizers: [kind.finalizer] } })).code,
        0,
      );
      const del = await kubectl(['-n', ns, 'delete', kind.plural, name, '--wait=false']);
      assert.equal(del.code, 0, del.stderr);
      assert.ok((await getRun(ns, kind.plural, name)).metadata.deletionTimestamp, 'held by the finalizer');
      const release = await patchAsController(ns, kind.plural, name, { metadata: { finalizers: null } });
      assert.equal(release.code, 0, release.stderr);
      const gone = await kubectl(['-n', ns, 'get', kind.plural, name]);
      assert.match(gone.stderr, /NotFound/, 'deleted once the finalizer is removed');
    });

    test(`${kind.plural}: a change of spec, labels or ownerReferences made as the controller is denied, and nothing of it is applied`, async () => {
      const name = await kind.create(ns);
      const before = await getRun(ns, kind.plural, name);
      const labelKey = kind.plural === 'taskruns' ? 'tekton.dev/taskRun' : 'tekton.dev/pipelineRun';
      const ownerReferences = [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'attacker', uid: '00000000-0000-0000-0000-000000000001' },
      ];
      const attempts: Array<[string, object, string]> = [
        ...kind.specChanges.map((spec): [string, object, string] => [`spec ${JSON.stringify(spec)}`, { spec }, 'spec']),
        ['a new label', { metadata: { labels: { 'chainsmith.dev/probe': 'x' } } }, 'metadata.labels'],
        [
          'a changed label',
          { metadata: { labels: { 'app.kubernetes.io/managed-by': 'attacker' } } },
          'metadata.labels',
        ],
        ['a removed label', { metadata: { labels: { [labelKey]: null } } }, 'metadata.labels'],
        ['ownerReferences', { metadata: { ownerReferences } }, 'metadata.ownerReferences'],
        // one forbidden field spoils the whole patch: its annotation is not written either
        [
          'an annotation with a label',
          {
            metadata: { annotations: { 'chains.tekton.dev/signed': 'true' }, labels: { 'chainsmith.dev/probe': 'x' } },
          },
          'metadata.labels',
        ],
        [
          'spec and a label',
          { spec: kind.specChanges[0], metadata: { labels: { 'chainsmith.dev/probe': 'x' } } },
          'spec, metadata.labels',
        ],
      ];
      const wrong: string[] = [];
      for (const [what, body, fields] of attempts) {
        const r = await patchAsController(ns, kind.plural, name, body);
        if (r.code === 0) wrong.push(`${what}: accepted`);
        else if (!r.stderr.includes(DENIED + fields))
          wrong.push(`${what}: refused, but not by ${POLICY} naming ${fields}: ${r.stderr.trim()}`);
      }
      assert.deepEqual(wrong, [], 'every change is denied by the policy, which names the changed fields');
      const after = await getRun(ns, kind.plural, name);
      assert.deepEqual(after, before, 'the run is exactly as it was (same resourceVersion)');
    });

    test(`${kind.plural}: the policy binds only the controller: the admin still changes spec, labels and ownerReferences`, async () => {
      const name = await kind.create(ns);
      const ownerReferences = [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '00000000-0000-0000-0000-000000000002' },
      ];
      const body = {
        spec: kind.specChanges[1],
        metadata: { labels: { 'chainsmith.dev/probe': 'admin' }, ownerReferences },
      };
      const r = await kubectl(['-n', ns, 'patch', kind.plural, name, '--type=merge', '-p', JSON.stringify(body)]);
      assert.equal(r.code, 0, r.stderr);
      const after = await getRun(ns, kind.plural, name);
      assert.deepEqual(after.spec.params, [{ name: 'revision', value: 'attacker' }]);
      assert.equal(after.metadata.labels?.['chainsmith.dev/probe'], 'admin');
      assert.deepEqual(after.metadata.ownerReferences, ownerReferences);
    });
  }
});

// ---- container -------------------------------------------------------------------------------------------------

test('the container runs non-root with a read-only root filesystem (Deployment and Dockerfile)', async () => {
  const docs = parseAllDocuments(await readFile(join(REPO_ROOT, 'manifests', 'deployment.yaml'), 'utf8')).map(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped YAML
    (d) => d.toJS() as Record<string, any>,
  );
  const dep = docs.find((d) => d?.kind === 'Deployment');
  assert.ok(dep, 'a Deployment in manifests/deployment.yaml');
  const pod = dep.spec.template.spec;
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.notEqual(pod.securityContext?.runAsUser, 0);
  for (const c of pod.containers) {
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${c.name}: read-only root filesystem`);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${c.name}: drops all capabilities`);
    assert.notEqual(c.securityContext?.runAsUser, 0);
  }
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const user = /^USER\s+(\S+)/m.exec(finalStage)?.[1];
  assert.ok(user, 'the final stage sets USER');
  assert.ok(!/^(0|root)(:|$)/.test(user), `USER ${user} is not root`);
});

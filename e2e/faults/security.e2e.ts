// Fault scenario 7 (docs/reliability.md): security.
// 1. No secret in any log or Event: this file drives the controller through every path that handles one — a wrong
//    and then the right cosign password, registry credentials (right and wrong) behind a Basic-auth front, a Vault
//    token (right and wrong) — then scans its own controllers' output, the logs the other fault scenarios saved
//    (.stack/faults/logs) for their secrets (.stack/faults/secrets), and every Event in the cluster.
// 2. RBAC least privilege of manifests/ with `kubectl auth can-i --as=<the controller's ServiceAccount>`.
// 3. The container runs non-root with a read-only root filesystem (Deployment and Dockerfile, statically).
// Runs last among the fault files (alphabetical order), so in `npm run e2e` it sees the whole suite's output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  FAULTS_PASSWORD,
  WRONG_PASSWORD,
  faultsDir,
  pemLines,
  pushImages,
  scenario,
  type Scenario,
} from './lib.js';
import { completeTaskRun, createTaskRun, getTaskRun, kube, randomSuffix, REPO_ROOT, stackEnv, waitFor, type ControllerProcess } from '../lib/index.js';

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

/** A registry front that only lets REGISTRY_USER:REGISTRY_PASSWORD through, forwarding to the stack's registry. */
async function basicAuthFront(): Promise<{ host: string; close(): void }> {
  const expected = `Basic ${b64(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`)}`;
  const [upHost, upPort] = stackEnv().registry.split(':');
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' });
      res.end();
      req.resume();
      return;
    }
    const up = http.request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function dockerSecret(namespace: string, name: string, registry: string, password: string): Promise<void> {
  const auth = b64(`${REGISTRY_USER}:${password}`);
  await kube().core.createNamespacedSecret({
    namespace,
    body: { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { auth } } })) } },
  });
}

async function runWithImage(ns: string, sa: string, repository: string, digest: string): Promise<string> {
  const tr = await createTaskRun(ns, { spec: { serviceAccountName: sa, taskRef: { kind: 'Task', name: 'build-push' } } });
  await completeTaskRun(ns, tr.metadata.name!, {
    results: [
      { name: 'IMAGE_DIGEST', type: 'string', value: digest },
      { name: 'IMAGE_URL', type: 'string', value: repository },
    ],
  });
  return tr.metadata.name!;
}

const mark = async (ns: string, name: string) => (await getTaskRun(ns, name)).metadata.annotations?.['chains.tekton.dev/signed'];

/** Names of the secrets found in `text` (never the secrets themselves). */
function leaks(text: string, secrets: string[], where: string): string[] {
  return secrets.filter((x) => x.length >= 8 && text.includes(x)).map((x) => `${where} contains a test secret of ${x.length} chars starting ${x.slice(0, 3)}…`);
}

describe('no secret in any log or Event', () => {
  let s: Scenario;
  let front: { host: string; close(): void };
  before(async () => {
    s = await scenario('security', { 'artifacts.taskrun.storage': 'tekton', 'artifacts.oci.storage': 'oci,tekton', 'chainsmith.max-retries': '0' });
    front = await basicAuthFront();
  });
  after(async () => {
    front?.close();
    await s?.teardown();
  });

  test('wrong/right cosign password, registry credentials, Vault tokens: none reaches a log or an Event', { timeout: 240_000 }, async () => {
    const ns = s.ns;
    await dockerSecret(ns, 'push-ok', front.host, REGISTRY_PASSWORD);
    await dockerSecret(ns, 'push-wrong', front.host, WRONG_REGISTRY_PASSWORD);
    await kube().core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'pusher' }, secrets: [{ name: 'push-ok' }] } });
    await kube().core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'wrong-pusher' }, secrets: [{ name: 'push-wrong' }] } });
    const [okImage, wrongImage] = await pushImages(2, 'security');
    const viaFront = (img: { repository: string }) => img.repository.replace(stackEnv().registry, front.host);

    // a wrong cosign password first: KeyDecryptFailed on every path that reports it
    await writeFile(join(s.keys.dir, 'cosign.password'), WRONG_PASSWORD);
    const controller = await s.start();
    await controller.waitForLog(/informers synced/, 30_000);
    const pwRun = await runWithImage(ns, 'pusher', viaFront(okImage!), okImage!.digest);
    await waitFor(async () => (await mark(ns, pwRun)) === 'failed', { timeoutMs: 60_000, description: 'wrong-password run marked failed' });
    await writeFile(join(s.keys.dir, 'cosign.password'), FAULTS_PASSWORD);
    await waitFor(async () => (await mark(ns, pwRun)) === 'true', { timeoutMs: 60_000, description: 'signed through the authenticating registry after the fix' });
    // wrong registry credentials: RegistryUnauthorized
    const wrongRun = await runWithImage(ns, 'wrong-pusher', viaFront(wrongImage!), wrongImage!.digest);
    await waitFor(async () => (await mark(ns, wrongRun)) === 'failed', { timeoutMs: 60_000, description: 'wrong-credentials run marked failed' });
    assert.match((await getTaskRun(ns, wrongRun)).metadata.annotations!['chainsmith.dev/last-failure']!, /Unauthori[sz]ed|401/);

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
        await waitFor(async () => (await mark(k.ns, run)) === expect, { timeoutMs: 60_000, description: `Vault run marked ${expect}` });
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
    const sources: Array<[string, string]> = [[`controller ${ns}`, controller.logs()], ...vaultLogs.map((c, i) => [`vault controller ${i}`, c.logs()] as [string, string])];
    for (const f of await readdir(join(dir, 'logs')).catch(() => [] as string[])) sources.push([`.stack/faults/logs/${f}`, await readFile(join(dir, 'logs', f), 'utf8')]);
    for (const [where, text] of sources) found.push(...leaks(text, all, where));
    const events = await kube().core.listEventForAllNamespaces({});
    found.push(...leaks(JSON.stringify(events.items), all, `the ${events.items.length} Events of the cluster`));
    const linesScanned = sources.reduce((n, [, t]) => n + t.split('\n').length, 0);
    console.log(`secret scan: ${all.length} secrets, ${sources.length} logs (${linesScanned} lines), ${events.items.length} Events`);
    assert.ok(controller.logs().includes('KeyDecryptFailed'), 'the wrong password was reported (so the scan covers that path)');
    assert.deepEqual(found, []);
    assert.ok(vaultAddr, 'the stack runs its Vault-compatible server (e2e/stack/addons/openbao-up.sh): VAULT_ADDR is set, so the Vault token paths were scanned too');
  });
});

// ---- RBAC ------------------------------------------------------------------------------------------------------

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = stackEnv();
  return new Promise((resolve) => {
    execFile(env.kubectl, ['--kubeconfig', env.kubeconfig, ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** `kubectl auth can-i … --as=<controller SA>`: true for yes. */
async function can(verb: string, resource: string, ns: string | undefined, extraArgs: string[] = []): Promise<boolean> {
  const r = await kubectl(['auth', 'can-i', verb, resource, ...(ns ? ['-n', ns] : ['--all-namespaces']), ...extraArgs, `--as=${SA}`]);
  assert.ok(r.code === 0 || r.code === 1, `kubectl auth can-i ${verb} ${resource}: ${r.stderr.trim()}`);
  return r.code === 0;
}

describe('RBAC of manifests/ is least privilege', () => {
  before(async () => {
    if ((await kubectl(['get', 'namespace', 'tekton-chains'])).code !== 0) await kubectl(['create', 'namespace', 'tekton-chains']);
    const r = await kubectl(['apply', '-k', join(REPO_ROOT, 'manifests')]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    // put back what the hardening test removed
    await kubectl(['apply', '-k', join(REPO_ROOT, 'manifests')]);
  });

  test('the controller cannot list or watch Secrets outside its namespace, nor delete/update runs or write their status', async () => {
    const other = 'default';
    const denied: Array<[string, string, string | undefined, string[]?]> = [
      ['list', 'secrets', other],
      ['watch', 'secrets', other],
      ['list', 'secrets', undefined],
      ['create', 'secrets', other],
      ['update', 'secrets', 'tekton-chains'],
      ['delete', 'secrets', 'tekton-chains'],
      ['delete', 'taskruns.tekton.dev', other],
      ['delete', 'pipelineruns.tekton.dev', other],
      ['update', 'taskruns.tekton.dev', other],
      ['update', 'pipelineruns.tekton.dev', other],
      ['create', 'taskruns.tekton.dev', other],
      ['patch', 'taskruns.tekton.dev', other, ['--subresource=status']],
      ['update', 'taskruns.tekton.dev', other, ['--subresource=status']],
      ['patch', 'pipelineruns.tekton.dev', other, ['--subresource=status']],
      ['create', 'pods', other],
      ['patch', 'configmaps', 'tekton-chains'],
      ['delete', 'leases.coordination.k8s.io', 'tekton-chains'],
    ];
    const wrongly: string[] = [];
    for (const [verb, res, ns, extra] of denied) if (await can(verb, res, ns, extra)) wrongly.push(`${verb} ${res} ${extra?.join(' ') ?? ''} in ${ns ?? 'all namespaces'}`);
    assert.deepEqual(wrongly, [], 'the controller may do none of these');
    // and what it needs still works
    for (const [verb, res, ns] of [
      ['patch', 'taskruns.tekton.dev', other],
      ['watch', 'pipelineruns.tekton.dev', undefined],
      ['create', 'events', other],
      ['get', 'secrets', 'tekton-chains'],
      ['update', 'leases.coordination.k8s.io', 'tekton-chains'],
    ] as const) {
      assert.equal(await can(verb, res, ns), true, `it can ${verb} ${res}`);
    }
  });

  test('reading a Secret outside its namespace: the base allows get-by-name (registry credentials of the run’s ServiceAccount); the documented hardening removes even that', async () => {
    // The issue asks that the controller cannot read Secrets outside its namespace. The base grants `get` on
    // Secrets cluster-wide (never list/watch) so that `oci` storage can use the run's ServiceAccount credentials,
    // as Chains does; docs/install.md "Scoping registry credentials" removes the ClusterRoleBinding. Check both.
    const base = await can('get', 'secrets', 'default');
    const rbac = await readFile(join(REPO_ROOT, 'manifests', 'rbac.yaml'), 'utf8');
    assert.equal(base, /name: chainsmith-controller-registry-auth/.test(rbac), 'get-by-name outside the namespace comes only from the registry-auth binding');
    const r = await kubectl(['delete', 'clusterrolebinding', 'chainsmith-controller-registry-auth', '--ignore-not-found']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await can('get', 'secrets', 'default'), false, 'hardened: no Secret outside its namespace is readable');
    assert.equal(await can('get', 'secrets', 'tekton-chains'), true, 'its own signing-secrets still are');
  });
});

// ---- container -------------------------------------------------------------------------------------------------

test('the container runs non-root with a read-only root filesystem (Deployment and Dockerfile)', async () => {
  const docs = parseAllDocuments(await readFile(join(REPO_ROOT, 'manifests', 'deployment.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped YAML
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

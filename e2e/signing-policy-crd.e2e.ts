// The Kubernetes side of signing policies (docs/signing-policies.md) on the stack's real kube-apiserver: the two
// CRDs of manifests/crds (installed by e2e/stack/up.sh) are Established and served as the files say; every example
// of manifests/examples/signing-policies is accepted; each validation rule refuses what it should, with a message
// that names the field and says what is wrong; `kubectl get` shows the printer columns; and the RBAC holds as the
// tenant's own identity (a ServiceAccount token, no impersonation) and as the controller's ClusterRole.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { Condition, SigningPolicy, SigningPolicyGrant } from '../src/policy/types.js';
import { apiRequestWithToken, apiServerToken, kubectlWithToken } from './lib/bearer.js';
import { createServiceAccount } from './lib/identity.js';
import {
  grantObject as grant,
  grantRefusals,
  policyObject as policy,
  policyRefusals,
} from './lib/signing-policy-refusals.js';
import { createNamespace, ensureNamespace, kube, kubectl, randomSuffix, REPO_ROOT, waitFor } from './lib/index.js';

const CRDS = join(REPO_ROOT, 'manifests', 'crds');
const EXAMPLES = join(REPO_ROOT, 'manifests', 'examples', 'signing-policies');
const KEYLESS_TENANTS = join(REPO_ROOT, 'manifests', 'components', 'keyless-tenants');
const CONTROLLER = 'system:serviceaccount:tekton-chains:tekton-chains-controller';
const API_VERSION = 'chainsmith.dev/v1alpha1';
const POLICIES = 'signingpolicies.chainsmith.dev';
const GRANTS = 'signingpolicygrants.chainsmith.dev';

async function mustKubectl(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let examplesApplied: Promise<void> | undefined;
/**
 * The examples' RBAC applied for real once (the RBAC tests bind the editor role), and the namespaces the examples
 * name. The grants and policies themselves are only dry-run: the stack is shared, and a real grant for `team-a`
 * would be seen by every controller test that runs after this file.
 */
function applyExampleRbac(): Promise<void> {
  examplesApplied ??= (async () => {
    for (const ns of ['team-a', 'team-b', 'tekton-chains']) await ensureNamespace(kube(), ns);
    for (const file of ['platform-rbac.yaml', 'tenant-rbac.yaml'])
      await mustKubectl(['apply', '--validate=strict', '-f', join(EXAMPLES, file)]);
  })();
  return examplesApplied;
}

before(async () => {
  await applyExampleRbac();
});

test('both CRDs are Established and served as manifests/crds declares them', async () => {
  const expected = [
    { file: 'signingpolicies.yaml', name: POLICIES, kind: 'SigningPolicy', scope: 'Namespaced', short: 'sp' },
    { file: 'signingpolicygrants.yaml', name: GRANTS, kind: 'SigningPolicyGrant', scope: 'Cluster', short: 'spg' },
  ];
  assert.deepEqual((await readdir(CRDS)).sort(), expected.map((e) => e.file).sort());
  for (const e of expected) {
    const crd = JSON.parse(await mustKubectl(['get', 'crd', e.name, '-o', 'json']));
    const status = (type: string) =>
      (crd.status.conditions as Array<{ type: string; status: string }>).find((c) => c.type === type)?.status;
    assert.equal(status('Established'), 'True', `${e.name} Established`);
    assert.equal(status('NamesAccepted'), 'True', `${e.name} NamesAccepted`);
    assert.equal(crd.spec.group, 'chainsmith.dev');
    assert.equal(crd.spec.scope, e.scope);
    assert.equal(crd.spec.names.kind, e.kind);
    assert.deepEqual(crd.spec.names.shortNames, [e.short]);
    assert.deepEqual(crd.spec.names.categories, ['chainsmith']);
    assert.deepEqual(
      crd.spec.versions.map((v: { name: string; served: boolean; storage: boolean }) => [v.name, v.served, v.storage]),
      [['v1alpha1', true, true]],
    );
    // The stack serves the checkout's CRD, not one left from an older stack:up.
    const file = parseYaml(await readFile(join(CRDS, e.file), 'utf8'));
    assert.deepEqual(
      crd.spec.versions[0].schema,
      file.spec.versions[0].schema,
      `the stack's ${e.name} differs from manifests/crds/${e.file}: run \`npm run stack:up\` (it applies them)`,
    );
  }
  const sp = JSON.parse(await mustKubectl(['get', 'crd', POLICIES, '-o', 'json']));
  assert.deepEqual(sp.spec.versions[0].subresources, { status: {} });
  // Structural: nothing below spec keeps unknown fields.
  assert.ok(!JSON.stringify(sp.spec.versions[0].schema).includes('x-kubernetes-preserve-unknown-fields'));
});

test('every example in manifests/examples/signing-policies is accepted by the API server', async () => {
  const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['platform-rbac.yaml', 'team-a.yaml', 'team-b.yaml', 'tenant-rbac.yaml']);
  const readme = await readFile(join(EXAMPLES, 'README.md'), 'utf8');
  for (const file of files) {
    assert.ok(readme.includes(file), `README.md explains ${file}`);
    const objects = parseAllDocuments(await readFile(join(EXAMPLES, file), 'utf8'))
      .map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string } } | null)
      .filter((o) => o !== null);
    assert.ok(objects.length > 0, `${file} has objects`);
    // the RBAC files were applied for real (before); apply is idempotent, the others are dry-run
    const real = file.endsWith('-rbac.yaml');
    const out = await mustKubectl([
      'apply',
      '--validate=strict',
      ...(real ? [] : ['--dry-run=server']),
      '-f',
      join(EXAMPLES, file),
    ]);
    for (const o of objects) {
      const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
      const line = new RegExp(
        `^${escape(`${o.kind.toLowerCase()}${group}/${o.metadata.name}`)} (created|configured|unchanged)${real ? '' : ' \\(server dry run\\)'}$`,
        'm',
      );
      assert.match(out, line, `${file}: ${o.kind} ${o.metadata.name}`);
    }
  }
  // The objects of docs/signing-policies.md are accepted too, and the policies and grants of the docs and of the
  // examples are kept by the API server as written: nothing pruned, nothing defaulted that was not spelt out.
  type Obj = { apiVersion?: string; kind?: string; metadata: { name: string }; spec?: unknown };
  const docs = await readFile(join(REPO_ROOT, 'docs', 'signing-policies.md'), 'utf8');
  const docObjects = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .flatMap((m) => parseAllDocuments(m[1]!).map((d) => d.toJS() as Obj | null))
    .filter((o): o is Obj => !!o?.apiVersion && !!o.kind);
  for (const kind of ['SigningPolicy', 'SigningPolicyGrant', 'Role', 'RoleBinding'])
    assert.ok(
      docObjects.some((o) => o.kind === kind),
      `docs/signing-policies.md shows a ${kind}`,
    );
  const exampleObjects = (
    await Promise.all(
      files.map(async (f) =>
        parseAllDocuments(await readFile(join(EXAMPLES, f), 'utf8')).map((d) => d.toJS() as Obj | null),
      ),
    )
  )
    .flat()
    .filter((o): o is Obj => o?.kind === 'SigningPolicy' || o?.kind === 'SigningPolicyGrant');
  for (const o of [...docObjects, ...exampleObjects]) {
    const stored = JSON.parse(
      await mustKubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(o)),
    ) as Obj;
    if (o.kind === 'SigningPolicy' || o.kind === 'SigningPolicyGrant')
      assert.deepEqual(stored.spec, o.spec, `${o.kind} ${o.metadata.name}`);
  }
});

test('a SigningPolicy using every field of SigningPolicySpec is accepted; defaults and edge values', async () => {
  const ns = await createNamespace('sp-crd-valid');
  const full: SigningPolicy = {
    apiVersion: API_VERSION,
    kind: 'SigningPolicy',
    metadata: { name: 'full', namespace: ns, labels: { team: 'a' } },
    spec: {
      selector: {
        matchLabels: { 'app.kubernetes.io/part-of': 'payments', tier: '' },
        matchExpressions: [
          { key: 'example.com/env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'canary', operator: 'NotIn', values: ['true'] },
          { key: 'release', operator: 'Exists' },
          { key: 'skip', operator: 'DoesNotExist', values: [] },
        ],
      },
      signer: { keyless: { serviceAccount: 'builder' } },
      builderId: 'https://ci.example.com/team-a?x=1#frag',
      formats: { taskrun: 'slsa/v1', pipelinerun: 'slsa/v2alpha3', oci: 'simplesigning' },
      // an empty list disables that artifact type's storage, as "" does in chains-config
      storage: { taskrun: [], pipelinerun: ['tekton', 'gcs', 'docdb', 'grafeas', 'archivista'], oci: ['kafka'] },
      transparency: 'manual',
    },
  };
  const stored = JSON.parse(
    await mustKubectl(['create', '-o', 'json', '-f', '-'], JSON.stringify(full)),
  ) as SigningPolicy;
  assert.deepEqual(stored.spec, {
    ...full.spec,
    signer: { keyless: { serviceAccount: 'builder', audience: 'sigstore' } },
  });
  const others: Array<SigningPolicy['spec']> = [
    { signer: { x509: { secretName: 'team-a.signing-2' } } },
    { signer: { kms: { ref: 'awskms:///arn:aws:kms:us-east-1:123456789012:key/abc' } } },
    { signer: { kms: { ref: 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k' } } },
    { signer: { kms: { ref: 'azurekms://vault.vault.azure.net/key' } } },
    { signer: { keyless: { serviceAccount: 'builder', audience: 'https://fulcio.example.com' } } },
    { builderId: 'urn:example:builder' },
    { storage: { ociRepository: 'localhost:5000/team-a/sig_natures' } },
    { storage: { ociRepository: 'signatures' } },
    { transparency: 'false' },
    { formats: { oci: 'simplesigning' } },
  ];
  for (const [i, spec] of others.entries()) {
    const r = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(policy(ns, `ok-${i}`, spec)));
    assert.equal(r.code, 0, `${JSON.stringify(spec)}: ${r.stderr}`);
  }
  const fullGrant: SigningPolicyGrant = {
    apiVersion: API_VERSION,
    kind: 'SigningPolicyGrant',
    metadata: { name: `full-${randomSuffix()}` },
    spec: {
      namespaces: [ns, 'team-a'],
      secrets: ['team-a-signing'],
      kmsRefs: ['hashivault://team-a'],
      serviceAccounts: ['builder'],
      builderIds: ['https://ci.example.com/team-a'],
    },
  };
  const storedGrant = JSON.parse(
    await mustKubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(fullGrant)),
  ) as SigningPolicyGrant;
  assert.deepEqual(storedGrant.spec, fullGrant.spec);
});

test('invalid SigningPolicies and SigningPolicyGrants are refused, one rule at a time, naming the field', async () => {
  const ns = await createNamespace('sp-crd-invalid');
  const cases = [...policyRefusals(ns), ...grantRefusals()];
  for (const c of cases) {
    const r = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(c.object));
    assert.notEqual(r.code, 0, `${c.rule}: accepted`);
    // One line of the API server's answer names the field and says what is wrong, e.g.
    //   The SigningPolicy "refused" is invalid: spec.signer: Invalid value: "object": signer must set exactly one …
    assert.match(r.stderr, new RegExp(`${escape(c.field)}: [^\\n]*${escape(c.message)}`), `${c.rule}: ${r.stderr}`);
  }
});

test('kubectl get shows the printer columns; status is written only through its subresource', async () => {
  const ns = await createNamespace('sp-crd-columns');
  const spec: SigningPolicy['spec'] = {
    signer: { x509: { secretName: 'team-a-signing' } },
    builderId: 'https://ci.example.com/team-a',
  };
  await mustKubectl(['create', '-f', '-'], JSON.stringify(policy(ns, 'team-a', spec)));
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const conditions: Condition[] = [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Granted',
      message: 'granted by team-a',
      lastTransitionTime: now,
      observedGeneration: 1,
    },
    {
      type: 'Conflict',
      status: 'False',
      reason: 'NoConflict',
      message: '',
      lastTransitionTime: now,
      observedGeneration: 1,
    },
  ];
  const status: NonNullable<SigningPolicy['status']> = {
    observedGeneration: 1,
    signer: 'secret/team-a-signing',
    conditions,
  };
  await mustKubectl([
    '-n',
    ns,
    'patch',
    'signingpolicy',
    'team-a',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);

  const table = (out: string) =>
    out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
  const [header, row] = table(await mustKubectl(['-n', ns, 'get', 'signingpolicies']));
  assert.deepEqual(header, ['NAME', 'SIGNER', 'BUILDER', 'READY', 'CONFLICT', 'AGE']);
  assert.deepEqual(row!.slice(0, 5), [
    'team-a',
    'secret/team-a-signing',
    'https://ci.example.com/team-a',
    'True',
    'False',
  ]);
  // the short name and the category
  assert.deepEqual(table(await mustKubectl(['-n', ns, 'get', 'sp']))[1]!.slice(0, 5), row!.slice(0, 5));
  assert.match(await mustKubectl(['-n', ns, 'get', 'chainsmith']), /^signingpolicy\.chainsmith\.dev\/team-a\s/m);

  // A write of the main resource cannot set status (the subresource owns it): a tenant cannot forge Ready.
  await mustKubectl([
    '-n',
    ns,
    'patch',
    'signingpolicy',
    'team-a',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { signer: 'forged' } }),
  ]);
  const after = JSON.parse(
    await mustKubectl(['-n', ns, 'get', 'signingpolicy', 'team-a', '-o', 'json']),
  ) as SigningPolicy;
  assert.equal(after.status?.signer, 'secret/team-a-signing');
  assert.deepEqual(
    after.status?.conditions?.map((c) => [c.type, c.status]),
    [
      ['Ready', 'True'],
      ['Conflict', 'False'],
    ],
  );

  const name = `columns-${randomSuffix()}`;
  await mustKubectl(
    ['create', '-f', '-'],
    JSON.stringify(grant(name, { namespaces: [ns, 'team-a'], secrets: ['team-a-signing'] })),
  );
  try {
    const [gHeader, gRow] = table(await mustKubectl(['get', 'spg', name]));
    assert.deepEqual(gHeader, ['NAME', 'NAMESPACES', 'AGE']);
    assert.equal(gRow![0], name);
    assert.equal(gRow![1], JSON.stringify([ns, 'team-a']));
  } finally {
    await kubectl(['delete', GRANTS, name, '--ignore-not-found']);
  }
});

test("RBAC as the tenant's own ServiceAccount token: the example editor role writes policies of its namespace only", async () => {
  await applyExampleRbac();
  const ns = await createNamespace('team-a');
  const other = await createNamespace('team-b');
  await createServiceAccount(ns, 'tenant');
  await mustKubectl([
    '-n',
    ns,
    'create',
    'rolebinding',
    'tenant-signingpolicy-editor',
    '--clusterrole=chainsmith-signingpolicy-editor',
    `--serviceaccount=${ns}:tenant`,
  ]);
  const probeGrant = `tenant-probe-${randomSuffix()}`;
  await mustKubectl(
    ['create', '-f', '-'],
    JSON.stringify(grant(probeGrant, { namespaces: [ns], secrets: ['team-a-signing'] })),
  );
  try {
    const token = await apiServerToken(ns, 'tenant');
    const as = (args: string[], input?: string) => kubectlWithToken(token, args, input);
    const whoami = JSON.parse((await as(['auth', 'whoami', '-o', 'json'])).stdout) as {
      status: { userInfo: { username: string } };
    };
    assert.equal(whoami.status.userInfo.username, `system:serviceaccount:${ns}:tenant`, 'the token, not the admin');

    const mine = policy(ns, 'team-a', { signer: { x509: { secretName: 'team-a-signing' } } });
    // (the RoleBinding reaches the API server's RBAC cache within moments)
    await waitFor(async () => (await as(['create', '-f', '-'], JSON.stringify(mine))).code === 0, {
      timeoutMs: 10_000,
      description: 'the tenant creating a SigningPolicy in its namespace',
    });
    const ok = async (what: string, args: string[], input?: string) => {
      const r = await as(args, input);
      assert.equal(r.code, 0, `the tenant can ${what}: ${r.stderr}`);
      return r.stdout;
    };
    const current = JSON.parse(
      await ok('get its policy', ['-n', ns, 'get', 'signingpolicy', 'team-a', '-o', 'json']),
    ) as SigningPolicy;
    await ok(
      'update its policy (PUT)',
      ['replace', '-f', '-'],
      JSON.stringify({ ...current, spec: { ...current.spec, builderId: 'https://ci.example.com/team-a' } }),
    );
    await ok('patch its policy', [
      '-n',
      ns,
      'patch',
      'signingpolicy',
      'team-a',
      '--type=merge',
      '-p',
      '{"spec":{"transparency":"true"}}',
    ]);
    assert.match(await ok('list policies', ['-n', ns, 'get', 'signingpolicies']), /^team-a\s/m);
    await ok('read the status', ['-n', ns, 'get', 'signingpolicy', 'team-a', '--subresource=status', '-o', 'json']);

    const forbidden = async (what: string, args: string[], expected: string, input?: string) => {
      const r = await as(args, input);
      assert.notEqual(r.code, 0, `the tenant must not ${what}`);
      // kubectl's rendering of HTTP 403 and RBAC's reason
      assert.match(r.stderr, /Error from server \(Forbidden\)/, `${what}: ${r.stderr}`);
      assert.ok(
        r.stderr.includes(`User "system:serviceaccount:${ns}:tenant" cannot ${expected}`),
        `${what}: ${r.stderr}`,
      );
    };
    await forbidden(
      'create a policy in another namespace',
      ['create', '-f', '-'],
      `create resource "signingpolicies" in API group "chainsmith.dev" in the namespace "${other}"`,
      JSON.stringify(policy(other, 'team-a', { transparency: 'true' })),
    );
    await forbidden(
      'create a grant',
      ['create', '-f', '-'],
      'create resource "signingpolicygrants" in API group "chainsmith.dev" at the cluster scope',
      JSON.stringify(grant(`tenant-${randomSuffix()}`, { namespaces: [ns], secrets: ['team-b-signing'] })),
    );
    const g = JSON.parse(await mustKubectl(['get', GRANTS, probeGrant, '-o', 'json'])) as SigningPolicyGrant;
    await forbidden(
      'update a grant',
      ['replace', '-f', '-'],
      'update resource "signingpolicygrants" in API group "chainsmith.dev" at the cluster scope',
      JSON.stringify({ ...g, spec: { ...g.spec, secrets: ['team-b-signing'] } }),
    );
    // PATCH as such (kubectl patch would GET first, which is refused before the PATCH is tried)
    const patch = async (what: string, path: string, body: unknown, expected: string) => {
      const r = await apiRequestWithToken(token, 'PATCH', path, body, 'application/merge-patch+json');
      assert.equal(r.status, 403, `the tenant must not ${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.reason, 'Forbidden');
      assert.ok(
        r.body.message?.includes(`User "system:serviceaccount:${ns}:tenant" cannot ${expected}`),
        `${what}: ${r.body.message}`,
      );
    };
    await patch(
      'patch a grant',
      `/apis/chainsmith.dev/v1alpha1/signingpolicygrants/${probeGrant}`,
      { spec: { secrets: ['team-b-signing'] } },
      'patch resource "signingpolicygrants" in API group "chainsmith.dev" at the cluster scope',
    );
    await patch(
      'patch the status of its policy',
      `/apis/chainsmith.dev/v1alpha1/namespaces/${ns}/signingpolicies/team-a/status`,
      { status: { signer: 'forged' } },
      `patch resource "signingpolicies/status" in API group "chainsmith.dev" in the namespace "${ns}"`,
    );
    await forbidden('read grants', ['get', GRANTS], 'list resource "signingpolicygrants"');
    await forbidden(
      'patch the status of its policy with kubectl',
      [
        '-n',
        ns,
        'patch',
        'signingpolicy',
        'team-a',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"signer":"forged"}}',
      ],
      'patch resource "signingpolicies/status" in API group "chainsmith.dev"',
    );
    await forbidden(
      'read Secrets in the controller namespace',
      ['-n', 'tekton-chains', 'get', 'secret', 'signing-secrets'],
      'get resource "secrets" in API group "" in the namespace "tekton-chains"',
    );
    await forbidden(
      'list Secrets in the controller namespace',
      ['-n', 'tekton-chains', 'get', 'secrets'],
      'list resource "secrets" in API group "" in the namespace "tekton-chains"',
    );

    await ok('delete its policy', ['-n', ns, 'delete', 'signingpolicy', 'team-a']);
  } finally {
    await kubectl(['delete', GRANTS, probeGrant, '--ignore-not-found']);
  }
});

/** `kubectl auth can-i` as `user` (impersonation: this checks the ClusterRole's rules, the tenant test above checks a real identity). */
async function can(
  user: string,
  verb: string,
  resource: string,
  opts: { namespace?: string; subresource?: string } = {},
): Promise<boolean> {
  const scope = opts.namespace ? ['-n', opts.namespace] : ['--all-namespaces'];
  const sub = opts.subresource ? [`--subresource=${opts.subresource}`] : [];
  const r = await kubectl(['auth', 'can-i', verb, resource, ...scope, ...sub, `--as=${user}`]);
  assert.ok(r.code === 0 || r.code === 1, `kubectl auth can-i ${verb} ${resource}: ${r.stderr.trim()}`);
  return r.code === 0;
}

test("the controller's ClusterRole (manifests/rbac.yaml) reads policies and grants and writes policy status only", async () => {
  await ensureNamespace(kube(), 'tekton-chains');
  await mustKubectl(['apply', '--validate=strict', '-f', join(REPO_ROOT, 'manifests', 'rbac.yaml')]);
  const ns = await createNamespace('sp-crd-controller');
  for (const verb of ['get', 'list', 'watch']) {
    assert.equal(await can(CONTROLLER, verb, POLICIES), true, `${verb} policies in all namespaces`);
    assert.equal(await can(CONTROLLER, verb, POLICIES, { namespace: ns }), true, `${verb} policies in ${ns}`);
    assert.equal(await can(CONTROLLER, verb, GRANTS), true, `${verb} grants`);
  }
  for (const verb of ['patch', 'update'])
    assert.equal(
      await can(CONTROLLER, verb, POLICIES, { namespace: ns, subresource: 'status' }),
      true,
      `${verb} policies/status`,
    );
  for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection']) {
    assert.equal(await can(CONTROLLER, verb, POLICIES, { namespace: ns }), false, `no ${verb} policies`);
    assert.equal(await can(CONTROLLER, verb, GRANTS), false, `no ${verb} grants`);
  }
  // Tokens of tenants' ServiceAccounts are the keyless-tenants component's, not the base's.
  assert.equal(await can(CONTROLLER, 'create', 'serviceaccounts', { namespace: ns, subresource: 'token' }), false);
});

test('the keyless-tenants component adds exactly a ClusterRole for ServiceAccount tokens and its binding', async () => {
  const overlay = await mkdtemp(join(tmpdir(), 'chainsmith-keyless-tenants-'));
  const base = join(REPO_ROOT, 'manifests');
  type Obj = {
    kind: string;
    metadata: { name: string; namespace?: string };
    rules?: unknown;
    subjects?: unknown;
    roleRef?: unknown;
  };
  const render = async (dir: string) =>
    parseAllDocuments(await mustKubectl(['kustomize', dir])).map((d) => d.toJS() as Obj);
  try {
    await writeFile(
      join(overlay, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${relative(overlay, base)}`,
        'components:',
        `  - ${relative(overlay, KEYLESS_TENANTS)}`,
        '',
      ].join('\n'),
    );
    const id = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const baseIds = new Set((await render(base)).map(id));
    const added = (await render(overlay)).filter((o) => !baseIds.has(id(o)));
    assert.deepEqual(added.map(id).sort(), [
      'ClusterRole//chainsmith-controller-keyless-tenants',
      'ClusterRoleBinding//chainsmith-controller-keyless-tenants',
    ]);
    const role = added.find((o) => o.kind === 'ClusterRole')!;
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }]);
    const binding = added.find((o) => o.kind === 'ClusterRoleBinding')!;
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'tekton-chains-controller', namespace: 'tekton-chains' },
    ]);
    await mustKubectl(['apply', '-k', overlay, '--dry-run=server', '--validate=strict']);

    // The rule, bound for real to a throwaway ServiceAccount (not the shared controller's): tokens, and nothing else.
    const ns = await createNamespace('sp-crd-keyless');
    const probe = `system:serviceaccount:${ns}:probe`;
    const name = `chainsmith-keyless-tenants-${randomSuffix()}`;
    await mustKubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name },
        rules: role.rules,
      }),
    );
    await mustKubectl(['create', 'clusterrolebinding', name, `--clusterrole=${name}`, `--serviceaccount=${ns}:probe`]);
    try {
      const other = await createNamespace('sp-crd-keyless-other');
      await waitFor(() => can(probe, 'create', 'serviceaccounts', { namespace: other, subresource: 'token' }), {
        timeoutMs: 10_000,
        description: 'the binding in effect',
      });
      assert.equal(await can(probe, 'get', 'serviceaccounts', { namespace: other }), false);
      assert.equal(await can(probe, 'get', 'secrets', { namespace: other }), false);
    } finally {
      await kubectl(['delete', 'clusterrolebinding', name, '--ignore-not-found']);
      await kubectl(['delete', 'clusterrole', name, '--ignore-not-found']);
    }
  } finally {
    await rm(overlay, { recursive: true, force: true });
  }
});

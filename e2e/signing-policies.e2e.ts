// Issue 24's acceptance, tried as a platform team and two tenant teams would: SigningPolicies (and the grants the
// platform team writes) against the real API server with chainsmith's CRDs, the real registry and the real cosign.
// Team A and team B each sign with their own key (Secrets in the controller's namespace) and builder id: their
// images verify with their own cosign.pub and `builder.cue` for their builder id, never with the other team's or
// the cluster's; a namespace without a policy falls back to chains-config. A policy naming a Secret its namespace
// is not granted is refused (condition, Event) and signs nothing until a grant arrives (then the failed run is
// re-armed and signed); two namespace-wide policies conflict until one is deleted; a changed policy applies to
// the next run and leaves signed runs alone.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SECRETS } from '../src/kube/client.js';
import { SIGNING_POLICIES } from '../src/controller/policy-store.js';
import type { SigningPolicy } from '../src/policy/types.js';
import { encryptCosignKey, exportPublicKeyPem } from '../src/signing/cosign-key.js';
import {
  cosign,
  createNamespace,
  eventsOf,
  getTaskRun,
  kube,
  randomSuffix,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import { opsPort } from './lib/replicas.js';
import { kubectl, startSigningController, writeChainsConfig, x509SecretsDir } from './lib/scenario.js';
import { applyYaml, imageRun, waitMarked } from './lib/signing-policies.js';

const SIGNED = 'chains.tekton.dev/signed';
const POLICY = 'chainsmith.dev/signing-policy';
const POLICY_SIGNER = 'chainsmith.dev/policy-signer';
const BUILDER_A = 'https://ci.example.com/team-a';
const BUILDER_B = 'https://ci.example.com/team-b';
const DEFAULT_BUILDER = 'https://tekton.dev/chains/v2';

interface Team {
  ns: string;
  secret: string;
  pub: string;
}

/** cosign verify / verify-attestation against the stack's plain-HTTP registry, without a transparency log. */
function cosignVerify(args: string[]) {
  return cosign([...args, '--insecure-ignore-tlog', '--allow-http-registry']);
}

/** cosign verify-attestation of SLSA v0.2 provenance with `pub`, against the builder policy `cue`. */
function verifyProvenance(pub: string, cue: string, ref: string) {
  return cosignVerify(['verify-attestation', '--key', pub, '--type', 'slsaprovenance', '--policy', cue, ref]);
}

async function builderCue(dir: string, id: string): Promise<string> {
  const file = join(dir, `builder-${randomSuffix()}.cue`);
  await writeFile(file, `predicateType: "https://slsa.dev/provenance/v0.2"\npredicate: builder: id: "${id}"\n`);
  return file;
}

async function getPolicy(ns: string, name: string): Promise<SigningPolicy> {
  const p = await kube().get<SigningPolicy>(SIGNING_POLICIES, ns, name);
  assert.ok(p, `SigningPolicy ${ns}/${name} exists`);
  return p;
}

function condition(p: SigningPolicy, type: 'Ready' | 'Conflict') {
  return p.status?.conditions?.find((c) => c.type === type);
}

describe('SigningPolicies: each team signs with its own key and builder id', () => {
  const suffix = randomSuffix();
  let systemNs = '';
  let clusterKeys = '';
  let dir = '';
  let a: Team;
  let b: Team;
  let nsC = '';
  let nsD = '';
  let nsE = '';
  let controller: ControllerProcess;
  const grants: string[] = [];

  before(
    async () => {
      systemNs = await createNamespace('sp-sys');
      clusterKeys = await x509SecretsDir('chainsmith-sp-cluster-');
      dir = await mkdtemp(join(tmpdir(), 'chainsmith-sp-'));
      // team A: an encrypted cosign.key (as `cosign generate-key-pair k8s://` writes it); team B: x509.pem
      const keyA = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const keyB = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const b64 = (x: string | Buffer) => Buffer.from(x).toString('base64');
      await kube().create(SECRETS, systemNs, {
        metadata: { name: 'team-a-signing' },
        data: {
          'cosign.key': b64(await encryptCosignKey(keyA, 'team-a-password')),
          'cosign.password': b64('team-a-password'),
        },
      });
      await kube().create(SECRETS, systemNs, {
        metadata: { name: 'team-b-signing' },
        data: { 'x509.pem': b64(keyB.export({ type: 'pkcs8', format: 'pem' })) },
      });
      await writeFile(join(dir, 'a.pub'), exportPublicKeyPem(keyA));
      await writeFile(join(dir, 'b.pub'), exportPublicKeyPem(keyB));
      a = { ns: await createNamespace('sp-team-a'), secret: 'team-a-signing', pub: join(dir, 'a.pub') };
      b = { ns: await createNamespace('sp-team-b'), secret: 'team-b-signing', pub: join(dir, 'b.pub') };
      nsC = await createNamespace('sp-none');
      nsD = await createNamespace('sp-ungranted');
      nsE = await createNamespace('sp-conflict');

      await writeChainsConfig(systemNs, {
        'artifacts.taskrun.format': 'in-toto',
        'artifacts.taskrun.storage': 'tekton,oci',
        'artifacts.oci.storage': 'oci',
      });
      for (const t of [a, b]) {
        const grant = `sp-${suffix}-${t.ns}`;
        grants.push(grant);
        await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicyGrant
metadata: {name: ${grant}}
spec:
  namespaces: [${t.ns}]
  secrets: [${t.secret}]
`);
      }
      for (const [t, builder] of [
        [a, BUILDER_A],
        [b, BUILDER_B],
      ] as const) {
        await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicy
metadata: {name: team, namespace: ${t.ns}}
spec:
  signer: {x509: {secretName: ${t.secret}}}
  builderId: ${builder}
`);
      }
      controller = await startSigningController([a.ns, b.ns, nsC, nsD, nsE].join(','), systemNs, clusterKeys);
      await controller.waitForLog(/watching SigningPolicies/);
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await controller?.stop();
    for (const g of grants) await kubectl(['delete', 'signingpolicygrant', g, '--ignore-not-found']);
    for (const d of [clusterKeys, dir]) if (d) await rm(d, { recursive: true, force: true });
  });

  test('team A and team B images verify with their own key and builder id only; a namespace without a policy uses chains-config', async () => {
    const runA = await imageRun(a.ns, `sp-${suffix}/a`);
    const runB = await imageRun(b.ns, `sp-${suffix}/b`);
    const runC = await imageRun(nsC, `sp-${suffix}/c`);
    const trA = await waitMarked(a.ns, runA.name, 'true', controller);
    const trB = await waitMarked(b.ns, runB.name, 'true', controller);
    const trC = await waitMarked(nsC, runC.name, 'true', controller);

    // auditors see which policy and signer signed each run
    assert.equal(trA.metadata.annotations?.[POLICY], 'team');
    assert.equal(trA.metadata.annotations?.[POLICY_SIGNER], 'secret/team-a-signing');
    assert.equal(trB.metadata.annotations?.[POLICY_SIGNER], 'secret/team-b-signing');
    assert.equal(trC.metadata.annotations?.[POLICY], undefined, 'no policy in the third namespace');
    assert.equal(trC.metadata.annotations?.[POLICY_SIGNER], undefined);

    const clusterPub = join(clusterKeys, 'cosign.pub');
    const cues = {
      a: await builderCue(dir, BUILDER_A),
      b: await builderCue(dir, BUILDER_B),
      default: await builderCue(dir, DEFAULT_BUILDER),
    };
    const cases: Array<{ ref: string; pub: string; cue: string; ok: boolean; what: string }> = [
      { ref: runA.image.ref, pub: a.pub, cue: cues.a, ok: true, what: 'A with A’s key and builder' },
      { ref: runA.image.ref, pub: b.pub, cue: cues.a, ok: false, what: 'A with B’s key' },
      { ref: runA.image.ref, pub: clusterPub, cue: cues.a, ok: false, what: 'A with the cluster key' },
      { ref: runB.image.ref, pub: b.pub, cue: cues.b, ok: true, what: 'B with B’s key and builder' },
      { ref: runB.image.ref, pub: a.pub, cue: cues.b, ok: false, what: 'B with A’s key' },
      { ref: runC.image.ref, pub: clusterPub, cue: cues.default, ok: true, what: 'C with the cluster key' },
      { ref: runC.image.ref, pub: a.pub, cue: cues.default, ok: false, what: 'C with A’s key' },
    ];
    for (const c of cases) {
      const sig = await cosignVerify(['verify', '--key', c.pub, c.ref]);
      assert.equal(sig.code === 0, c.ok, `cosign verify, ${c.what}:\n${sig.out}`);
      const att = await verifyProvenance(c.pub, c.cue, c.ref);
      assert.equal(att.code === 0, c.ok, `cosign verify-attestation, ${c.what}:\n${att.out}`);
    }
    // the builder id is each team's own: A's attestation does not pass B's builder policy, even with A's key
    const wrongBuilder = await verifyProvenance(a.pub, cues.b, runA.image.ref);
    assert.notEqual(wrongBuilder.code, 0, `A's provenance must not claim B's builder:\n${wrongBuilder.out}`);

    // both policies are Ready, with the signer in the status (and the printer column)
    for (const t of [a, b]) {
      const p = await getPolicy(t.ns, 'team');
      assert.equal(condition(p, 'Ready')?.status, 'True', JSON.stringify(p.status));
      assert.equal(condition(p, 'Conflict')?.status, 'False');
      assert.equal(p.status?.signer, `secret/${t.secret}`);
      assert.equal(p.status?.observedGeneration, p.metadata.generation);
    }
    const table = await kubectl(['get', 'signingpolicies', '-n', a.ns]);
    assert.match(table.stdout, /secret\/team-a-signing\s+https:\/\/ci\.example\.com\/team-a\s+True\s+False/);

    // metrics per policy
    const text = await (await fetch(`http://127.0.0.1:${await opsPort(controller)}/metrics`)).text();
    assert.match(
      text,
      new RegExp(`^chainsmith_policy_runs_signed_total\\{namespace="${a.ns}",policy="team"\\} [1-9]`, 'm'),
    );
  });

  test('a policy naming a Secret its namespace is not granted is refused and signs nothing, until a grant arrives', async () => {
    await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicy
metadata: {name: borrowed, namespace: ${nsD}}
spec:
  signer: {x509: {secretName: team-a-signing}}
`);
    const refused = await waitFor(
      async () => {
        const p = await getPolicy(nsD, 'borrowed');
        return condition(p, 'Ready')?.status === 'False' ? p : undefined;
      },
      { timeoutMs: 30_000, description: 'Ready=False on the ungranted policy' },
    );
    assert.equal(condition(refused, 'Ready')?.reason, 'NotGranted');
    assert.match(condition(refused, 'Ready')?.message ?? '', /team-a-signing/);
    assert.match(condition(refused, 'Ready')?.message ?? '', new RegExp(nsD));

    const run = await imageRun(nsD, `sp-${suffix}/d`);
    const ev = await waitFor(
      async () => (await eventsOf(nsD, { name: run.name })).find((e) => e.reason === 'PolicyRefused'),
      { timeoutMs: 60_000, description: 'PolicyRefused Event' },
    );
    assert.match(ev.message ?? '', /not granted/);
    await waitMarked(nsD, run.name, 'failed', controller);
    // nothing was signed with team A's key for this namespace
    const none = await cosignVerify(['verify', '--key', a.pub, run.image.ref]);
    assert.notEqual(none.code, 0, `no signature may exist:\n${none.out}`);
    const noneAtAll = await cosignVerify(['verify', '--key', join(clusterKeys, 'cosign.pub'), run.image.ref]);
    assert.notEqual(noneAtAll.code, 0, 'and it is not signed with the cluster key instead');

    // the platform team grants it: the failed run is re-armed and signed with team A's key
    const grant = `sp-${suffix}-${nsD}`;
    grants.push(grant);
    await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicyGrant
metadata: {name: ${grant}}
spec:
  namespaces: [${nsD}]
  secrets: [team-a-signing]
`);
    const signed = await waitMarked(nsD, run.name, 'true', controller);
    assert.equal(signed.metadata.annotations?.[POLICY], 'borrowed');
    const ok = await cosignVerify(['verify', '--key', a.pub, run.image.ref]);
    assert.equal(ok.code, 0, ok.out);
    const p = await waitFor(
      async () => {
        const q = await getPolicy(nsD, 'borrowed');
        return condition(q, 'Ready')?.status === 'True' ? q : undefined;
      },
      { timeoutMs: 30_000, description: 'Ready=True once granted' },
    );
    assert.equal(condition(p, 'Ready')?.reason, 'Granted');
  });

  test('two namespace-wide policies conflict: both say so, the run is not signed until one is deleted', async () => {
    for (const name of ['one', 'two'])
      await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicy
metadata: {name: ${name}, namespace: ${nsE}}
spec:
  builderId: ${DEFAULT_BUILDER}
`);
    for (const name of ['one', 'two']) {
      const p = await waitFor(
        async () => {
          const q = await getPolicy(nsE, name);
          return condition(q, 'Conflict')?.status === 'True' ? q : undefined;
        },
        { timeoutMs: 30_000, description: `Conflict=True on ${name}` },
      );
      assert.match(condition(p, 'Conflict')?.message ?? '', name === 'one' ? /two/ : /one/);
    }
    const run = await imageRun(nsE, `sp-${suffix}/e`);
    const ev = await waitFor(
      async () => (await eventsOf(nsE, { name: run.name })).find((e) => e.reason === 'PolicyConflict'),
      { timeoutMs: 60_000, description: 'PolicyConflict Event' },
    );
    assert.match(ev.message ?? '', /one/);
    assert.match(ev.message ?? '', /two/);
    const tr = await getTaskRun(nsE, run.name);
    assert.notEqual(tr.metadata.annotations?.[SIGNED], 'true');

    const del = await kubectl(['delete', 'signingpolicy', 'two', '-n', nsE]);
    assert.equal(del.code, 0, del.stderr);
    const signed = await waitMarked(nsE, run.name, 'true', controller);
    assert.equal(signed.metadata.annotations?.[POLICY], 'one');
    const p = await waitFor(
      async () => {
        const q = await getPolicy(nsE, 'one');
        return condition(q, 'Conflict')?.status === 'False' ? q : undefined;
      },
      { timeoutMs: 30_000, description: 'Conflict=False once alone' },
    );
    assert.equal(condition(p, 'Ready')?.status, 'True');
  });

  test('a changed policy applies to the next run; runs already signed are untouched', async () => {
    const first = await imageRun(a.ns, `sp-${suffix}/a-before`);
    const before = await waitMarked(a.ns, first.name, 'true', controller);
    const newBuilder = 'https://ci.example.com/team-a/v2';
    await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicy
metadata: {name: team, namespace: ${a.ns}}
spec:
  signer: {x509: {secretName: ${a.secret}}}
  builderId: ${newBuilder}
`);
    await waitFor(
      async () => {
        const p = await getPolicy(a.ns, 'team');
        return p.status?.observedGeneration === p.metadata.generation ? p : undefined;
      },
      { timeoutMs: 30_000, description: 'the new generation observed' },
    );
    const second = await imageRun(a.ns, `sp-${suffix}/a-after`);
    await waitMarked(a.ns, second.name, 'true', controller);
    const cue = await builderCue(dir, newBuilder);
    const att = await verifyProvenance(a.pub, cue, second.image.ref);
    assert.equal(att.code, 0, `the next run has the new builder id:\n${att.out}`);
    const old = await verifyProvenance(a.pub, await builderCue(dir, BUILDER_A), first.image.ref);
    assert.equal(old.code, 0, `the earlier run keeps the builder id it was signed with:\n${old.out}`);
    const after = await getTaskRun(a.ns, first.name);
    assert.deepEqual(after.metadata.annotations, before.metadata.annotations, 'the signed run was not written again');
  });
});

// Workload (issue 24), policies: the burst spread over 20 namespaces, signed twice on the same stack by a fresh
// chainsmith each time: once with no SigningPolicy (everything under chains-config: the single-config arm), once with
// 20 SigningPolicies in each namespace (the policies arm). In each namespace of the policies arm, 19 policies select
// runs labelled `team: other-<j>` (none of the burst's) and one, `match`, selects `team: builds` (every run of the
// burst); each names its namespace's signer Secret (an ECDSA P-256 x509.pem the harness generates, in the
// controller's namespace) and a builder id of its own, and one SigningPolicyGrant per namespace grants that Secret.
// So every run is resolved among 20 candidates and signed with a tenant key read through the API. The clock starts
// once the controller logs "watching SigningPolicies", every policy is Ready=True, a canary per namespace is signed
// and the controller's finalizer is on every run of the burst. Afterwards every signed run is checked: in the policies arm, `chainsmith.dev/policy-signer` names its
// namespace's Secret and its envelope verifies with that tenant key (not the cluster's) and carries the policy's
// builder id; in the single-config arm, no policy annotation and the cluster key. Any mismatch fails the arm.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIGNING_POLICIES, SIGNING_POLICY_GRANTS } from '../../src/controller/policy-store.js';
import { KubeApiError, SECRETS, TASKRUNS, type KubeClient } from '../../src/kube/client.js';
import { POLICY_API_VERSION, type SigningPolicy } from '../../src/policy/types.js';
import { verifyEnvelope } from '../../src/sigstore/dsse.js';
import {
  POLICY_SIGNER_ANNOTATION,
  SIGNING_POLICY_ANNOTATION as POLICY_ANNOTATION,
  TASKRUN_FINALIZER,
} from '../../src/tekton/annotations.js';
import { retryTransient } from '../../e2e/lib/kube.js';
import { mapLimit, pollUntil } from '../lib/pool.js';
import type { Managed } from '../lib/process.js';
import { completeTaskRun, createTaskRun, type ImageRef } from '../lib/runs.js';
import { createNamespace, SIGNING_SECRETS_DIR, SYSTEM_NAMESPACE } from '../lib/setup.js';
import { SignedWatch } from '../measure/signed-watch.js';

import { CANARY_TIMEOUT_MS, machineNote, Meter, requestMix } from './common.js';
import { burstFigures, type PoliciesFigures, type WorkloadContext, type WorkloadResult } from './types.js';

export const POLICY_NAMESPACES = 20;
export const POLICIES_PER_NAMESPACE = 20;
/** The label every run of the burst carries (both arms), and the one policy per namespace that selects it. */
const RUN_LABELS = { team: 'builds' };
const MATCHING_POLICY = 'match';
/** Chains' default builder id (chains-config sets none): what single-config runs carry. */
const DEFAULT_BUILDER_ID = 'https://tekton.dev/chains/v2';
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);
const SIGNATURE_PREFIX = 'chains.tekton.dev/signature-taskrun-';

type PoliciesArm = PoliciesFigures['arm'];

/** One namespace of the policies arm: its Secret, the tenant key in it and the matching policy's builder id. */
interface Tenant {
  ns: string;
  secret: string;
  publicKey: KeyObject;
  builderId: string;
}

const builderIdOf = (ns: string, policy: string): string => `https://bench.chainsmith.dev/${ns}/${policy}`;

async function ignoreExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
  }
}

/**
 * The policies arm's objects, before the controller starts: per namespace an x509.pem Secret in the controller's
 * namespace, a grant of it, and 20 policies (19 that select no run of the burst, one that selects all of them).
 */
async function createTenants(client: KubeClient, namespaces: string[]): Promise<Tenant[]> {
  const tenants = namespaces.map((ns) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
      ns,
      secret: `${ns}-signing`,
      publicKey,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      builderId: builderIdOf(ns, MATCHING_POLICY),
    };
  });
  await mapLimit(tenants, 8, async (t) => {
    await retryTransient(() =>
      ignoreExists(
        client.create(SECRETS, SYSTEM_NAMESPACE, {
          metadata: { name: t.secret },
          data: { 'x509.pem': Buffer.from(t.privateKeyPem).toString('base64') },
        }),
      ),
    );
    await retryTransient(() =>
      ignoreExists(
        client.createClusterScoped(SIGNING_POLICY_GRANTS, {
          apiVersion: POLICY_API_VERSION,
          kind: 'SigningPolicyGrant',
          metadata: { name: t.ns },
          spec: { namespaces: [t.ns], secrets: [t.secret] },
        }),
      ),
    );
  });
  const policies = tenants.flatMap((t) =>
    Array.from({ length: POLICIES_PER_NAMESPACE }, (_, j) => {
      const name = j === 0 ? MATCHING_POLICY : `other-${j}`;
      const selector = j === 0 ? RUN_LABELS : { team: `other-${j}` };
      return { t, name, selector };
    }),
  );
  await mapLimit(policies, 16, ({ t, name, selector }) =>
    retryTransient(() =>
      ignoreExists(
        client.create(SIGNING_POLICIES, t.ns, {
          apiVersion: POLICY_API_VERSION,
          kind: 'SigningPolicy',
          metadata: { name, namespace: t.ns },
          spec: {
            selector: { matchLabels: selector },
            signer: { x509: { secretName: t.secret } },
            builderId: builderIdOf(t.ns, name),
          },
        }),
      ),
    ),
  );
  return tenants.map(({ ns, secret, publicKey, builderId }) => ({ ns, secret, publicKey, builderId }));
}

/** How many of the policies in `namespaces` the controller reports Ready=True for their current generation. */
async function readyPolicies(
  client: KubeClient,
  namespaces: Set<string>,
): Promise<{ ready: number; notReady: string[] }> {
  const page = await client.list<SigningPolicy>(SIGNING_POLICIES, undefined);
  let ready = 0;
  const notReady: string[] = [];
  for (const p of page.items) {
    if (!namespaces.has(p.metadata.namespace)) continue;
    const c = p.status?.conditions?.find((x) => x.type === 'Ready');
    if (c?.status === 'True' && p.status?.observedGeneration === p.metadata.generation) ready++;
    else
      notReady.push(
        `${p.metadata.namespace}/${p.metadata.name}: ${c ? `${c.status} ${c.reason} ${c.message}` : 'no status'}`,
      );
  }
  return { ready, notReady };
}

/**
 * How many of `keys` (`<namespace>/<name>`) carry the controller's finalizer. It adds it to every run still running
 * when it starts (one PATCH each): the clock waits for that, or those patches would be measured in one arm and not
 * in the other (the policies arm spends seconds waiting for its policies' status first).
 */
async function protectedRuns(client: KubeClient, keys: Set<string>): Promise<number> {
  const page = await client.list<{ metadata: { name: string; namespace: string; finalizers?: string[] } }>(
    TASKRUNS,
    undefined,
    {
      labelSelector: Object.entries(RUN_LABELS)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  );
  return page.items.filter(
    (r) =>
      keys.has(`${r.metadata.namespace}/${r.metadata.name}`) &&
      (r.metadata.finalizers ?? []).includes(TASKRUN_FINALIZER),
  ).length;
}

async function waitForLog(proc: Managed, re: RegExp, timeoutMs: number): Promise<boolean> {
  return pollUntil(
    () => {
      try {
        return re.test(readFileSync(proc.logFile, 'utf8'));
      } catch {
        return false;
      }
    },
    timeoutMs,
    200,
  );
}

/** The builder id in a signed in-toto statement (SLSA v0.2 `predicate.builder.id`). */
function builderIdIn(payload: Buffer): string | undefined {
  try {
    return (JSON.parse(payload.toString('utf8')) as { predicate?: { builder?: { id?: string } } }).predicate?.builder
      ?.id;
  } catch {
    return undefined;
  }
}

/**
 * Checks who signed each run (keys `<namespace>/<name>`, annotations as the watch first saw them signed). Returns
 * a one-line summary; throws when any run was signed by the wrong key, under the wrong policy or builder id.
 */
export function checkSigners(
  arm: PoliciesArm,
  keys: string[],
  annotationsAt: Map<string, Record<string, string>>,
  tenants: Map<string, Tenant>,
  clusterKey: KeyObject,
): string {
  const problems: string[] = [];
  for (const key of keys) {
    const ann = annotationsAt.get(key);
    if (!ann) continue; // not signed: counted (and reported) as such by the caller
    const ns = key.slice(0, key.indexOf('/'));
    const sigKey = Object.keys(ann).find((k) => k.startsWith(SIGNATURE_PREFIX));
    const envelope = sigKey ? Buffer.from(ann[sigKey]!, 'base64') : undefined;
    const fail = (why: string): void => void problems.push(`${key}: ${why}`);
    if (!envelope) {
      fail('no signature annotation');
      continue;
    }
    if (arm === 'policies') {
      const t = tenants.get(ns);
      if (!t) {
        fail('no tenant for its namespace');
        continue;
      }
      if (ann[POLICY_SIGNER_ANNOTATION] !== `secret/${t.secret}`)
        fail(`${POLICY_SIGNER_ANNOTATION}=${ann[POLICY_SIGNER_ANNOTATION] ?? '(none: signed under chains-config)'}`);
      if (ann[POLICY_ANNOTATION] !== MATCHING_POLICY)
        fail(`${POLICY_ANNOTATION}=${ann[POLICY_ANNOTATION] ?? '(none)'}, expected ${MATCHING_POLICY}`);
      const v = verifyEnvelope(envelope, t.publicKey);
      if (!v.ok) fail(`envelope does not verify with ${t.secret}'s key: ${v.reason}`);
      else if (builderIdIn(v.payload) !== t.builderId)
        fail(`builder id ${builderIdIn(v.payload)}, expected ${t.builderId}`);
      if (verifyEnvelope(envelope, clusterKey).ok) fail("envelope verifies with the cluster's key");
    } else {
      if (ann[POLICY_SIGNER_ANNOTATION] !== undefined || ann[POLICY_ANNOTATION] !== undefined)
        fail(`signed under a policy (${ann[POLICY_ANNOTATION]}, ${ann[POLICY_SIGNER_ANNOTATION]})`);
      const v = verifyEnvelope(envelope, clusterKey);
      if (!v.ok) fail(`envelope does not verify with the cluster's key: ${v.reason}`);
      else if (builderIdIn(v.payload) !== DEFAULT_BUILDER_ID)
        fail(`builder id ${builderIdIn(v.payload)}, expected ${DEFAULT_BUILDER_ID}`);
    }
  }
  const checked = keys.filter((k) => annotationsAt.has(k)).length;
  if (problems.length > 0)
    throw new Error(
      `${arm} arm: ${problems.length} problem(s) with who signed ${checked} runs, e.g. ${problems.slice(0, 3).join('; ')}`,
    );
  return arm === 'policies'
    ? `${checked}/${keys.length} runs (canaries included): ${POLICY_SIGNER_ANNOTATION}=secret/<namespace>-signing, ` +
        `${POLICY_ANNOTATION}=${MATCHING_POLICY}, envelope verifies with that tenant key (not the cluster's), builder id of the policy`
    : `${checked}/${keys.length} runs (canaries included): no policy annotation, envelope verifies with the cluster key, builder id ${DEFAULT_BUILDER_ID}`;
}

/** One arm: a fresh controller, `n` runs over POLICY_NAMESPACES namespaces, with or without policies. */
async function policiesArm(ctx: WorkloadContext, n: number, arm: PoliciesArm): Promise<WorkloadResult> {
  const { api } = ctx;
  const { client } = api;
  const prefix = arm === 'policies' ? 'bench-tenant' : 'bench-single';
  const namespaces = Array.from({ length: POLICY_NAMESPACES }, (_, k) => `${prefix}-${k}`);
  await mapLimit(namespaces, 8, (ns) => createNamespace(client, ns));
  const tenants = new Map<string, Tenant>();
  if (arm === 'policies') {
    ctx.log(
      `policies: ${POLICY_NAMESPACES} Secrets and grants, ${POLICY_NAMESPACES * POLICIES_PER_NAMESPACE} SigningPolicies`,
    );
    for (const t of await createTenants(client, namespaces)) tenants.set(t.ns, t);
  }
  // run i lives in namespace i mod 20; each namespace has its canary
  const runs = Array.from({ length: n }, (_, i) => ({ ns: namespaces[i % POLICY_NAMESPACES]!, name: `burst-${i}` }));
  const canaries = namespaces.map((ns) => ({ ns, name: 'canary' }));
  const imagesByNs = new Map<string, ImageRef[]>();
  for (const ns of namespaces) imagesByNs.set(ns, await ctx.images(ns, Math.ceil(n / POLICY_NAMESPACES) + 1));
  const imageOf = (i: number, ns: string): ImageRef => imagesByNs.get(ns)![Math.floor(i / POLICY_NAMESPACES)]!;
  await mapLimit([...runs, ...canaries], 32, (r) => createTaskRun(client, r.ns, r.name, undefined, RUN_LABELS));
  const watch = new SignedWatch(client, undefined, TASKRUNS, { keepAnnotations: true });
  await watch.synced;
  const proc = await ctx.startArm();
  try {
    if (!(await waitForLog(proc, /watching SigningPolicies/, 60_000)))
      throw new Error(
        `the controller did not log "watching SigningPolicies" within 60 s (CRDs missing?); see ${proc.logFile}`,
      );
    if (arm === 'policies') {
      const want = POLICY_NAMESPACES * POLICIES_PER_NAMESPACE;
      let last = { ready: 0, notReady: [] as string[] };
      const ok = await pollUntil(
        async () => {
          last = await readyPolicies(client, new Set(namespaces));
          return last.ready === want;
        },
        120_000,
        500,
      );
      if (!ok)
        throw new Error(
          `${last.ready}/${want} SigningPolicies Ready=True after 120 s, e.g. ${last.notReady.slice(0, 3).join('; ')}`,
        );
      ctx.log(`policies: all ${want} SigningPolicies Ready=True`);
    }
    // a canary per namespace: every namespace's signer (tenant Secret or the cluster key) is loaded before the clock
    await mapLimit(canaries, 20, (c) => completeTaskRun(client, c.ns, c.name, imagesByNs.get(c.ns)!.at(-1)!));
    const canaryKeys = canaries.map((c) => `${c.ns}/${c.name}`);
    if (!(await pollUntil(() => watch.countSigned(canaryKeys) === canaryKeys.length, CANARY_TIMEOUT_MS, 100)))
      throw new Error(
        `${watch.countSigned(canaryKeys)}/${canaryKeys.length} canaries signed within ${CANARY_TIMEOUT_MS / 1000} s; see ${proc.logFile}`,
      );
    const clusterKey = createPublicKey(readFileSync(join(SIGNING_SECRETS_DIR, 'x509.pem')));
    // fail before measuring if the canaries were signed under the wrong configuration
    checkSigners(arm, canaryKeys, watch.annotationsAt, tenants, clusterKey);

    const keys = runs.map((r) => `${r.ns}/${r.name}`);
    const keySet = new Set(keys);
    let guarded = 0;
    if (!(await pollUntil(async () => (guarded = await protectedRuns(client, keySet)) === n, 120_000, 250)))
      throw new Error(`the controller put its finalizer on ${guarded}/${n} running TaskRuns within 120 s`);

    const meter = new Meter(api, proc.pid, ctx);
    await meter.begin();
    ctx.log(`policies (${arm}): completing ${n} TaskRuns in ${POLICY_NAMESPACES} namespaces at once`);
    const t0 = Date.now();
    const completedAt = await mapLimit(runs, 64, (r, i) => completeTaskRun(client, r.ns, r.name, imageOf(i, r.ns)));
    const tCompleted = Date.now();
    const all = await pollUntil(() => watch.countSigned(keys) === n, ctx.timeoutMs, 100);
    const reading = await meter.end();
    const signedTimes = keys.map((k) => watch.signedAt.get(k));
    const latencies = signedTimes.flatMap((s, i) => (s === undefined ? [] : [(s - completedAt[i]!) / 1000]));
    const last = Math.max(...signedTimes.map((s) => s ?? 0));
    const elapsedS = ((latencies.length ? last : Date.now()) - t0) / 1000;
    const signed = Math.max(1, latencies.length);
    const signerCheck = checkSigners(arm, [...canaryKeys, ...keys], watch.annotationsAt, tenants, clusterKey);
    let writes = 0;
    let secretReads = 0;
    for (const [kind, v] of reading.byKind) {
      const [verb = '', resource = ''] = kind.split(' ');
      if (WRITE_VERBS.has(verb) && !resource.endsWith('/status')) writes += v;
      if (verb === 'GET' && resource === 'secrets') secretReads += v;
    }
    const figures: PoliciesFigures = {
      arm,
      namespaces: POLICY_NAMESPACES,
      policiesPerNamespace: arm === 'policies' ? POLICIES_PER_NAMESPACE : 0,
      secrets: tenants.size,
      writesPerRun: writes / signed,
      secretReadsPerRun: secretReads / signed,
      ...(reading.serverCpuSeconds !== undefined ? { serverCpuSecondsPerRun: reading.serverCpuSeconds / signed } : {}),
      signerCheck,
    };
    return {
      ...burstFigures('policies', n, latencies, elapsedS),
      cpuSecondsPerRun: reading.cpuSeconds / signed,
      peakRssMiB: reading.peakRssMiB,
      apiRequestsPerRun: reading.apiRequests / signed,
      timedOut: !all,
      policies: figures,
      notes: [
        arm === 'policies'
          ? `${POLICY_NAMESPACES} namespaces × ${POLICIES_PER_NAMESPACE} SigningPolicies (1 selects the runs), ${tenants.size} tenant Secrets`
          : `${POLICY_NAMESPACES} namespaces, no SigningPolicy (chains-config)`,
        requestMix(reading.byKind, latencies.length),
        machineNote(reading, latencies.length),
        `completing all ${n} took ${((tCompleted - t0) / 1000).toFixed(1)}s`,
        `signers checked: ${signerCheck}`,
      ],
    };
  } finally {
    watch.stop();
    await proc.stop();
  }
}

/**
 * The single-config arm, then the policies arm (BENCH_POLICIES_FIRST=1: the other way round), each with a fresh
 * controller on the same stack and a burst of `n` runs over 20 namespaces; one result per arm.
 */
export async function policies(ctx: WorkloadContext, n: number): Promise<WorkloadResult[]> {
  const order: PoliciesArm[] = process.env.BENCH_POLICIES_FIRST
    ? ['policies', 'single-config']
    : ['single-config', 'policies'];
  const out: WorkloadResult[] = [];
  for (const arm of order) out.push(await policiesArm(ctx, n, arm));
  return out;
}

// Issue 23's churn acceptance: three replicas share `buckets: "3"` (short Lease timings) while a burst of image-
// building TaskRuns completes; during the burst one replica is killed with -9, restarted, and killed with -9 again,
// and the Lease of a bucket another replica holds is deleted once. Then every run is signed exactly once (one `.sig`
// layer per image, never two `signed` log lines for a run), no finalizer is left and no run is marked failed.
//
// The second suite runs the same churn with `transparency.enabled` against the stack's Rekor v1 and adds the issue's
// "one tlog entry when transparency is on": every payload a run stored has exactly one entry by this test's (fresh)
// key in the log, and no other entry by that key exists. A replica killed between its upload and its mark leaves an
// entry; the replica that signs the run again makes the identical signature (RFC 6979, src/signing/
// deterministic-ecdsa.ts), so Rekor answers 409 and the entry is reused instead of a second one being added.
//
// CHAINSMITH_CHURN_RUNS sets the first burst's size (default CHURN_DEFAULT_RUNS below, the 1,000);
// CHAINSMITH_CHURN_TLOG_RUNS the second's (default CHURN_TLOG_DEFAULT_RUNS, see there). Timings are printed as
// diagnostics, never asserted.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TLOG_WORKERS } from '../src/controller/controller.js';
import { LEASES } from '../src/kube/client.js';
import type { TaskRun } from '../src/tekton/types.js';
import { rekorEnv, type RekorEnv } from './lib/env.js';
import { createNamespace, kube, randomSuffix, stackEnv, waitFor, type ControllerProcess } from './lib/index.js';
import { layersOf } from './lib/registry.js';
import {
  bucketsHeld,
  FAST_LEASES,
  imageRunBurst,
  killHard,
  queueInFlight,
  signedLogCounts,
  startReplica,
  taskRunsByName,
  waitAllSigned,
  waitForFairSplit,
  writeLeaderElectionConfig,
  type ImageRun,
} from './lib/replicas.js';
import { writeChainsConfig, x509SecretsDir } from './lib/scenario.js';

/**
 * The burst's default size: the 1,000, which takes 40-50 s on the project's 2-core machine (docs/testing.md,
 * "Replicas under churn"); CHAINSMITH_CHURN_RUNS lowers it.
 */
export const CHURN_DEFAULT_RUNS = 1000;
/**
 * The burst's default size with transparency on (two Rekor entries per run: the image signature and the attestation):
 * also the 1,000, about 80 s on the project's 2-core machine (docs/testing.md, "Replicas under churn");
 * CHAINSMITH_CHURN_TLOG_RUNS lowers it.
 */
export const CHURN_TLOG_DEFAULT_RUNS = 1000;
const BUCKETS = 3;
/** Workers per replica: bounds how many runs a killed replica can leave signed but not yet logged. */
const WORKERS = 8;
const TRANSPARENCY = 'chains.tekton.dev/transparency';
/** A run no replica signs fails the test after this long without progress, instead of the 30-minute signing wait. */
const STALL_MS = 180_000;

function runsFrom(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 10) throw new Error(`${variable} must be an integer ≥ 10, not "${raw}"`);
  return n;
}

/** `fn` over `items`, `limit` at a time, results in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** What one run of the churn leaves for the checks. */
interface ChurnOutcome {
  burst: ImageRun[];
  final: Map<string, TaskRun>;
  /** the `.sig` layers of each image, in burst order */
  sigLayers: Array<Array<{ digest: string }>>;
  /** the replicas that were killed with -9 */
  killed: ControllerProcess[];
}

/** Registers the churn suite; with `rekor`, transparency is on and `tlogChecks` runs after the common checks. */
function churnSuite(o: {
  title: string;
  runs: number;
  rekor?: () => RekorEnv;
  tlogChecks?: (t: TestContext, outcome: ChurnOutcome, ctx: SuiteContext) => Promise<string>;
}): void {
  describe(o.title, () => {
    const runs = o.runs;
    const replicas: ControllerProcess[] = [];
    const ctx: SuiteContext = {
      ns: '',
      systemNs: '',
      secretsDir: '',
      leaseName: '',
      publicKeyPem: '',
      treeSizeBefore: 0,
    };
    /** how many runs one replica works on at once: its workers, plus the tlog workers while transparency is on */
    const inFlightPerReplica = WORKERS + (o.rekor ? DEFAULT_TLOG_WORKERS : 0);

    const start = (): Promise<ControllerProcess> =>
      startReplica({
        ns: ctx.ns,
        systemNs: ctx.systemNs,
        secretsDir: ctx.secretsDir,
        leaseName: ctx.leaseName,
        extraArgs: ['--workers', String(WORKERS), ...(ctx.rekor ? [] : ['--tlog-workers', '0'])],
        // with Rekor's key, as an operator of a private Rekor sets it: every entry's SET (409s too) is checked
        env: ctx.rekor ? { SIGSTORE_REKOR_PUBLIC_KEY: ctx.rekor.publicKey } : {},
      });

    before(
      async () => {
        // rekorEnv() throws when the add-on is missing: the suite fails, it is never skipped
        if (o.rekor) ctx.rekor = o.rekor();
        ctx.ns = await createNamespace('churn');
        ctx.systemNs = await createNamespace('churn-sys');
        // a fresh key per suite: its entries in the shared log are this suite's, whatever else writes there
        ctx.secretsDir = await x509SecretsDir('chainsmith-churn-');
        ctx.publicKeyPem = await readFile(join(ctx.secretsDir, 'cosign.pub'), 'utf8');
        ctx.leaseName = `chainsmith-churn-${randomSuffix()}`;
        await writeChainsConfig(ctx.systemNs, {
          'artifacts.oci.storage': 'oci',
          'artifacts.taskrun.storage': 'tekton',
          ...(ctx.rekor ? { 'transparency.enabled': 'true', 'transparency.url': ctx.rekor.url } : {}),
        });
        await writeLeaderElectionConfig(ctx.systemNs, { buckets: String(BUCKETS), ...FAST_LEASES });
        if (ctx.rekor) ctx.treeSizeBefore = await rekorTreeSize(ctx.rekor.url);
        for (let k = 0; k < 3; k++) replicas.push(await start());
      },
      { timeout: 10 * 60_000 },
    );

    after(async () => {
      for (const c of replicas) await c.stop();
      if (ctx.secretsDir) await rm(ctx.secretsDir, { recursive: true, force: true });
    });

    test(
      `${runs} runs, one replica killed -9 twice and a bucket Lease deleted: every run signed exactly once`,
      { timeout: 45 * 60_000 },
      (t) => withLogsOnFailure(t, replicas, () => churn(t)),
    );

    async function churn(t: TestContext): Promise<void> {
      const t0 = Date.now();
      const secs = (): string => ((Date.now() - t0) / 1000).toFixed(1);
      const events: string[] = [];
      const note = (msg: string): void => {
        events.push(`${secs()}s: ${msg}`);
        t.diagnostic(`${secs()}s: ${msg}`);
      };
      await waitForFairSplit(replicas, BUCKETS, 180_000);
      note('buckets split one per replica');

      let created = 0;
      const reach = (k: number): Promise<boolean> =>
        waitFor(() => created >= k, { timeoutMs: 30 * 60_000, intervalMs: 100, description: `${k} runs created` });
      const victimIndex = 2;
      const killed: ControllerProcess[] = [];
      const kill = async (index: number, what: string): Promise<void> => {
        const victim = replicas[index]!;
        // diagnostic: how many runs the victim was working on when it died
        const inFlight = await queueInFlight(victim);
        await killHard(victim);
        killed.push(victim);
        note(`killed replica ${index} (-9) ${what}at ${created} runs created, ${inFlight ?? '?'} runs in flight in it`);
      };
      // The chaos runs beside the burst: kill -9, restart, delete another replica's bucket Lease, kill -9 again.
      const chaos = (async () => {
        await reach(Math.floor(runs * 0.15));
        await kill(victimIndex, '');
        replicas.push(await start());
        const restarted = replicas.length - 1;
        note(`restarted it as replica ${restarted} at ${created} runs created`);
        await reach(Math.floor(runs * 0.4));
        // a bucket held by another replica (not the restarted one): its Lease object deleted under it
        const other = replicas[0]!;
        const held = await waitFor(async () => ((await bucketsHeld(other)) ?? [])[0], {
          timeoutMs: 60_000,
          description: 'replica 0 holds a bucket',
        });
        const lease = `${ctx.leaseName}-bucket-${held}-of-${BUCKETS}`;
        const holder = (await kube().get<{ spec: { holderIdentity?: string } }>(LEASES, ctx.systemNs, lease))?.spec
          .holderIdentity;
        assert.ok(await kube().delete(LEASES, ctx.systemNs, lease), `the Lease ${lease} existed`);
        note(`deleted Lease ${lease} (held by ${holder}) at ${created} runs created`);
        await reach(Math.floor(runs * 0.65));
        await kill(restarted, 'again ');
      })();
      // a failed chaos step fails the test after the burst, not as an unhandled rejection
      const chaosDone = chaos.then(
        () => undefined,
        (err: unknown) => err,
      );

      const repository = `${stackEnv().registry}/churn-${randomSuffix()}/app`;
      const burst: ImageRun[] = await imageRunBurst(ctx.ns, runs, {
        repository,
        concurrency: 8,
        onCreated: (n) => {
          created = n;
        },
      });
      note(
        `all ${runs} runs completed${events.length < 5 ? ' (before the chaos finished: its last steps hit the signing tail)' : ''}`,
      );
      const chaosError = await chaosDone;
      if (chaosError) throw chaosError;
      note(`chaos finished at ${created} runs created`);

      const names = burst.map((r) => r.name);
      await waitAllSigned(ctx.ns, names, 30 * 60_000, { stallMs: STALL_MS });
      note(`all ${runs} runs marked signed, no finalizer left`);

      // no run marked failed, none with a finalizer
      const final = await taskRunsByName(ctx.ns);
      const bad = names.flatMap((n) => {
        const tr: TaskRun | undefined = final.get(n);
        const signed = tr?.metadata.annotations?.['chains.tekton.dev/signed'];
        const fins = tr?.metadata.finalizers ?? [];
        return signed === 'true' && fins.length === 0 ? [] : [`${n}: signed=${signed} finalizers=${fins.join(',')}`];
      });
      assert.deepEqual(bad, [], 'runs not signed cleanly');

      // exactly one signature per image in the registry
      const sigLayers = await mapLimit(burst, 16, (r) =>
        layersOf(r.image.repository, `sha256-${r.image.digest.slice('sha256:'.length)}.sig`),
      );
      const notOne = burst.flatMap((r, i) =>
        sigLayers[i]!.length === 1 ? [] : [`${r.name}: ${sigLayers[i]!.length} .sig layers`],
      );
      assert.deepEqual(notOne, [], 'images without exactly one .sig layer');

      // never two `signed` log lines for one run; a replica killed between its mark and its log line may have left
      // a run signed with no line at all, at most one per run in flight per kill
      const counts = signedLogCounts(replicas);
      const twice = names.filter((n) => (counts.get(n) ?? 0) > 1).map((n) => `${n}: ${counts.get(n)}`);
      assert.deepEqual(twice, [], 'runs logged as signed more than once');
      const unlogged = names.filter((n) => !counts.has(n));
      assert.ok(
        unlogged.length <= 2 * inFlightPerReplica,
        `${unlogged.length} runs have no signed log line (at most ${2 * inFlightPerReplica} may be in flight at ` +
          'the two kills)',
      );
      const moves = replicas
        .flatMap((c) => c.jsonLogs())
        .filter((l) => l.message === 'gained a bucket' || l.message === 'lost a bucket').length;
      note(
        `checked: ${runs} runs, one .sig layer each, ${runs - unlogged.length} logged once, ${unlogged.length} ` +
          `signed by a replica killed before its log line; ${moves} bucket moves logged`,
      );
      if (o.tlogChecks) note(await o.tlogChecks(t, { burst, final, sigLayers, killed }, ctx));
      t.diagnostic(`churn timeline: ${events.join(' | ')}`);
    }
  });
}

/** Runs `body`; when it fails, writes every replica's output (the killed ones' too) to files and names them. */
async function withLogsOnFailure(
  t: TestContext,
  replicas: ControllerProcess[],
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (err) {
    const dir = await mkdtemp(join(tmpdir(), 'chainsmith-churn-logs-'));
    await Promise.all(replicas.map((c, i) => writeFile(join(dir, `replica-${i}.log`), c.logs())));
    t.diagnostic(`the replicas' logs: ${dir}`);
    throw err;
  }
}

/** What a suite sets up, shared with its checks. */
interface SuiteContext {
  ns: string;
  systemNs: string;
  secretsDir: string;
  leaseName: string;
  /** the signing key's public key (SPKI PEM), as the controller puts it in every Rekor entry */
  publicKeyPem: string;
  rekor?: RekorEnv;
  /** the log's size before the replicas started */
  treeSizeBefore: number;
}

/** The number of entries in the Rekor v1 log (all shards). */
async function rekorTreeSize(url: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/log`);
  assert.equal(res.status, 200, `GET ${url}/api/v1/log`);
  const log = (await res.json()) as { treeSize: number; inactiveShards?: Array<{ treeSize: number }> | null };
  return log.treeSize + (log.inactiveShards ?? []).reduce((sum, s) => sum + s.treeSize, 0);
}

interface LoggedEntry {
  logIndex: number;
  kind: string;
  /** sha256 (hex) of the signed payload: the simplesigning JSON, or the statement inside the DSSE envelope */
  payloadHash: string;
  /** the decoded body, to tell this suite's entries (its public key) from other tests' */
  body: string;
}

/** The entry at `logIndex`, its body decoded. */
async function rekorEntry(url: string, logIndex: number): Promise<LoggedEntry> {
  const entry = await waitFor(
    async () => {
      const res = await fetch(`${url}/api/v1/log/entries?logIndex=${logIndex}`);
      if (res.status !== 200) throw new Error(`GET entry ${logIndex}: ${res.status}`);
      return Object.values((await res.json()) as Record<string, { body: string }>)[0];
    },
    { timeoutMs: 30_000, intervalMs: 500, description: `Rekor entry ${logIndex}` },
  );
  const body = Buffer.from(entry.body, 'base64').toString('utf8');
  const parsed = JSON.parse(body) as { kind: string; spec: unknown };
  const at = (...path: string[]): unknown =>
    path.reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      parsed.spec,
    );
  const payloadHash = {
    hashedrekord: at('data', 'hash', 'value'),
    dsse: at('payloadHash', 'value'),
    intoto: at('content', 'payloadHash', 'value'),
  }[parsed.kind];
  return { logIndex, kind: parsed.kind, payloadHash: typeof payloadHash === 'string' ? payloadHash : '', body };
}

/**
 * Exactly once in the log: every payload the runs stored (each image's simplesigning payload, each run's provenance
 * statement) has exactly one entry by the suite's key, there is no other entry by that key, and every run's
 * `chains.tekton.dev/transparency` annotation names one of them. Returns a summary for the timeline.
 */
async function assertOneEntryPerPayload(t: TestContext, outcome: ChurnOutcome, ctx: SuiteContext): Promise<string> {
  const rekor = ctx.rekor!;
  // Rekor v1 answers an upload once the entry is in the tree; the pause covers an upload still in flight when the
  // last mark was written (a killed replica's request the server completes anyway)
  await new Promise((r) => setTimeout(r, 5000));
  const treeSizeAfter = await rekorTreeSize(rekor.url);
  const indexes = Array.from({ length: treeSizeAfter - ctx.treeSizeBefore }, (_, i) => ctx.treeSizeBefore + i);
  const entries = await mapLimit(indexes, 16, (i) => rekorEntry(rekor.url, i));
  const keyB64 = Buffer.from(ctx.publicKeyPem).toString('base64');
  const ours = entries.filter((e) => e.body.includes(keyB64));

  // what the runs stored: the payload of each image's one .sig layer (its digest is the payload's sha256) and the
  // statement in each run's `tekton` storage annotation
  const expected = new Map<string, string>();
  outcome.burst.forEach((r, i) => {
    expected.set(outcome.sigLayers[i]![0]!.digest.replace(/^sha256:/, ''), `${r.name} image signature`);
    const tr = outcome.final.get(r.name)!;
    const payload = tr.metadata.annotations?.[`chains.tekton.dev/payload-taskrun-${tr.metadata.uid}`];
    assert.ok(payload, `${r.name} has its provenance in chains.tekton.dev/payload-taskrun-<uid>`);
    expected.set(createHash('sha256').update(Buffer.from(payload, 'base64')).digest('hex'), `${r.name} provenance`);
  });

  const byHash = new Map<string, number[]>();
  for (const e of ours) byHash.set(e.payloadHash, [...(byHash.get(e.payloadHash) ?? []), e.logIndex]);
  const twice = [...byHash].flatMap(([hash, ix]) =>
    ix.length > 1 ? [`${expected.get(hash) ?? hash}: entries ${ix.join(', ')}`] : [],
  );
  const stray = [...byHash].flatMap(([hash, ix]) =>
    expected.has(hash) ? [] : [`entries ${ix.join(', ')}: payload ${hash} that no run stored`],
  );
  const missing = [...expected].flatMap(([hash, what]) => (byHash.has(hash) ? [] : [what]));
  t.diagnostic(
    `tlog: ${treeSizeAfter - ctx.treeSizeBefore} new entries in the log, ${ours.length} by this suite's key ` +
      `(${ours.filter((e) => e.kind === 'hashedrekord').length} hashedrekord), ${twice.length} payloads logged twice`,
  );
  assert.deepEqual(twice, [], 'payloads with more than one entry in the transparency log');
  assert.deepEqual(stray, [], 'entries by this suite’s key for payloads no run stored');
  assert.deepEqual(missing, [], 'payloads stored without an entry');
  assert.equal(ours.length, 2 * outcome.burst.length, 'two entries per run: image signature and provenance');

  // every run's annotation names one of this suite's entries
  const ourIndexes = new Set(ours.map((e) => e.logIndex));
  const prefix = `${rekor.url}/api/v1/log/entries?logIndex=`;
  const badAnnotation = outcome.burst.flatMap((r) => {
    const url = outcome.final.get(r.name)?.metadata.annotations?.[TRANSPARENCY] ?? '';
    const index = url.startsWith(prefix) ? Number(url.slice(prefix.length)) : NaN;
    return ourIndexes.has(index) ? [] : [`${r.name}: ${TRANSPARENCY}="${url}"`];
  });
  assert.deepEqual(badAnnotation, [], `runs without a ${TRANSPARENCY} annotation naming their entry`);

  // diagnostic: images a killed replica had uploaded without marking their run; the run was signed again elsewhere
  // and the identical signature got Rekor's 409 (the existing entry), not a second entry
  const runOfImage = new Map(outcome.burst.map((r) => [`${r.image.repository}@${r.image.digest}`, r.name]));
  const reSigned = outcome.killed.map((c) => {
    const logs = c.jsonLogs();
    const marked = new Set(logs.filter((l) => l.message === 'signed').map((l) => l.name));
    return logs.filter(
      (l) =>
        l.message === 'uploaded to the transparency log' &&
        runOfImage.has(String(l.key)) &&
        !marked.has(runOfImage.get(String(l.key))),
    ).length;
  });
  return (
    `tlog checked: ${ours.length} entries for ${outcome.burst.length} runs, one per payload; image signatures ` +
    `uploaded by a killed replica before its mark and signed again elsewhere: ${reSigned.join(' and ')}`
  );
}

churnSuite({
  title: 'buckets under churn: kill -9 twice and a deleted Lease during a burst',
  runs: runsFrom('CHAINSMITH_CHURN_RUNS', CHURN_DEFAULT_RUNS),
});

churnSuite({
  title: 'buckets under churn with transparency on: one Rekor entry per payload',
  runs: runsFrom('CHAINSMITH_CHURN_TLOG_RUNS', CHURN_TLOG_DEFAULT_RUNS),
  rekor: rekorEnv,
  tlogChecks: assertOneEntryPerPayload,
});

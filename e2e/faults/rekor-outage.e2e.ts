// Fault scenario (issue 17, docs/reliability.md): the stack's real Rekor stopped mid-burst with
// `transparency.enabled: "true"`. While it is down no run is marked signed and the runs carry a TransparencyFailed
// Event that says why; after it returns every run ends signed with exactly one log entry per signature (each stored
// payload's hash finds one entry with `rekor-cli search`), so retries did not add entries, and none is marked failed.
// Each run has an attestation and an image signature (both in `tekton` storage: no registry involved), so a run can
// be cut off between its two uploads. FAULTS_REKOR_RUNS (CI and full 100), FAULTS_OUTAGE_SECONDS (CI 15, full 60).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FULL,
  buildRun,
  knob,
  listRuns,
  pool,
  recordResult,
  scenario,
  scenarioTimeoutMs,
  sleep,
  stackDaemon,
  tally,
  waitAllMarked,
  type Scenario,
  type StackDaemon,
} from './lib.js';
import { eventsOf, randomSuffix, stackEnv, waitFor } from '../lib/index.js';
import { rekorEnv } from '../lib/env.js';
import { runTool } from '../lib/cosign.js';

const RUNS = knob('FAULTS_REKOR_RUNS', 100, 100);
const OUTAGE_SECONDS = knob('FAULTS_OUTAGE_SECONDS', 15, 60);

let s: Scenario | undefined;
let rekor: StackDaemon | undefined;
let cliHome: string | undefined;

async function rekorHealthy(url: string): Promise<void> {
  const ok = async () =>
    (await fetch(`${url}/api/v1/log`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status === 200;
  await waitFor(ok, { timeoutMs: 60_000, intervalMs: 200, description: 'rekor-server /api/v1/log' });
}

after(async () => {
  if (rekor && !rekor.alive()) await rekor.start();
  if (rekor) await rekorHealthy(rekorEnv().url);
  await s?.teardown();
  if (cliHome) await rm(cliHome, { recursive: true, force: true });
});

/** How many entries `rekor-cli search --sha` finds for a payload (0 when none). */
async function entriesFor(payload: Buffer): Promise<number> {
  const { url, cli } = rekorEnv();
  const sha = createHash('sha256').update(payload).digest('hex');
  const r = await runTool(cli, ['search', '--sha', `sha256:${sha}`, '--rekor_server', url], { HOME: cliHome! });
  if (r.code !== 0) {
    assert.match(r.out, /no matching entries found/i, r.out);
    return 0;
  }
  return r.out.split('\n').filter((l) => /^[0-9a-f]{64,80}$/.test(l.trim())).length;
}

test(
  `Rekor stopped ${OUTAGE_SECONDS} s during a burst of ${RUNS} runs: none signed while down, all signed after with one entry per signature`,
  { timeout: scenarioTimeoutMs(300_000) },
  async () => {
    const { url } = rekorEnv();
    cliHome = await mkdtemp(join(tmpdir(), 'rekor-cli-home-'));
    s = await scenario('rekor', {
      'artifacts.taskrun.format': 'in-toto',
      'artifacts.taskrun.storage': 'tekton',
      'artifacts.oci.storage': 'tekton',
      'transparency.enabled': 'true',
      'transparency.url': url,
    });
    rekor = stackDaemon('rekor-server');
    // unique digests: each image signature is its own payload, so its entry count is its own
    const tag = randomSuffix();
    const images = Array.from({ length: RUNS }, (_, i) => ({
      repository: `${stackEnv().registry}/faults/rekor-${tag}-${i}`,
      digest: `sha256:${randomBytes(32).toString('hex')}`,
    }));
    const controller = await s.start();
    await controller.waitForLog(/informers synced/, 30_000);

    let failedSeen = 0;
    let watching = true;
    let signedWhileDown = 0;
    let down = false;
    let baseline = 0;
    const watcher = (async () => {
      while (watching) {
        const t = await tally(s!.ns).catch(() => undefined);
        if (t) {
          failedSeen = Math.max(failedSeen, t.failed);
          if (down) signedWhileDown = Math.max(signedWhileDown, t.signed - baseline);
        }
        await sleep(300);
      }
    })();

    const firstHalf = Math.floor(RUNS / 2);
    await pool(images.slice(0, firstHalf), 4, (img) => buildRun(s!.ns, img));
    await waitFor(async () => (await tally(s!.ns)).signed >= Math.min(3, firstHalf), {
      timeoutMs: 60_000,
      description: 'a few runs signed',
    });

    await rekor.stop();
    const downAt = Date.now();
    // runs whose uploads had all finished when Rekor stopped may still get their mark: let them land first
    await sleep(3_000);
    baseline = (await tally(s.ns)).signed;
    down = true;
    await pool(images.slice(firstHalf), 4, (img) => buildRun(s!.ns, img));
    await sleep(Math.max(0, OUTAGE_SECONDS * 1000 - (Date.now() - downAt)));
    const during = await tally(s.ns);
    down = false;
    await rekor.start();
    await rekorHealthy(url);
    const upAt = Date.now();

    const t = await waitAllMarked(s.ns, RUNS, FULL ? 20 * 60_000 : 180_000);
    const allSignedAfter = (Date.now() - upAt) / 1000;
    watching = false;
    await watcher;

    // the Events of a run that waited say why
    const runs = await listRuns(s.ns);
    const waited = runs.filter((r) => r.metadata.annotations?.['chains.tekton.dev/signed'] === 'true');
    const reasons = new Set<string>();
    for (const r of waited.slice(-10)) {
      for (const e of await eventsOf(s.ns, { name: r.metadata.name! }))
        if (e.reason === 'TransparencyFailed') reasons.add(e.message ?? '');
    }

    // exactly one log entry per stored signature: the payloads in the run annotations, searched by hash
    const payloads: Buffer[] = [];
    for (const r of runs) {
      const a = r.metadata.annotations ?? {};
      for (const [k, v] of Object.entries(a))
        if (k.startsWith('chains.tekton.dev/payload-')) payloads.push(Buffer.from(v, 'base64'));
    }
    const counts = await pool(payloads, 8, entriesFor);
    const missing = counts.filter((c) => c === 0).length;
    const extra = counts.filter((c) => c > 1).length;
    const transientLines = controller
      .jsonLogs()
      .filter((l) => l.message === 'signing failed' && l.transient === true).length;
    await recordResult({
      scenario: 'rekor-outage',
      mode: FULL ? 'full' : 'ci',
      runs: RUNS,
      lost: t.unsigned + missing,
      duplicated: extra,
      falselyMarked: t.unbacked + signedWhileDown,
      failed: Math.max(failedSeen, t.failed),
      recoverySeconds: [allSignedAfter],
      notes: `Rekor down ${((upAt - downAt) / 1000).toFixed(1)} s; ${during.unsigned} runs waiting when it returned; ${transientLines} transient retries logged; ${payloads.length} signatures, each searched with rekor-cli; time = Rekor back → every run signed`,
    });
    assert.ok(during.unsigned > 0, 'the outage held runs back (otherwise it tested nothing)');
    assert.equal(signedWhileDown, 0, 'no run was marked signed while Rekor was down');
    assert.ok(transientLines > 0, 'the failures were recognised as transient');
    assert.ok(
      [...reasons].some((m) => m.includes(`rekor ${url}`) && /transient; retrying/.test(m)),
      `a TransparencyFailed Event names the log and says it is retried: ${[...reasons].join(' | ')}`,
    );
    assert.equal(failedSeen, 0, 'signed "failed" never appeared during the outage');
    assert.equal(t.failed, 0);
    assert.equal(t.signed, RUNS);
    assert.equal(t.unbacked, 0);
    assert.equal(payloads.length, 2 * RUNS, 'an attestation and an image signature per run');
    assert.equal(missing, 0, 'every stored signature has its entry');
    assert.equal(extra, 0, 'no signature has a second entry after the retries');
  },
);

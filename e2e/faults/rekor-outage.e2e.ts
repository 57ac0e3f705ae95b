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
  answers200,
  outageBurst,
  pool,
  knob,
  listRuns,
  recordResult,
  scenario,
  scenarioTimeoutMs,
  stackDaemon,
  type Scenario,
  type StackDaemon,
} from './lib.js';
import { eventsOf, randomSuffix, stackEnv } from '../lib/index.js';
import { rekorEnv } from '../lib/env.js';
import { runTool } from '../lib/cosign.js';

const RUNS = knob('FAULTS_REKOR_RUNS', 100, 100);
const OUTAGE_SECONDS = knob('FAULTS_OUTAGE_SECONDS', 15, 60);

let s: Scenario | undefined;
let rekor: StackDaemon | undefined;
let cliHome: string | undefined;

const rekorHealthy = (url: string) => answers200(`${url}/api/v1/log`, 'rekor-server /api/v1/log', 60_000);

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

    const o = await outageBurst(s.ns, rekor, images, {
      outageSeconds: OUTAGE_SECONDS,
      healthy: () => rekorHealthy(url),
    });
    const t = o.final;

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
      falselyMarked: t.unbacked + o.signedWhileDown,
      failed: o.failedSeen,
      recoverySeconds: [o.recoverySeconds],
      notes: `Rekor down ${o.downSeconds.toFixed(1)} s; ${o.during.unsigned} runs waiting when it returned; ${transientLines} transient retries logged; ${payloads.length} signatures, each searched with rekor-cli; time = Rekor back → every run signed`,
    });
    assert.ok(o.during.unsigned > 0, 'the outage held runs back (otherwise it tested nothing)');
    assert.equal(o.signedWhileDown, 0, 'no run was marked signed while Rekor was down');
    assert.ok(transientLines > 0, 'the failures were recognised as transient');
    assert.ok(
      [...reasons].some((m) => m.includes(`rekor ${url}`) && /transient; retrying/.test(m)),
      `a TransparencyFailed Event names the log and says it is retried: ${[...reasons].join(' | ')}`,
    );
    assert.equal(o.failedSeen, 0, 'signed "failed" never appeared during the outage');
    assert.equal(t.signed, RUNS);
    assert.equal(t.unbacked, 0);
    assert.equal(payloads.length, 2 * RUNS, 'an attestation and an image signature per run');
    assert.equal(missing, 0, 'every stored signature has its entry');
    assert.equal(extra, 0, 'no signature has a second entry after the retries');
  },
);

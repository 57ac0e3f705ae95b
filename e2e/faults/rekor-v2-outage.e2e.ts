// Fault scenario (issue 20, docs/reliability.md): `chainsmith.signing-config` with the stack's Rekor v2 and timestamp
// authority, each stopped in turn during a burst of runs. While one is down no run is marked signed and the runs carry
// a TransparencyFailed Event naming that service and saying it is retried; after it returns every run ends signed
// (each signature with its Rekor v2 entry and timestamp), none marked failed. FAULTS_REKOR_V2_RUNS (CI 20, full 100),
// FAULTS_OUTAGE_SECONDS (CI 10, full 60).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  FULL,
  answers200,
  outageBurst,
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
import { sigstore2Env } from '../lib/env.js';

const RUNS = knob('FAULTS_REKOR_V2_RUNS', 20, 100);
const OUTAGE_SECONDS = knob('FAULTS_OUTAGE_SECONDS', 10, 60);

const scenarios: Scenario[] = [];
const daemons: StackDaemon[] = [];

after(async () => {
  for (const d of daemons) if (!d.alive()) await d.start();
  await Promise.all(scenarios.map((s) => s.teardown()));
});

for (const [service, daemon, healthy, names] of [
  [
    'Rekor v2',
    'rekor-v2',
    (env: ReturnType<typeof sigstore2Env>) => answers200(`${env.rekorV2Url}/healthz`, 'rekor v2 /healthz', 60_000),
    (env: ReturnType<typeof sigstore2Env>) => `rekor v2 ${env.rekorV2Url}`,
  ],
  [
    'the timestamp authority',
    'tsa',
    (env: ReturnType<typeof sigstore2Env>) =>
      answers200(`${env.tsaUrl}/certchain`, 'timestamp authority /certchain', 60_000),
    (env: ReturnType<typeof sigstore2Env>) => `timestamp authority ${env.tsaUrl}`,
  ],
] as const) {
  test(
    `${service} stopped ${OUTAGE_SECONDS} s during a burst of ${RUNS} runs: none signed while down, all signed after`,
    { timeout: scenarioTimeoutMs(300_000) },
    async () => {
      const env = sigstore2Env();
      const s = await scenario(`rekor-v2-${daemon}`, {
        'artifacts.taskrun.format': 'in-toto',
        'artifacts.taskrun.storage': 'tekton',
        'artifacts.oci.storage': 'tekton',
        'transparency.enabled': 'true',
        'chainsmith.signing-config': env.signingConfig,
      });
      scenarios.push(s);
      const d = stackDaemon(daemon);
      daemons.push(d);
      const tag = randomSuffix();
      const images = Array.from({ length: RUNS }, (_, i) => ({
        repository: `${stackEnv().registry}/faults/rekor-v2-${tag}-${i}`,
        digest: `sha256:${randomBytes(32).toString('hex')}`,
      }));
      const controller = await s.start();
      await controller.waitForLog(/informers synced/, 30_000);
      const o = await outageBurst(s.ns, d, images, { outageSeconds: OUTAGE_SECONDS, healthy: () => healthy(env) });
      const t = o.final;

      const runs = await listRuns(s.ns);
      const reasons = new Set<string>();
      for (const r of runs.slice(-10))
        for (const e of await eventsOf(s.ns, { name: r.metadata.name! }))
          if (e.reason === 'TransparencyFailed') reasons.add(e.message ?? '');
      const transparency = runs.map((r) => r.metadata.annotations?.['chains.tekton.dev/transparency'] ?? '');
      const notV2 = transparency.filter((u) => !u.startsWith(`${env.rekorV2Url}#logIndex=`)).length;
      await recordResult({
        scenario: `rekor-v2-outage-${daemon}`,
        mode: FULL ? 'full' : 'ci',
        runs: RUNS,
        lost: t.unsigned,
        duplicated: 0,
        falselyMarked: t.unbacked + o.signedWhileDown,
        failed: o.failedSeen,
        recoverySeconds: [o.recoverySeconds],
        notes: `${service} down ${o.downSeconds.toFixed(1)} s; ${o.during.unsigned} runs waiting when it returned; time = back → every run signed`,
      });
      assert.ok(o.during.unsigned > 0, 'the outage held runs back (otherwise it tested nothing)');
      assert.equal(o.signedWhileDown, 0, `no run was marked signed while ${service} was down`);
      assert.ok(
        [...reasons].some((m) => m.includes(names(env)) && /transient; retrying/.test(m)),
        `a TransparencyFailed Event names ${service} and says it is retried: ${[...reasons].join(' | ')}`,
      );
      assert.equal(o.failedSeen, 0, 'signed "failed" never appeared during the outage');
      assert.equal(t.signed, RUNS);
      assert.equal(t.unbacked, 0);
      assert.equal(notV2, 0, 'every run names its Rekor v2 entry');
    },
  );
}

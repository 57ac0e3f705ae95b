// Fault scenario (issue 18, docs/reliability.md): keyless signing with the stack's real Fulcio stopped mid-burst.
// While it is down no run is marked signed and the runs carry a KeylessFailed Event that names Fulcio; after it
// returns (same CA, so the same root) every run ends signed with a certificate for the controller's ServiceAccount,
// none marked failed. The identity token used is saved with the scenario's secrets, so security.e2e.ts (which runs
// after this file) checks it never reached a log or an Event. FAULTS_KEYLESS_RUNS (CI 40, full 100),
// FAULTS_OUTAGE_SECONDS (CI 15, full 60).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FULL,
  answers200,
  outageBurst,
  knob,
  listRuns,
  recordResult,
  saveSecrets,
  scenario,
  scenarioTimeoutMs,
  stackDaemon,
  type Scenario,
  type StackDaemon,
} from './lib.js';
import { eventsOf, randomSuffix, stackEnv } from '../lib/index.js';
import { fulcioEnv, rekorEnv } from '../lib/env.js';
import { createServiceAccount, serviceAccountIdentity, serviceAccountToken } from '../lib/identity.js';

const RUNS = knob('FAULTS_KEYLESS_RUNS', 40, 100);
const OUTAGE_SECONDS = knob('FAULTS_OUTAGE_SECONDS', 15, 60);
const SA = 'chainsmith-keyless';

let s: Scenario | undefined;
let fulcio: StackDaemon | undefined;
let tokenDir: string | undefined;

const fulcioHealthy = (url: string) => answers200(`${url}/api/v1/rootCert`, 'fulcio /api/v1/rootCert', 60_000);

after(async () => {
  if (fulcio && !fulcio.alive()) await fulcio.start();
  if (fulcio) await fulcioHealthy(fulcioEnv().url);
  await s?.teardown();
  if (tokenDir) await rm(tokenDir, { recursive: true, force: true });
});

test(
  `Fulcio stopped ${OUTAGE_SECONDS} s during a burst of ${RUNS} keyless runs: none signed while down, all signed after`,
  { timeout: scenarioTimeoutMs(300_000) },
  async () => {
    const f = fulcioEnv();
    tokenDir = await mkdtemp(join(tmpdir(), 'faults-keyless-'));
    const tokenFile = join(tokenDir, 'oidc-token');
    s = await scenario('fulcio', {
      'artifacts.taskrun.format': 'in-toto',
      'artifacts.taskrun.storage': 'tekton',
      'artifacts.oci.storage': 'tekton',
      'signers.x509.fulcio.enabled': 'true',
      'signers.x509.fulcio.address': f.url,
      'signers.x509.fulcio.issuer': f.issuer,
      'signers.x509.identity.token.file': tokenFile,
      'transparency.enabled': 'true',
      'transparency.url': rekorEnv().url,
    });
    await createServiceAccount(s.systemNs, SA);
    const token = await serviceAccountToken(s.systemNs, SA, 'sigstore', 3600);
    await writeFile(tokenFile, token, { mode: 0o600 });
    await saveSecrets('fulcio-token', [token, token.split('.')[2]!]);
    fulcio = stackDaemon('fulcio');
    const tag = randomSuffix();
    const images = Array.from({ length: RUNS }, (_, i) => ({
      repository: `${stackEnv().registry}/faults/keyless-${tag}-${i}`,
      digest: `sha256:${randomBytes(32).toString('hex')}`,
    }));
    const controller = await s.start();
    await controller.waitForLog(/informers synced/, 30_000);

    const o = await outageBurst(s.ns, fulcio, images, {
      outageSeconds: OUTAGE_SECONDS,
      healthy: () => fulcioHealthy(f.url),
    });
    const t = o.final;

    const runs = await listRuns(s.ns);
    const reasons = new Set<string>();
    for (const r of runs.slice(-10))
      for (const e of await eventsOf(s.ns, { name: r.metadata.name! }))
        if (e.reason === 'KeylessFailed') reasons.add(e.message ?? '');
    const identity = `URI:${serviceAccountIdentity(s.systemNs, SA)}`;
    const wrongIdentity = runs.filter((r) => {
      const cert = r.metadata.annotations?.[`chains.tekton.dev/cert-taskrun-${r.metadata.uid}`];
      return !cert || new X509Certificate(Buffer.from(cert, 'base64')).subjectAltName !== identity;
    }).length;
    const transientLines = controller
      .jsonLogs()
      .filter((l) => l.message === 'signing failed' && l.transient === true).length;
    await recordResult({
      scenario: 'fulcio-outage',
      mode: FULL ? 'full' : 'ci',
      runs: RUNS,
      lost: t.unsigned,
      duplicated: 0,
      falselyMarked: t.unbacked + o.signedWhileDown + wrongIdentity,
      failed: o.failedSeen,
      recoverySeconds: [o.recoverySeconds],
      notes: `Fulcio down ${o.downSeconds.toFixed(1)} s; ${o.during.unsigned} runs waiting when it returned; ${transientLines} transient retries logged; every run's certificate names the controller's ServiceAccount; time = Fulcio back → every run signed`,
    });
    assert.ok(o.during.unsigned > 0, 'the outage held runs back (otherwise it tested nothing)');
    assert.equal(o.signedWhileDown, 0, 'no run was marked signed while Fulcio was down');
    assert.ok(transientLines > 0, 'the failures were recognised as transient');
    assert.ok(
      [...reasons].some((m) => m.includes(`fulcio ${f.url}`) && /transient; retrying/.test(m)),
      `a KeylessFailed Event names Fulcio and says it is retried: ${[...reasons].join(' | ')}`,
    );
    assert.equal(o.failedSeen, 0, 'signed "failed" never appeared during the outage');
    assert.equal(t.signed, RUNS);
    assert.equal(t.unbacked, 0);
    assert.equal(wrongIdentity, 0, 'every run carries a certificate for the controller’s ServiceAccount');
  },
);
